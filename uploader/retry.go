package uploader

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Policy is Upshot's one retry policy. The SDK's own retryer is off: it
// ignores Retry-After and 429, and its retry quota can run dry under load.
// A Policy is a value and safe for concurrent use.
type Policy struct {
	Attempts      int           // tries in all, at least 1
	Base          time.Duration // first backoff; doubles per attempt, with full jitter
	Max           time.Duration // backoff cap
	MaxRetryAfter time.Duration // longest Retry-After honoured as given
	// OnRetry, if set, is called before each wait. It may be called from
	// several goroutines at once.
	OnRetry func(op string, attempt int, err error, wait time.Duration)
}

// DefaultPolicy makes 6 attempts over about 4 to 8 seconds (longer when the
// server asks for it with Retry-After): enough for a blip, short enough for
// someone waiting on the command line. Outages longer than that are the
// queue's business, which retries jobs for hours.
var DefaultPolicy = Policy{Attempts: 6, Base: 250 * time.Millisecond, Max: 4 * time.Second, MaxRetryAfter: time.Minute}

// Do calls fn until it succeeds, fails for good, runs out of attempts, or ctx
// ends. Each call gets ctx; fn must rewind any body it sends.
func (p Policy) Do(ctx context.Context, op string, fn func(context.Context) error) error {
	attempts := max(p.Attempts, 1)
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return errors.Join(err, context.Cause(ctx))
		}
		retry, after := classify(err)
		if !retry || attempt >= attempts {
			return err
		}
		wait := p.backoff(attempt)
		if after > 0 {
			wait = min(after, p.MaxRetryAfter)
		}
		if p.OnRetry != nil {
			p.OnRetry(op, attempt, err, wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, context.Cause(ctx))
		case <-t.C:
		}
	}
}

// backoff is full jitter: a random wait in [Base*2^(n-1)/2, Base*2^(n-1)],
// capped at Max.
func (p Policy) backoff(attempt int) time.Duration {
	d := p.Base << min(attempt-1, 20)
	if d <= 0 || d > p.Max {
		d = p.Max
	}
	half := d / 2
	return half + rand.N(half+1)
}

// Error codes that mean "the body got damaged or the request timed out on
// the way": sending the same bytes again is the fix.
var retryCodes = map[string]bool{
	"SlowDown": true, "ServiceUnavailable": true, "InternalError": true, "RequestTimeout": true,
	"BadDigest": true, "XAmzContentChecksumMismatch": true, "XAmzContentSHA256Mismatch": true,
	"InvalidChecksum": true, "IncompleteBody": true, "TooManyRequests": true,
}

// classify decides whether err is worth another try and how long the server
// asked us to wait (0 when it did not say).
func classify(err error) (retry bool, after time.Duration) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false, 0
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode != 0 {
		after = retryAfter(re.Response.Header.Get("Retry-After"))
		switch re.Response.StatusCode {
		case http.StatusTooManyRequests, http.StatusRequestTimeout, http.StatusInternalServerError,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true, after
		}
		var api smithy.APIError
		if errors.As(err, &api) && retryCodes[api.ErrorCode()] {
			return true, after
		}
		if re.Response.StatusCode < 300 {
			// A 2xx whose body could not be read: the connection broke.
			return isTransportError(err), 0
		}
		return false, 0
	}
	return isTransportError(err), 0
}

// isTransportError reports connection-level failures that another attempt
// may not meet: resets, refusals, timeouts, truncated bodies. A name that
// does not resolve and an untrusted certificate are final.
func isTransportError(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.IsTemporary || dns.IsTimeout
	}
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	if errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) {
		return false
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var se *smithyhttp.RequestSendError
	return errors.As(err, &se)
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
