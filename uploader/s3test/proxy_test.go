package s3test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// responseHeader returns the HTTP response header carried by an SDK error.
func responseHeader(t *testing.T, err error) (int, http.Header) {
	t.Helper()
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error %v carries no HTTP response", err)
	}
	return re.HTTPStatusCode(), re.Response.Header
}

// onlyRecord returns the single record the proxy holds.
func onlyRecord(t *testing.T, p *Proxy) Record {
	t.Helper()
	recs := p.Requests()
	if len(recs) != 1 {
		t.Fatalf("proxy saw %d requests, want 1: %+v", len(recs), recs)
	}
	return recs[0]
}

func TestProxyForwardsTLS(t *testing.T) {
	t.Parallel()
	srv := Start(t, Options{TLS: true})
	p := NewProxy(t, srv, ProxyOptions{TLS: true})
	if !strings.HasPrefix(p.URL, "https://127.0.0.1:") || p.CertPool == nil || bytes.Equal(p.CAPEM, srv.CAPEM) {
		t.Fatalf("proxy URL %q, own CA %v: want https with a CA of its own", p.URL, p.CertPool != nil)
	}
	ctx := t.Context()
	key := "2026/11/shot 1+ü.png"
	want := randomBytes(3 << 20) // sent with Expect: 100-continue
	if err := putObject(ctx, p.Client(), srv.Bucket, key, want); err != nil {
		t.Fatalf("PutObject through the proxy: %v", err)
	}
	got, err := getObject(ctx, srv.Client(), srv.Bucket, key)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("object on the server: %d bytes, err %v; want the %d bytes put", len(got), err, len(want))
	}
	got, err = getObject(ctx, p.Client(), srv.Bucket, key)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("GetObject through the proxy: %d bytes, err %v", len(got), err)
	}

	recs := p.Requests()
	if len(recs) != 2 {
		t.Fatalf("proxy saw %d requests, want 2", len(recs))
	}
	put, get := recs[0], recs[1]
	if put.Method != http.MethodPut || put.Path != "/"+srv.Bucket+"/"+key || put.Status != http.StatusOK ||
		put.BodyBytes != int64(len(want)) || put.Fault != "" || put.Header.Get("Expect") != "100-continue" {
		t.Errorf("PUT record = %+v", put)
	}
	if get.Method != http.MethodGet || get.Status != http.StatusOK || get.At.Before(put.At) {
		t.Errorf("GET record = %+v", get)
	}

	// The proxy speaks HTTP/1.1 only, even to a client that offers h2.
	tr := newTransport(p.CertPool)
	tr.ForceAttemptHTTP2 = true
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(p.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 1 {
		t.Errorf("proxy answered over %s, want HTTP/1.1", resp.Proto)
	}
}

