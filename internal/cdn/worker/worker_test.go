package worker_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"upshot/internal/cdn/worker"
	"upshot/internal/devtools/b2apitest"
	"upshot/internal/devtools/workerdtest"
	"upshot/uploader/s3test"
)

const (
	cacheControl   = "public, max-age=31536000, immutable"
	notFoundBody   = "Not found\n"
	badGatewayBody = "Bad gateway: the storage behind this link did not answer as expected\n"
	expiredBody    = "The link's authorization has expired; Upshot renews it while it runs (or run upshot cdn-refresh)\n"
)

// answer is one response from the Worker, body read.
type answer struct {
	status int
	header http.Header
	body   []byte
}

var client = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       time.Minute, // a hang guard, not a measurement
}

// do sends method to url with headers given as name, value pairs.
func do(t testing.TB, method, url string, headers ...string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return answer{resp.StatusCode, resp.Header, body}
}

// path escapes a key the way a link does: per segment, "+" left as is.
func path(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return "/" + strings.Join(parts, "/")
}

func sha1Hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

// putObject stores data as Upshot does: its SHA-1 in x-amz-meta-sha1 and a
// Cache-Control of its own.
func putObject(t testing.TB, srv *s3test.Server, key, contentType string, data []byte) {
	t.Helper()
	_, err := srv.Client().PutObject(t.Context(), &s3.PutObjectInput{
		Bucket: &srv.Bucket, Key: &key, Body: bytes.NewReader(data),
		ContentType: aws.String(contentType), CacheControl: aws.String("max-age=60"),
		Metadata: map[string]string{"sha1": sha1Hex(data)},
	})
	if err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// noOriginHeaders fails when an answer carries anything of the storage's.
func noOriginHeaders(t *testing.T, what string, a answer) {
	t.Helper()
	for name := range a.header {
		l := strings.ToLower(name)
		if strings.HasPrefix(l, "x-amz-") || strings.HasPrefix(l, "x-bz-") {
			t.Errorf("%s: origin header %s: %q", what, name, a.header.Get(name))
		}
	}
}

// plainAnswer checks one of the Worker's own error answers.
func plainAnswer(t *testing.T, what string, a answer, status int, body string) {
	t.Helper()
	if a.status != status || string(a.body) != body {
		t.Errorf("%s: %d %q, want %d %q", what, a.status, a.body, status, body)
	}
	if ct := a.header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("%s: Content-Type %q", what, ct)
	}
	if cc := a.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("%s: Cache-Control %q, want no-store", what, cc)
	}
	for _, leak := range []string{"ListBucketResult", "NoSuchKey", "<?xml", "<Error>", "AccessDenied", "Signature", "bad_auth_token", "not_found"} {
		if bytes.Contains(a.body, []byte(leak)) {
			t.Errorf("%s: body reveals the origin (%s): %q", what, leak, a.body)
		}
	}
	noOriginHeaders(t, what, a)
}

// signedWorker runs the Worker in signed mode against endpoint (versitygw
// itself or a proxy in front of it) with srv's bucket and credentials.
func signedWorker(t *testing.T, srv *s3test.Server, endpoint, secret string, cfg workerdtest.Config) *workerdtest.Worker {
	t.Helper()
	opts := worker.Options{Mode: worker.Signed, S3Endpoint: endpoint, Region: srv.Region, Bucket: srv.Bucket, CacheControl: cacheControl}
	if err := opts.Validate(); err != nil {
		t.Fatal(err)
	}
	plain, secretNames := worker.Bindings(opts)
	if len(secretNames) != 2 || secretNames[0] != worker.SecretKeyID || secretNames[1] != worker.SecretKey {
		t.Fatalf("signed mode secrets %v", secretNames)
	}
	cfg.Module, cfg.ModuleName, cfg.CompatibilityDate = worker.Module(), worker.ModuleName, worker.CompatibilityDate
	cfg.Text = plain
	cfg.Text[worker.SecretKeyID] = srv.AccessKey
	cfg.Text[worker.SecretKey] = secret
	return workerdtest.StartWorker(t, cfg)
}

