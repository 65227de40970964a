package uploader

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Kinds of failure a caller may act on; test them with errors.Is.
var (
	// ErrCredentials: the server rejected the key ID or key.
	ErrCredentials = errors.New("credentials rejected")
	// ErrAccessDenied: the key is valid but may not do this.
	ErrAccessDenied = errors.New("access denied")
	// ErrNoBucket: the bucket does not exist at this endpoint.
	ErrNoBucket = errors.New("no such bucket")
	// ErrUnreachable: the endpoint cannot be reached at all.
	ErrUnreachable = errors.New("endpoint unreachable")
	// ErrNotConfirmed: the server did not confirm the uploaded content.
	ErrNotConfirmed = errors.New("upload not confirmed")
	// ErrFile: the local file cannot be read or is not a regular file.
	ErrFile = errors.New("cannot read file")
	// ErrBusy: another program holds the local file locked (Windows), so
	// it cannot be read yet; a later attempt may succeed.
	ErrBusy = errors.New("file in use")
)

// Error is a failure explained for the user: what happened, and what to do.
type Error struct {
	Kind   error  // one of the Err* values above, or nil
	What   string // one line: what happened
	Advice string // one line: what to do; may be empty
	Err    error  // the underlying error
}

func (e *Error) Error() string {
	if e.Advice == "" {
		return e.What
	}
	return e.What + " (" + e.Advice + ")"
}

// Unwrap exposes both the kind and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

// IsConfigError reports whether err is fixed by changing the configuration
// (credentials, bucket), so retrying other files is pointless.
func IsConfigError(err error) bool {
	return errors.Is(err, ErrCredentials) || errors.Is(err, ErrNoBucket)
}

// explain turns an SDK error from op on key into an *Error with advice.
func (t Target) explain(op, key string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	subject := op
	if key != "" {
		subject = op + " " + key
	}
	code, msg, status := apiDetails(err)
	switch {
	case code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" || code == "InvalidToken" || status == 401 || code == "Unauthorized":
		return &Error{Kind: ErrCredentials, Err: err,
			What:   fmt.Sprintf("%s: the server rejected the application key (%s)", subject, codeOr(code, status)),
			Advice: fmt.Sprintf("check target.key_id and the key, or %s and %s; B2's master key does not work over S3", EnvKeyID, EnvKey)}
	case code == "NoSuchBucket":
		return &Error{Kind: ErrNoBucket, Err: err,
			What:   fmt.Sprintf("%s: bucket %q does not exist at %s", subject, t.Bucket, t.Endpoint),
			Advice: "check target.bucket, and that target.endpoint is the bucket's region"}
	case code == "AccessDenied" || status == 403:
		return &Error{Kind: ErrAccessDenied, Err: err,
			What:   fmt.Sprintf("%s: access denied to bucket %q (%s)", subject, t.Bucket, codeOr(code, status)),
			Advice: "use an application key with writeFiles and readFiles on this bucket, and a path_template inside its name prefix"}
	case status == 501:
		// Never transient: the endpoint lacks the feature.
		detail := codeOr(code, status)
		if msg != "" {
			detail += ": " + msg
		}
		return &Error{Err: err, What: fmt.Sprintf("%s: the endpoint does not implement this request (%s)", subject, detail),
			Advice: "trying again will not help; check that target.endpoint is the bucket's S3 endpoint, and run upshot check"}
	case status != 0:
		detail := codeOr(code, status)
		if msg != "" {
			detail += ": " + msg
		}
		return &Error{Err: err, What: fmt.Sprintf("%s: the server answered %s", subject, detail),
			Advice: "try again later; if it persists, check the service's status page"}
	}
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	if errors.As(err, &ua) || errors.As(err, &hn) {
		return &Error{Kind: ErrUnreachable, Err: err,
			What:   fmt.Sprintf("%s: the TLS certificate of %s is not trusted (%v)", subject, t.Endpoint, rootCause(err)),
			Advice: "check target.endpoint; behind a TLS-inspecting proxy, point AWS_CA_BUNDLE at its CA bundle"}
	}
	var dns *net.DNSError
	if errors.As(err, &dns) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) {
		return &Error{Kind: ErrUnreachable, Err: err,
			What:   fmt.Sprintf("%s: cannot reach %s (%v)", subject, t.Endpoint, rootCause(err)),
			Advice: "check target.endpoint and your network connection"}
	}
	return &Error{Err: err, What: fmt.Sprintf("%s: %v", subject, rootCause(err)), Advice: "check your network connection and try again"}
}

// apiDetails digs the S3 error code, message and HTTP status out of err.
func apiDetails(err error) (code, msg string, status int) {
	var api smithy.APIError
	if errors.As(err, &api) {
		code, msg = api.ErrorCode(), api.ErrorMessage()
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		status = re.Response.StatusCode
	}
	// HEAD responses carry no body, so the SDK names them by status only.
	if code == "NotFound" && status == 404 {
		code = ""
	}
	return code, msg, status
}

func codeOr(code string, status int) string {
	switch {
	case code != "" && status != 0:
		return fmt.Sprintf("%d %s", status, code)
	case code != "":
		return code
	}
	return fmt.Sprintf("HTTP %d", status)
}

// rootCause strips the SDK's operation wrapping, which repeats the URL and
// request IDs, down to the innermost message.
func rootCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return strings.TrimSpace(err.Error())
		}
		err = next
	}
}