func TestProxyRejectChecksumHeaders(t *testing.T) {
	t.Parallel()
	srv := Start(t, Options{TLS: true})
	p := NewProxy(t, srv, ProxyOptions{TLS: true, RejectChecksumHeaders: true})
	ctx := t.Context()
	body := []byte("png bytes")
	sum := sha1.Sum(body)

	// The SDK's defaults (checksums "when supported") over https: an
	// aws-chunked body with a trailing CRC32, the request B2 refused.
	defaults := s3.New(p.Client().Options(), func(o *s3.Options) {
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
	})
	for _, tc := range []struct {
		name, header string
		put          func(key string) error
	}{
		{"explicit sha1", "x-amz-checksum-sha1", func(key string) error {
			_, err := p.Client().PutObject(ctx, &s3.PutObjectInput{
				Bucket: &srv.Bucket, Key: &key, Body: bytes.NewReader(body), ChecksumSHA1: aws.String(b64(sum[:])),
			})
			return err
		}},
		// SDK v1.114.8 sends Content-Encoding: aws-chunked and
		// X-Amz-Trailer: x-amz-checksum-crc32, but no
		// x-amz-sdk-checksum-algorithm.
		{"sdk defaults", "x-amz-trailer", func(key string) error {
			_, err := defaults.PutObject(ctx, &s3.PutObjectInput{Bucket: &srv.Bucket, Key: &key, Body: bytes.NewReader(body)})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.Reset()
			key := "rejected/" + tc.name
			err := tc.put(key)
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidArgument" {
				t.Fatalf("PutObject: err = %v, want API error InvalidArgument", err)
			}
			if want := "Unsupported header '" + tc.header + "' received for this API call."; ae.ErrorMessage() != want {
				t.Errorf("message = %q, want %q", ae.ErrorMessage(), want)
			}
			if status, _ := responseHeader(t, err); status != http.StatusBadRequest {
				t.Errorf("status %d, want 400", status)
			}
			if rec := onlyRecord(t, p); rec.Fault != "RejectChecksumHeaders" || rec.Status != http.StatusBadRequest {
				t.Errorf("record = %+v", rec)
			} else {
				t.Logf("headers: %v", rec.Header)
			}
			requireMissing(t, srv, key)
		})
	}

	t.Run("checksum mode on HEAD", func(t *testing.T) {
		// B2 also refuses x-amz-checksum-mode, so HEAD with ChecksumMode
		// ENABLED cannot be the verification step there.
		key := "x"
		_, err := p.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: &srv.Bucket, Key: &key, ChecksumMode: types.ChecksumModeEnabled})
		if status, _ := responseHeader(t, err); status != http.StatusBadRequest {
			t.Fatalf("HEAD with checksum mode: status %d (%v), want 400", status, err)
		}
	})

	t.Run("plain put passes", func(t *testing.T) {
		m := md5.Sum(body)
		key := "ok.png"
		_, err := p.Client().PutObject(ctx, &s3.PutObjectInput{
			Bucket: &srv.Bucket, Key: &key, Body: bytes.NewReader(body), ContentMD5: aws.String(b64(m[:])),
			Metadata: map[string]string{"sha1": "hex"},
		})
		if err != nil {
			t.Fatalf("PutObject with Content-MD5 and x-amz-meta-sha1: %v", err)
		}
	})
}

func TestProxyRateLimits(t *testing.T) {
	t.Parallel()
	srv := Start(t, Options{})
	p := NewProxy(t, srv, ProxyOptions{})
	ctx := t.Context()
	for _, tc := range []struct {
		fault      Fault
		status     int
		code       string
		retryAfter string
	}{
		{Fault{Kind: SlowDown, Match: MatchPut}, 503, "SlowDown", "1"},
		{Fault{Kind: SlowDown, RetryAfter: NoRetryAfter}, 503, "SlowDown", ""},
		{Fault{Kind: TooManyRequests, RetryAfter: "7"}, 429, "TooManyRequests", "7"},
	} {
		t.Run(tc.fault.Kind.String()+"/"+tc.retryAfter, func(t *testing.T) {
			p.Reset()
			p.Inject(tc.fault)
			key := "limited-" + tc.code + tc.retryAfter
			err := putObject(ctx, p.Client(), srv.Bucket, key, []byte("x"))
			if code := apiCode(err); code != tc.code {
				t.Fatalf("first PutObject: err = %v, want code %s", err, tc.code)
			}
			status, h := responseHeader(t, err)
			if status != tc.status || h.Get("Retry-After") != tc.retryAfter {
				t.Errorf("status %d, Retry-After %q; want %d, %q", status, h.Get("Retry-After"), tc.status, tc.retryAfter)
			}
			requireMissing(t, srv, key)
			if err := putObject(ctx, p.Client(), srv.Bucket, key, []byte("x")); err != nil {
				t.Fatalf("second PutObject should pass: %v", err)
			}
			recs := p.Requests()
			if len(recs) != 2 || recs[0].Fault != tc.fault.Kind.String() || recs[0].Status != tc.status ||
				recs[1].Fault != "" || recs[1].Status != http.StatusOK {
				t.Errorf("records = %+v", recs)
			}
		})
	}
}