func TestSignedMode(t *testing.T) {
	srv := s3test.Start(t, s3test.Options{Versioning: true})
	// The proxy plays B2's S3 API and records what reaches it; versitygw
	// behind it checks every signature.
	proxy := s3test.NewProxy(t, srv, s3test.ProxyOptions{B2: true})
	w := signedWorker(t, srv, proxy.URL, srv.SecretKey, workerdtest.Config{})

	shot := randomBytes(70_000)
	putObject(t, srv, "2026/11/shot.png", "image/png", shot)
	odd := randomBytes(3_000)
	oddKey := "2026/11/my shot+1 Café ☃ (draft)!.png"
	putObject(t, srv, oddKey, "image/png", odd)
	small := []byte("0123456789")
	putObject(t, srv, "2026/11/small.txt", "text/plain", small)

	t.Run("GET", func(t *testing.T) {
		a := do(t, "GET", w.URL+"/2026/11/shot.png")
		if a.status != 200 || !bytes.Equal(a.body, shot) {
			t.Fatalf("GET: %d, %d bytes; want 200 and the %d stored", a.status, len(a.body), len(shot))
		}
		want := map[string]string{
			"Etag":                        `"` + sha1Hex(shot) + `"`,
			"Cache-Control":               cacheControl,
			"Content-Type":                "image/png",
			"Content-Length":              strconv.Itoa(len(shot)),
			"Access-Control-Allow-Origin": "*",
			"X-Content-Type-Options":      "nosniff",
		}
		for k, v := range want {
			if got := a.header.Get(k); got != v {
				t.Errorf("%s: %q, want %q", k, got, v)
			}
		}
		if a.header.Get("Last-Modified") == "" {
			t.Error("no Last-Modified")
		}
		noOriginHeaders(t, "GET", a)
	})

	t.Run("HEAD", func(t *testing.T) {
		proxy.Reset()
		a := do(t, "HEAD", w.URL+"/2026/11/small.txt", "Cookie", "session=1", "If-None-Match", `"x"`, "X-Forwarded-For", "203.0.113.9")
		if a.status != 200 || len(a.body) != 0 || a.header.Get("Content-Length") != strconv.Itoa(len(small)) {
			t.Fatalf("HEAD: %d, body %q, Content-Length %q; want 200, no body, %d", a.status, a.body, a.header.Get("Content-Length"), len(small))
		}
		if a.header.Get("Etag") != `"`+sha1Hex(small)+`"` {
			t.Errorf("HEAD ETag %q", a.header.Get("Etag"))
		}
		noOriginHeaders(t, "HEAD", a)
		reqs := proxy.Requests()
		if len(reqs) != 1 || reqs[0].Method != "GET" || reqs[0].Path != "/"+srv.Bucket+"/2026/11/small.txt" {
			t.Fatalf("the origin saw %+v, want one signed GET of the object", reqs)
		}
		for _, h := range []string{"Cookie", "If-None-Match", "X-Forwarded-For"} {
			if v := reqs[0].Header.Get(h); v != "" {
				t.Errorf("the visitor's %s reached the origin: %q", h, v)
			}
		}
		if !strings.HasPrefix(reqs[0].Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential="+srv.AccessKey+"/") ||
			reqs[0].Header.Get("X-Amz-Content-Sha256") != "UNSIGNED-PAYLOAD" {
			t.Errorf("origin request not signed as expected: %v", reqs[0].Header)
		}
	})

	t.Run("Range", func(t *testing.T) {
		a := do(t, "GET", w.URL+"/2026/11/shot.png", "Range", "bytes=2-5")
		if a.status != 206 || !bytes.Equal(a.body, shot[2:6]) {
			t.Fatalf("Range: %d %x, want 206 %x", a.status, a.body, shot[2:6])
		}
		if cr := a.header.Get("Content-Range"); cr != fmt.Sprintf("bytes 2-5/%d", len(shot)) {
			t.Errorf("Content-Range %q", cr)
		}
		if a.header.Get("Etag") != `"`+sha1Hex(shot)+`"` || a.header.Get("Content-Length") != "4" {
			t.Errorf("Range headers %v", a.header)
		}
		noOriginHeaders(t, "Range", a)
		a = do(t, "GET", w.URL+"/2026/11/small.txt", "Range", "bytes=100-200")
		if a.status != 416 || bytes.Contains(a.body, []byte("<")) {
			t.Errorf("unsatisfiable range: %d %q, want 416", a.status, a.body)
		}
	})

	t.Run("Methods", func(t *testing.T) {
		for _, m := range []string{"PUT", "DELETE", "POST", "PATCH"} {
			a := do(t, m, w.URL+"/2026/11/small.txt")
			if a.status != 405 || a.header.Get("Allow") != "GET, HEAD" {
				t.Errorf("%s: %d, Allow %q; want 405, GET, HEAD", m, a.status, a.header.Get("Allow"))
			}
			noOriginHeaders(t, m, a)
		}
		if _, err := srv.Client().HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: &srv.Bucket, Key: aws.String("2026/11/small.txt")}); err != nil {
			t.Errorf("the object is gone after the refused DELETE: %v", err)
		}
		a := do(t, "OPTIONS", w.URL+"/2026/11/shot.png", "Origin", "https://example.org", "Access-Control-Request-Method", "GET")
		if a.status != 204 || a.header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(a.header.Get("Access-Control-Allow-Methods"), "GET") {
			t.Errorf("preflight: %d %v", a.status, a.header)
		}
	})

	t.Run("NoListing", func(t *testing.T) {
		proxy.Reset()
		for _, p := range []string{"/", "/?list-type=2", "/some/prefix/", "/2026/11/", "/?prefix=2026", "/2026?delimiter=/",
			"/?versions", "/?uploads", "/file/" + srv.Bucket + "/", "/file/" + srv.Bucket, "/%E2%28.png"} {
			plainAnswer(t, "GET "+p, do(t, "GET", w.URL+p), 404, notFoundBody)
		}
		a := do(t, "HEAD", w.URL+"/?list-type=2")
		if a.status != 404 || len(a.body) != 0 {
			t.Errorf("HEAD listing: %d %q", a.status, a.body)
		}
		if reqs := proxy.Requests(); len(reqs) != 0 {
			t.Errorf("listing-like requests reached the origin: %+v", reqs)
		}
	})

	t.Run("Missing", func(t *testing.T) {
		plainAnswer(t, "missing key", do(t, "GET", w.URL+"/2026/11/nope.png"), 404, notFoundBody)
		a := do(t, "HEAD", w.URL+"/2026/11/nope.png")
		if a.status != 404 || len(a.body) != 0 {
			t.Errorf("HEAD missing: %d %q", a.status, a.body)
		}
		noOriginHeaders(t, "HEAD missing", a)
	})

	t.Run("LegacyPath", func(t *testing.T) {
		a := do(t, "GET", w.URL+"/file/"+srv.Bucket+"/2026/11/shot.png")
		if a.status != 200 || !bytes.Equal(a.body, shot) || a.header.Get("Etag") != `"`+sha1Hex(shot)+`"` {
			t.Fatalf("/file/<bucket>/<key>: %d, %d bytes", a.status, len(a.body))
		}
	})

	t.Run("OddKey", func(t *testing.T) {
		proxy.Reset()
		for _, p := range []string{
			path(oddKey), // "+" literal, as a link has it
			strings.ReplaceAll(path(oddKey), "+", "%2B"),
			"/file/" + srv.Bucket + path(oddKey),
		} {
			a := do(t, "GET", w.URL+p)
			if a.status != 200 || !bytes.Equal(a.body, odd) {
				t.Errorf("GET %s: %d %q", p, a.status, a.body[:min(len(a.body), 200)])
			}
		}
		// "+" is a plus, not a space.
		plainAnswer(t, "space for plus", do(t, "GET", w.URL+strings.ReplaceAll(path(oddKey), "+", "%20")), 404, notFoundBody)
	})

	t.Run("Conditional", func(t *testing.T) {
		etag := `"` + sha1Hex(shot) + `"`
		a := do(t, "GET", w.URL+"/2026/11/shot.png", "If-None-Match", etag)
		if a.status != 304 || len(a.body) != 0 || a.header.Get("Etag") != etag || a.header.Get("Cache-Control") != cacheControl {
			t.Errorf("If-None-Match the ETag: %d, %d bytes, %v", a.status, len(a.body), a.header)
		}
		a = do(t, "GET", w.URL+"/2026/11/shot.png", "If-None-Match", `"`+sha1Hex(small)+`"`)
		if a.status != 200 || !bytes.Equal(a.body, shot) {
			t.Errorf("If-None-Match another ETag: %d, %d bytes", a.status, len(a.body))
		}
	})

	t.Run("EdgeCache", func(t *testing.T) {
		key := "2026/11/cached.png"
		data := randomBytes(20_000)
		putObject(t, srv, key, "image/png", data)
		if a := do(t, "GET", w.URL+"/"+key+"?utm=1"); a.status != 200 || !bytes.Equal(a.body, data) {
			t.Fatalf("first GET: %d", a.status)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		if err := w.Cache.WaitFor(ctx, w.URL+"/"+key); err != nil {
			t.Fatal(err)
		}
		// Gone from the bucket, the object is still served from the edge.
		if _, err := srv.Client().DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: &srv.Bucket, Key: &key}); err != nil {
			t.Fatal(err)
		}
		proxy.Reset()
		hits := w.Cache.Hits()
		for _, p := range []string{"/" + key, "/file/" + srv.Bucket + "/" + key} {
			a := do(t, "GET", w.URL+p)
			if a.status != 200 || !bytes.Equal(a.body, data) || a.header.Get("Etag") != `"`+sha1Hex(data)+`"` ||
				a.header.Get("Cache-Control") != cacheControl || a.header.Get("Content-Type") != "image/png" {
				t.Errorf("cached GET %s: %d, %d bytes, %v", p, a.status, len(a.body), a.header)
			}
			noOriginHeaders(t, "cached GET", a)
		}
		a := do(t, "HEAD", w.URL+"/"+key)
		if a.status != 200 || len(a.body) != 0 || a.header.Get("Content-Length") != strconv.Itoa(len(data)) {
			t.Errorf("cached HEAD: %d, %q, Content-Length %q", a.status, a.body, a.header.Get("Content-Length"))
		}
		if a := do(t, "GET", w.URL+"/"+key, "If-None-Match", `"`+sha1Hex(data)+`"`); a.status != 304 {
			t.Errorf("cached conditional GET: %d, want 304", a.status)
		}
		if got := w.Cache.Hits() - hits; got != 4 {
			t.Errorf("%d cache hits, want 4", got)
		}
		if reqs := proxy.Requests(); len(reqs) != 0 {
			t.Errorf("cached answers went to the origin: %+v", reqs)
		}
		// A range is not taken from the cache: the origin says it is gone.
		plainAnswer(t, "range of a deleted object", do(t, "GET", w.URL+"/"+key, "Range", "bytes=0-1"), 404, notFoundBody)
		for _, k := range w.Cache.Keys() {
			if strings.Contains(k, "?") || strings.Contains(k, "/file/") {
				t.Errorf("cache key %q: want one per object key", k)
			}
		}
	})

	t.Run("MissingAs403", func(t *testing.T) {
		// An S3 server may refuse a missing key with 403 NoSuchKey rather
		// than 404; any other 403 is the key's fault, not the visitor's.
		up, err := url.Parse(srv.Endpoint)
		if err != nil {
			t.Fatal(err)
		}
		rewrite := httptest.NewServer(&httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(up)
				pr.Out.Host = pr.In.Host // keep the signed host
			},
			ModifyResponse: func(resp *http.Response) error {
				if resp.StatusCode == http.StatusNotFound {
					resp.StatusCode = http.StatusForbidden
				}
				if resp.Request.URL.Path == "/"+srv.Bucket+"/2026/11/denied.png" {
					resp.StatusCode = http.StatusForbidden
					resp.Body = io.NopCloser(strings.NewReader(`<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>`))
					resp.ContentLength = -1
					resp.Header.Del("Content-Length")
				}
				return nil
			},
		})
		defer rewrite.Close()
		ww := signedWorker(t, srv, rewrite.URL, srv.SecretKey, workerdtest.Config{})
		plainAnswer(t, "403 NoSuchKey", do(t, "GET", ww.URL+"/2026/11/nope.png"), 404, notFoundBody)
		plainAnswer(t, "403 AccessDenied", do(t, "GET", ww.URL+"/2026/11/denied.png"), 502, badGatewayBody)
		if a := do(t, "GET", ww.URL+"/2026/11/small.txt"); a.status != 200 || !bytes.Equal(a.body, small) {
			t.Errorf("through the rewriting origin: %d %q", a.status, a.body)
		}
	})

	t.Run("BadKey", func(t *testing.T) {
		bad := signedWorker(t, srv, proxy.URL, srv.SecretKey+"x", workerdtest.Config{})
		for _, m := range []string{"GET", "HEAD"} {
			a := do(t, m, bad.URL+"/2026/11/shot.png")
			if a.status != 502 {
				t.Errorf("%s with a wrong key: %d, want 502", m, a.status)
			}
			noOriginHeaders(t, m+" with a wrong key", a)
			if m == "GET" {
				plainAnswer(t, "wrong key", a, 502, badGatewayBody)
			}
		}
		var sawRefusal bool
		for _, r := range proxy.Requests() {
			sawRefusal = sawRefusal || r.Status == http.StatusForbidden
		}
		if !sawRefusal {
			t.Error("the origin never refused the wrong key: the test proves nothing")
		}
	})
}

