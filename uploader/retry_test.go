package uploader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func respErr(status int, code string, header http.Header) error {
	return apiErrWith(status, code, "m", header)
}

// apiErr is an SDK error with a status, code and message, as a PutObject
// answer arrives; a HEAD answer has no body, so code and message are "".
func apiErr(status int, code, msg string) error { return apiErrWith(status, code, msg, nil) }

func apiErrWith(status int, code, msg string, header http.Header) error {
	if header == nil {
		header = http.Header{}
	}
	return &smithy.OperationError{ServiceID: "S3", OperationName: "PutObject", Err: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: header}},
		Err:      &smithy.GenericAPIError{Code: code, Message: msg},
	}}
}

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		name  string
		err   error
		retry bool
		after time.Duration
	}{
		{"503 with Retry-After", respErr(503, "SlowDown", http.Header{"Retry-After": {"3"}}), true, 3 * time.Second},
		{"429", respErr(429, "TooManyRequests", nil), true, 0},
		{"500", respErr(500, "InternalError", nil), true, 0},
		{"bad digest", respErr(400, "BadDigest", nil), true, 0},
		{"sha1 mismatch", respErr(400, "XAmzContentChecksumMismatch", nil), true, 0},
		{"403 is final", respErr(403, "AccessDenied", nil), false, 0},
		{"404 is final", respErr(404, "NoSuchBucket", nil), false, 0},
		{"412 is final", respErr(412, "PreconditionFailed", nil), false, 0},
		{"501 is never transient", respErr(501, "NotImplemented", nil), false, 0},
		{"501 even with Retry-After", respErr(501, "NotImplemented", http.Header{"Retry-After": {"1"}}), false, 0},
		{"reset", &smithyhttp.RequestSendError{Err: &net.OpError{Op: "write", Err: syscall.ECONNRESET}}, true, 0},
		{"refused", fmt.Errorf("x: %w", syscall.ECONNREFUSED), true, 0},
		{"truncated", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true, 0},
		{"no such host", &net.DNSError{Err: "no such host", Name: "nope.invalid", IsNotFound: true}, false, 0},
		{"cancelled", fmt.Errorf("x: %w", context.Canceled), false, 0},
	} {
		retry, after := classify(c.err)
		if retry != c.retry || after != c.after {
			t.Errorf("%s: classify = %v, %v; want %v, %v", c.name, retry, after, c.retry, c.after)
		}
	}
}

func TestPolicyDo(t *testing.T) {
	p := Policy{Attempts: 4, Base: time.Millisecond, Max: 4 * time.Millisecond, MaxRetryAfter: time.Second}
	calls := 0
	err := p.Do(t.Context(), "op", func(context.Context) error {
		calls++
		if calls < 3 {
			return respErr(503, "SlowDown", nil)
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("Do = %v after %d calls, want success on the 3rd", err, calls)
	}

	calls = 0
	final := respErr(403, "AccessDenied", nil)
	if err := p.Do(t.Context(), "op", func(context.Context) error { calls++; return final }); !errors.Is(err, final) || calls != 1 {
		t.Fatalf("final error: Do = %v after %d calls, want 1 call", err, calls)
	}

	calls = 0
	if err := p.Do(t.Context(), "op", func(context.Context) error { calls++; return respErr(500, "InternalError", nil) }); err == nil || calls != 4 {
		t.Fatalf("Do = %v after %d calls, want failure after 4", err, calls)
	}

	ctx, cancel := context.WithCancel(t.Context())
	slow := Policy{Attempts: 5, Base: time.Hour, Max: time.Hour}
	slow.OnRetry = func(string, int, error, time.Duration) { cancel() }
	if err := slow.Do(ctx, "op", func(context.Context) error { return respErr(503, "SlowDown", nil) }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: Do = %v, want context.Canceled", err)
	}
}

func TestBackoffBounds(t *testing.T) {
	p := Policy{Base: 100 * time.Millisecond, Max: time.Second}
	for attempt := 1; attempt < 40; attempt++ {
		d := p.backoff(attempt)
		ceil := min(p.Base<<min(attempt-1, 20), p.Max)
		if d < ceil/2 || d > ceil {
			t.Fatalf("backoff(%d) = %v, want within [%v, %v]", attempt, d, ceil/2, ceil)
		}
	}
}