func TestProxyFaultQueue(t *testing.T) {
	t.Parallel()
	srv := Start(t, Options{})
	p := NewProxy(t, srv, ProxyOptions{})
	ctx, c := t.Context(), p.Client()
	if err := putObject(ctx, srv.Client(), srv.Bucket, "a", []byte("a")); err != nil {
		t.Fatal(err)
	}
	head := func() string {
		_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &srv.Bucket, Key: aws.String("a")})
		if err == nil {
			return "ok"
		}
		status, _ := responseHeader(t, err)
		return http.StatusText(status)
	}
	p.Inject(Fault{Kind: SlowDown, Match: MatchPut}) // never matches a HEAD
	p.Inject(Fault{Kind: TooManyRequests, Times: 2})
	p.Inject(Fault{Kind: SlowDown})
	var got []string
	for range 5 {
		got = append(got, head())
	}
	want := "Too Many Requests,Too Many Requests,Service Unavailable,ok,ok"
	if strings.Join(got, ",") != want {
		t.Errorf("HEAD results %q, want %q", strings.Join(got, ","), want)
	}
	// The PUT fault is still queued; Reset drops it and the records.
	p.Reset()
	if err := putObject(ctx, c, srv.Bucket, "b", []byte("b")); err != nil {
		t.Errorf("PutObject after Reset: %v", err)
	}
	if rec := onlyRecord(t, p); rec.Method != http.MethodPut || rec.Fault != "" {
		t.Errorf("record after Reset = %+v", rec)
	}
}

func TestProxyResetMidBody(t *testing.T) {
	t.Parallel()
	for _, tlsOn := range []bool{false, true} {
		name := map[bool]string{false: "http", true: "https"}[tlsOn]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := Start(t, Options{TLS: tlsOn})
			p := NewProxy(t, srv, ProxyOptions{TLS: tlsOn})
			p.Inject(Fault{Kind: ResetMidBody, Match: MatchPut})
			body := randomBytes(3 << 20)
			err := putObject(t.Context(), p.Client(), srv.Bucket, "reset.png", body)
			if err == nil || apiCode(err) != "" {
				t.Fatalf("PutObject: err = %v, want a connection error", err)
			}
			t.Logf("client saw: %v", err)
			requireMissing(t, srv, "reset.png")
			if rec := onlyRecord(t, p); rec.Fault != "ResetMidBody" || rec.Status != 0 || rec.BodyBytes != int64(len(body)/2) {
				t.Errorf("record = %+v, want ResetMidBody after %d bytes", rec, len(body)/2)
			}
		})
	}
}

// TestProxyFlipByte records what versitygw does with a body corrupted in
// flight. With UNSIGNED-PAYLOAD (https) it answers BadDigest when
// Content-MD5 or x-amz-checksum-sha1 is sent, and stores the corrupted
// bytes without complaint when neither is. Over http the SDK signs the
// payload's SHA-256, and versitygw checks that first:
// XAmzContentSHA256Mismatch.
func TestProxyFlipByte(t *testing.T) {
	t.Parallel()
	body := randomBytes(1 << 20)
	m := md5.Sum(body)
	s := sha1.Sum(body)
	for _, tc := range []struct {
		name     string
		tls      bool
		md5, sha string
		code     string // "" means the server stores the corrupted object
	}{
		{"https md5", true, b64(m[:]), "", "BadDigest"},
		{"https sha1", true, "", b64(s[:]), "BadDigest"},
		{"https nothing", true, "", "", ""},
		{"http md5", false, b64(m[:]), "", "XAmzContentSHA256Mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := Start(t, Options{TLS: tc.tls})
			p := NewProxy(t, srv, ProxyOptions{TLS: tc.tls})
			p.Inject(Fault{Kind: FlipByte, Match: MatchPut})
			in := &s3.PutObjectInput{Bucket: &srv.Bucket, Key: aws.String("flip.png"), Body: bytes.NewReader(body)}
			if tc.md5 != "" {
				in.ContentMD5 = &tc.md5
			}
			if tc.sha != "" {
				in.ChecksumSHA1 = &tc.sha
			}
			_, err := p.Client().PutObject(t.Context(), in)
			if code := apiCode(err); code != tc.code {
				t.Fatalf("PutObject of a flipped body: err = %v, want code %q", err, tc.code)
			}
			rec := onlyRecord(t, p)
			if rec.Fault != "FlipByte" || rec.BodyBytes != int64(len(body)) {
				t.Errorf("record = %+v", rec)
			}
			if tc.code != "" {
				requireMissing(t, srv, "flip.png")
				return
			}
			got, err := getObject(t.Context(), srv.Client(), srv.Bucket, "flip.png")
			if err != nil {
				t.Fatal(err)
			}
			mid := len(body) / 2
			if len(got) != len(body) || got[mid] != body[mid]^1 || !bytes.Equal(got[:mid], body[:mid]) || !bytes.Equal(got[mid+1:], body[mid+1:]) {
				t.Errorf("stored object is not the body with bit 0 of byte %d flipped", mid)
			}
		})
	}
}