func tokenWorker(t *testing.T, d *b2apitest.Server, srv *s3test.Server, token string) *workerdtest.Worker {
	t.Helper()
	opts := worker.Options{Mode: worker.Token, DownloadURL: d.URL + "/", Bucket: srv.Bucket, CacheControl: cacheControl}
	if err := opts.Validate(); err != nil {
		t.Fatal(err)
	}
	plain, secretNames := worker.Bindings(opts)
	if len(secretNames) != 1 || secretNames[0] != worker.SecretDownloadToken {
		t.Fatalf("token mode secrets %v", secretNames)
	}
	return workerdtest.StartWorker(t, workerdtest.Config{
		Module: worker.Module(), ModuleName: worker.ModuleName, CompatibilityDate: worker.CompatibilityDate,
		Text: merge(plain, map[string]string{worker.SecretDownloadToken: token}),
	})
}

func merge(a, b map[string]string) map[string]string {
	m := map[string]string{}
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

func TestTokenMode(t *testing.T) {
	srv := s3test.Start(t, s3test.Options{})
	d := b2apitest.Start(t, srv)
	shot := randomBytes(50_000)
	key := "2026/11/token shot+1 ☃.png"
	putObject(t, srv, key, "image/png", shot)

	// The token the Worker holds has run out: a plain 503 that no cache keeps.
	expired := tokenWorker(t, d, srv, d.Issue(-time.Minute))
	for _, m := range []string{"GET", "HEAD"} {
		a := do(t, m, expired.URL+path(key))
		want := expiredBody
		if m == "HEAD" {
			want = ""
		}
		plainAnswerStatus(t, m+" with an expired token", a, 503, want)
	}
	plainAnswer(t, "wrong token", do(t, "GET", tokenWorker(t, d, srv, "4_not-issued").URL+path(key)), 503, expiredBody)
	if n := len(expired.Cache.Keys()); n != 0 {
		t.Errorf("an expired-token answer was cached (%d entries)", n)
	}

	// A fresh token in a restarted Worker serves again.
	tok := d.Issue(time.Hour)
	w := tokenWorker(t, d, srv, tok)
	a := do(t, "GET", w.URL+path(key), "Authorization", "Bearer visitor", "Cookie", "c=1")
	if a.status != 200 || !bytes.Equal(a.body, shot) {
		t.Fatalf("GET with a fresh token: %d, %d bytes %q", a.status, len(a.body), a.body[:min(200, len(a.body))])
	}
	if a.header.Get("Etag") != `"`+sha1Hex(shot)+`"` || a.header.Get("Cache-Control") != cacheControl ||
		a.header.Get("Content-Type") != "image/png" || a.header.Get("Last-Modified") == "" {
		t.Errorf("token-mode headers %v", a.header)
	}
	noOriginHeaders(t, "token GET", a)
	seen := d.Requests()
	last := seen[len(seen)-1]
	if last.Get("Authorization") != tok || last.Get("Cookie") != "" {
		t.Errorf("B2 saw Authorization %q, Cookie %q; want the token and no cookie", last.Get("Authorization"), last.Get("Cookie"))
	}

	a = do(t, "HEAD", w.URL+path(key))
	if a.status != 200 || len(a.body) != 0 || a.header.Get("Content-Length") != strconv.Itoa(len(shot)) {
		t.Errorf("token HEAD: %d %q %v", a.status, a.body, a.header)
	}
	plainAnswer(t, "token missing key", do(t, "GET", w.URL+"/2026/11/none.png"), 404, notFoundBody)
	plainAnswer(t, "token listing", do(t, "GET", w.URL+"/?prefix=2026"), 404, notFoundBody)

	// The range is dropped once on the way: the Worker asks again.
	d.DropRange(1)
	before := len(d.Requests())
	a = do(t, "GET", w.URL+path(key), "Range", "bytes=10-19")
	if a.status != 206 || !bytes.Equal(a.body, shot[10:20]) || a.header.Get("Content-Range") != fmt.Sprintf("bytes 10-19/%d", len(shot)) {
		t.Errorf("range after a dropped one: %d, %d bytes, Content-Range %q", a.status, len(a.body), a.header.Get("Content-Range"))
	}
	if n := len(d.Requests()) - before; n != 2 {
		t.Errorf("B2 saw %d requests for the range, want 2 (one dropped, one retried)", n)
	}
	noOriginHeaders(t, "token range", a)
}

// plainAnswerStatus is plainAnswer for HEAD too, where there is no body.
func plainAnswerStatus(t *testing.T, what string, a answer, status int, body string) {
	t.Helper()
	if body != "" {
		plainAnswer(t, what, a, status, body)
		return
	}
	if a.status != status || len(a.body) != 0 || a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: %d %q Cache-Control %q, want %d, no body, no-store", what, a.status, a.body, a.header.Get("Cache-Control"), status)
	}
	noOriginHeaders(t, what, a)
}

