package s3test

import (
	"crypto/rand"
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FaultKind says what the proxy does to a request a [Fault] matches.
type FaultKind int

const (
	// SlowDown answers 503 with the S3 XML error code SlowDown and
	// Retry-After: Fault.RetryAfter (default "1"), without forwarding.
	SlowDown FaultKind = iota
	// TooManyRequests answers 429 (code TooManyRequests) likewise.
	TooManyRequests
	// ResetMidBody forwards nothing: it reads about half of the request
	// body (or Fault.Offset bytes), then resets the TCP connection
	// (SO_LINGER 0). Use it on requests with a body: Go's transport may
	// silently resend a body-less GET on a reused connection.
	ResetMidBody
	// FlipByte forwards the request with one bit of the body byte at
	// Fault.Offset flipped (default: the middle of the body); headers,
	// Content-MD5 and signatures are left unchanged.
	FlipByte
	// DropResponse forwards the request, so the server acts on it, then
	// closes the client connection without writing the response.
	DropResponse
	// Gather holds each matching request until Times of them have
	// arrived, then forwards them all at once (or after GatherTimeout, so
	// a test that sends fewer does not hang): two writers that both looked
	// at a free name then write it at the same moment.
	Gather
	// Hold holds each matching request, its body unread, until
	// Fault.Release is closed or the client gives up, then forwards it:
	// an upload caught part way (what the client has sent sits in the
	// connection's buffers), or one that must arrive late. A Hold with no
	// Release holds until the client gives up.
	Hold
)

// GatherTimeout is how long a Gather fault holds a request at most.
const GatherTimeout = 30 * time.Second

var faultNames = [...]string{"SlowDown", "TooManyRequests", "ResetMidBody", "FlipByte", "DropResponse", "Gather", "Hold"}

// String returns the constant's name, as used in Record.Fault.
func (k FaultKind) String() string {
	if k >= 0 && int(k) < len(faultNames) {
		return faultNames[k]
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// NoRetryAfter, as Fault.RetryAfter, sends SlowDown or TooManyRequests
// without a Retry-After header (B2 does not always send one).
const NoRetryAfter = "none"

// rejectFault is the Record.Fault of a request that ProxyOptions
// RejectChecksumHeaders refused.
const rejectFault = "RejectChecksumHeaders"

// conditionalFault is the Record.Fault of a conditional write that
// ProxyOptions B2 refused with 501.
const conditionalFault = "RejectConditionalWrite"

// conditionalWrite reports a write that carries If-None-Match or If-Match:
// a PUT (object, part or copy) or a POST (CompleteMultipartUpload and the
// like). Conditional reads are not writes.
func conditionalWrite(r *http.Request) bool {
	if r.Method != http.MethodPut && r.Method != http.MethodPost {
		return false
	}
	return r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Match") != ""
}

// Fault is one entry in a proxy's fault queue. A Fault value is copied by
// Inject and not retained.
type Fault struct {
	Kind FaultKind
	// Match selects the requests the fault applies to; nil matches every
	// request. It runs on the proxy's goroutines under the proxy's lock,
	// before the body is read: it must not read the body or call the Proxy.
	Match func(*http.Request) bool
	// Times is how many matching requests get the fault; 0 means 1.
	Times int
	// RetryAfter is the Retry-After value for SlowDown and
	// TooManyRequests; "" means "1", NoRetryAfter omits the header.
	RetryAfter string
	// Offset is, for ResetMidBody, how many body bytes to read before the
	// reset and, for FlipByte, which byte to change. 0 means the middle of
	// the body (per Content-Length; 0 when the length is unknown).
	Offset int64
	// Release, for Hold, lets the held requests go on when it is closed.
	Release <-chan struct{}
	// Held, for Hold, when not nil, receives a copy of each held
	// request's record as the proxy starts holding it. The proxy does not
	// wait for a receiver: give the channel room for every request the
	// fault matches.
	Held chan<- Record

	gate *gate // shared by the requests one Gather fault holds
}

// gate opens once n requests have arrived.
type gate struct {
	n, arrived int
	open       chan struct{}
}

// MatchPut matches a PutObject or an UploadPart: a PUT of an object with a
// body that is not a copy and not a sub-resource such as ?acl or ?tagging.
// A presigned PUT (its X-Amz-* query) is one too.
func MatchPut(r *http.Request) bool {
	if r.Method != http.MethodPut || r.ContentLength == 0 || r.Header.Get("X-Amz-Copy-Source") != "" {
		return false
	}
	if _, key := splitPath(r.URL.Path); key == "" {
		return false
	}
	for name := range r.URL.Query() {
		switch name {
		case "partNumber", "uploadId", "x-id":
		default:
			if !strings.HasPrefix(name, "X-Amz-") {
				return false
			}
		}
	}
	return true
}

// MatchPart matches an UploadPart only (a MatchPut with ?partNumber).
func MatchPart(r *http.Request) bool {
	return MatchPut(r) && r.URL.Query().Has("partNumber")
}

// MatchComplete matches a CompleteMultipartUpload (POST ?uploadId).
func MatchComplete(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Query().Has("uploadId")
}

// splitPath splits a path-style request path into bucket and key.
func splitPath(p string) (bucket, key string) {
	bucket, key, _ = strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return bucket, key
}

// checksumHeader returns the first header of r that B2 refuses, in the
// order B2 reports them, or "".
func checksumHeader(h http.Header) string {
	var names []string
	for name := range h {
		names = append(names, strings.ToLower(name))
	}
	slices.Sort(names)
	for _, n := range names {
		if strings.HasPrefix(n, "x-amz-checksum-") {
			return n
		}
	}
	for _, n := range []string{"x-amz-sdk-checksum-algorithm", "x-amz-trailer"} {
		if slices.Contains(names, n) {
			return n
		}
	}
	for _, v := range h.Values("Content-Encoding") {
		if strings.Contains(strings.ToLower(v), "aws-chunked") {
			return "content-encoding"
		}
	}
	return ""
}

// writeS3Error writes an S3 XML error the way B2 formats it.
func writeS3Error(w http.ResponseWriter, status int, code, message string) {
	var body strings.Builder
	body.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n<Error>\n    <Code>")
	_ = xml.EscapeText(&body, []byte(code))
	body.WriteString("</Code>\n    <Message>")
	_ = xml.EscapeText(&body, []byte(message))
	body.WriteString("</Message>\n</Error>\n")

	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(body.Len()))
	h.Set("Cache-Control", "max-age=0, no-cache, no-store")
	h.Set("X-Amz-Request-Id", strings.ToLower(rand.Text()[:16]))
	w.WriteHeader(status)
	_, _ = fmt.Fprint(w, body.String())
}