func TestProxyDropResponse(t *testing.T) {
	t.Parallel()
	srv := Start(t, Options{TLS: true})
	p := NewProxy(t, srv, ProxyOptions{TLS: true})
	p.Inject(Fault{Kind: DropResponse, Match: MatchPut})
	body := randomBytes(64 << 10)
	err := putObject(t.Context(), p.Client(), srv.Bucket, "dropped.png", body)
	if err == nil || apiCode(err) != "" {
		t.Fatalf("PutObject: err = %v, want a connection error", err)
	}
	t.Logf("client saw: %v", err)
	// The server did store it: the client must find out with a HEAD.
	got, err := getObject(t.Context(), srv.Client(), srv.Bucket, "dropped.png")
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("object on the server: %d bytes, err %v; want the %d bytes put", len(got), err, len(body))
	}
	if rec := onlyRecord(t, p); rec.Fault != "DropResponse" || rec.Status != http.StatusOK {
		t.Errorf("record = %+v, want DropResponse with the server's 200", rec)
	}
}

func TestProxyHold(t *testing.T) {
	t.Parallel()
	srv := Start(t, Options{})
	p := NewProxy(t, srv, ProxyOptions{})
	release, held := make(chan struct{}), make(chan Record, 1)
	p.Inject(Fault{Kind: Hold, Match: MatchPut, Release: release, Held: held})
	body := randomBytes(64 << 10)
	done := make(chan error, 1)
	go func() { done <- putObject(t.Context(), p.Client(), srv.Bucket, "held.png", body) }()
	rec := <-held
	if rec.Method != http.MethodPut || rec.Path != "/"+srv.Bucket+"/held.png" || rec.Fault != "Hold" {
		t.Fatalf("held record = %+v", rec)
	}
	requireMissing(t, srv, "held.png")
	select {
	case err := <-done:
		t.Fatalf("PutObject ended while held: %v", err)
	default:
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("PutObject after the release: %v", err)
	}
	got, err := getObject(t.Context(), srv.Client(), srv.Bucket, "held.png")
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("object on the server: %d bytes, err %v; want the %d bytes put", len(got), err, len(body))
	}
	if rec := onlyRecord(t, p); rec.Fault != "Hold" || rec.Status != http.StatusOK || rec.BodyBytes != int64(len(body)) {
		t.Errorf("record = %+v, want Hold, then forwarded", rec)
	}
}

func TestMatchers(t *testing.T) {
	for _, tc := range []struct {
		method, target string
		body           bool
		put, part, cmp bool
	}{
		{"PUT", "/b/k?x-id=PutObject", true, true, false, false},
		{"PUT", "/b/k?partNumber=1&uploadId=u&x-id=UploadPart", true, true, true, false},
		{"PUT", "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=60&X-Amz-Signature=s", true, true, false, false},
		{"PUT", "/b/k?tagging", true, false, false, false},
		{"PUT", "/b", true, false, false, false},
		{"PUT", "/b/k", false, false, false, false},
		{"POST", "/b/k?uploadId=u", true, false, false, true},
		{"POST", "/b/k?uploads", false, false, false, false},
		{"GET", "/b/k", false, false, false, false},
	} {
		var body *strings.Reader
		if tc.body {
			body = strings.NewReader("x")
		} else {
			body = strings.NewReader("")
		}
		r, err := http.NewRequest(tc.method, "http://h"+tc.target, body)
		if err != nil {
			t.Fatal(err)
		}
		if got := [3]bool{MatchPut(r), MatchPart(r), MatchComplete(r)}; got != [3]bool{tc.put, tc.part, tc.cmp} {
			t.Errorf("%s %s: MatchPut, MatchPart, MatchComplete = %v, want %v", tc.method, tc.target, got, [3]bool{tc.put, tc.part, tc.cmp})
		}
	}
}