func TestMisconfigured(t *testing.T) {
	for _, text := range []map[string]string{
		{worker.BindingMode: "public", worker.BindingBucket: "shots"},
		{worker.BindingMode: "signed", worker.BindingBucket: "shots", worker.BindingS3Endpoint: "http://127.0.0.1:9", worker.BindingRegion: "r"}, // no key
		{worker.BindingMode: "token", worker.BindingBucket: "shots"},
	} {
		w := workerdtest.StartWorker(t, workerdtest.Config{
			Module: worker.Module(), ModuleName: worker.ModuleName, CompatibilityDate: worker.CompatibilityDate, Text: text,
		})
		plainAnswer(t, fmt.Sprint(text), do(t, "GET", w.URL+"/2026/11/shot.png"), 503, "This link cannot be served right now\n")
	}
}

func TestBindings(t *testing.T) {
	plain, secrets := worker.Bindings(worker.Options{Mode: worker.Signed, S3Endpoint: "https://s3.us-west-004.backblazeb2.com/", Bucket: "shots"})
	want := map[string]string{worker.BindingMode: "signed", worker.BindingS3Endpoint: "https://s3.us-west-004.backblazeb2.com",
		worker.BindingRegion: "us-west-004", worker.BindingBucket: "shots"}
	if fmt.Sprint(plain) != fmt.Sprint(want) || fmt.Sprint(secrets) != "[B2_KEY_ID B2_KEY]" {
		t.Errorf("signed bindings %v %v, want %v", plain, secrets, want)
	}
	plain, secrets = worker.Bindings(worker.Options{Mode: worker.Token, DownloadURL: "https://f004.backblazeb2.com", Bucket: "shots", CacheControl: "max-age=60"})
	want = map[string]string{worker.BindingMode: "token", worker.BindingDownloadURL: "https://f004.backblazeb2.com",
		worker.BindingBucket: "shots", worker.BindingCacheControl: "max-age=60"}
	if fmt.Sprint(plain) != fmt.Sprint(want) || fmt.Sprint(secrets) != "[B2_DOWNLOAD_TOKEN]" {
		t.Errorf("token bindings %v %v, want %v", plain, secrets, want)
	}
	for _, bad := range []worker.Options{
		{Mode: "public", Bucket: "shots"},
		{Mode: worker.Signed, S3Endpoint: "https://example.com", Bucket: "shots"}, // no region
		{Mode: worker.Signed, S3Endpoint: "s3.us-west-004.backblazeb2.com", Bucket: "shots"},
		{Mode: worker.Token, DownloadURL: "https://f004.backblazeb2.com/file/shots", Bucket: "shots"},
		{Mode: worker.Token, DownloadURL: "https://f004.backblazeb2.com", Bucket: ""},
		{Mode: worker.Token, DownloadURL: "https://f004.backblazeb2.com", Bucket: "shots", CacheControl: "a\nb"},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate(%+v) passed", bad)
		}
	}
	if !bytes.Contains(worker.Module(), []byte("export default")) {
		t.Error("the module is not an ES module with a default export")
	}
}

// BenchmarkFirstByte measures the time to the first byte of a 200 KB
// object through the Worker in workerd (its edge cache bypassed, so each
// request is signed and fetched from the S3 server), straight from the S3
// server with a presigned URL, and through a second Worker from its edge
// cache, in alternation, and reports the medians and the ratio of the
// first two.
func BenchmarkFirstByte(b *testing.B) {
	srv := s3test.Start(b, s3test.Options{})
	data := randomBytes(200_000)
	key := "2026/11/bench.png"
	putObject(b, srv, key, "image/png", data)

	opts := worker.Options{Mode: worker.Signed, S3Endpoint: srv.Endpoint, Region: srv.Region, Bucket: srv.Bucket, CacheControl: cacheControl}
	plain, _ := worker.Bindings(opts)
	cfg := workerdtest.Config{
		Module: worker.Module(), ModuleName: worker.ModuleName, CompatibilityDate: worker.CompatibilityDate,
		Text: merge(plain, map[string]string{worker.SecretKeyID: srv.AccessKey, worker.SecretKey: srv.SecretKey}),
	}
	cached := workerdtest.StartWorker(b, cfg)
	cfg.CacheOff = true
	uncached := workerdtest.StartWorker(b, cfg)
	pre, err := s3.NewPresignClient(srv.Client()).PresignGetObject(b.Context(), &s3.GetObjectInput{Bucket: &srv.Bucket, Key: &key},
		s3.WithPresignExpires(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	ttfb := func(u string) time.Duration {
		req, err := http.NewRequestWithContext(b.Context(), "GET", u, nil)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		one := make([]byte, 1)
		if _, err := io.ReadFull(resp.Body, one); err != nil {
			b.Fatal(err)
		}
		first := time.Since(start)
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil || resp.StatusCode != 200 || n+1 != int64(len(data)) {
			b.Fatalf("GET %s: %d, %d bytes, %v", u, resp.StatusCode, n+1, err)
		}
		return first
	}
	// Warm the connections and the isolates, and fill the edge cache.
	through, direct, edge := uncached.URL+"/"+key, pre.URL, cached.URL+"/"+key
	ttfb(through)
	ttfb(direct)
	ttfb(edge)
	ctx, cancel := context.WithTimeout(b.Context(), time.Minute)
	defer cancel()
	if err := cached.Cache.WaitFor(ctx, edge); err != nil {
		b.Fatal(err)
	}
	var viaWorker, straight, fromEdge []time.Duration
	for b.Loop() {
		viaWorker = append(viaWorker, ttfb(through))
		straight = append(straight, ttfb(direct))
		fromEdge = append(fromEdge, ttfb(edge))
	}
	mw, md := median(viaWorker), median(straight)
	b.ReportMetric(mw, "ttfb-ms")
	b.ReportMetric(md, "direct-ttfb-ms")
	b.ReportMetric(median(fromEdge), "cached-ttfb-ms")
	if md > 0 {
		b.ReportMetric(mw/md, "ttfb-ratio")
	}
}

// median in milliseconds.
func median(d []time.Duration) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[len(s)/2].Microseconds()) / 1000
}