// TestProxyB2 pins down the answers of B2 mode: conditional writes get
// 501, checksum headers on every write get 400 (CreateMultipartUpload's
// algorithm and UploadPart's headers included), and neither is forwarded.
func TestProxyB2(t *testing.T) {
	t.Parallel()
	srv := Start(t, Options{TLS: true, Versioning: true})
	p := NewProxy(t, srv, ProxyOptions{TLS: true, B2: true})
	c, ctx := p.Client(), t.Context()
	body := []byte("png bytes")
	status := func(err error) int { s, _ := responseHeader(t, err); return s }

	key := "cond.png"
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &srv.Bucket, Key: &key, Body: bytes.NewReader(body), IfNoneMatch: aws.String("*")})
	var ae smithy.APIError
	if status(err) != http.StatusNotImplemented || !errors.As(err, &ae) || ae.ErrorCode() != "NotImplemented" ||
		ae.ErrorMessage() != "A header you provided implies functionality that is not implemented" {
		t.Fatalf("PutObject with If-None-Match: %v, want 501 NotImplemented", err)
	}
	if rec := onlyRecord(t, p); rec.Fault != "RejectConditionalWrite" {
		t.Fatalf("record %+v", rec)
	}
	requireMissing(t, srv, key)
	out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &srv.Bucket, Key: &key, Body: bytes.NewReader(body)})
	if err != nil || aws.ToString(out.VersionId) == "" {
		t.Fatalf("plain PutObject: %v, version %q; want a version ID", err, aws.ToString(out.VersionId))
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &srv.Bucket, Key: &key, Body: bytes.NewReader(body), IfMatch: out.ETag}); status(err) != http.StatusNotImplemented {
		t.Fatalf("PutObject with If-Match: %v, want 501", err)
	}
	// A conditional read is not a write.
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &srv.Bucket, Key: &key, IfMatch: out.ETag}); err != nil {
		t.Fatalf("HEAD with If-Match: %v", err)
	}

	mkey := "multi.bin"
	if _, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &srv.Bucket, Key: &mkey, ChecksumAlgorithm: types.ChecksumAlgorithmSha1}); status(err) != http.StatusBadRequest {
		t.Fatalf("CreateMultipartUpload with a checksum algorithm: %v, want 400", err)
	}
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &srv.Bucket, Key: &mkey})
	if err != nil {
		t.Fatal(err)
	}
	part := bytes.Repeat([]byte("x"), 5<<20)
	psum := sha1.Sum(part)
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &srv.Bucket, Key: &mkey, UploadId: mp.UploadId, PartNumber: aws.Int32(1),
		Body: bytes.NewReader(part), ChecksumSHA1: aws.String(b64(psum[:]))}); status(err) != http.StatusBadRequest {
		t.Fatalf("UploadPart with x-amz-checksum-sha1: %v, want 400", err)
	}
	up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &srv.Bucket, Key: &mkey, UploadId: mp.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(part)})
	if err != nil {
		t.Fatal(err)
	}
	done := &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: up.ETag}}}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &srv.Bucket, Key: &mkey, UploadId: mp.UploadId,
		MultipartUpload: done, IfNoneMatch: aws.String("*")}); status(err) != http.StatusNotImplemented {
		t.Fatalf("CompleteMultipartUpload with If-None-Match: %v, want 501", err)
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &srv.Bucket, Key: &mkey, UploadId: mp.UploadId, MultipartUpload: done}); err != nil {
		t.Fatalf("plain CompleteMultipartUpload: %v", err)
	}
}
