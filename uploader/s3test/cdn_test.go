package s3test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// hostileKeys survive S3, B2 and the CDN. versitygw collapses "." and ".."
// segments and "//" (a/../b is stored as b), so ".." appears inside names.
var hostileKeys = []string{
	"2026/11/shot 1.png",
	"plus+sign/a+b.png",
	"hash#and?query=1&x.png",
	"percent%41%2F%25.png",
	"emoji/😀🎉.png",
	"rtl/\u202etxt.exe\u202c עברית مرحبا.png",
	"dots/..hidden/a..b/...png",
	"quotes/'single' \"double\" <angle> `tick`.png",
	"ctl-ish/tab\there;semi,comma=eq@at!bang*star(paren)$dollar&amp.png",
}

// pathFor escapes each segment of key with url.PathEscape, which leaves
// '+' alone; with plusAsSpace a '+' must go as %2B.
func pathFor(key string, plusAsSpace bool) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
		if plusAsSpace {
			segs[i] = strings.ReplaceAll(segs[i], "+", "%2B")
		}
	}
	return "/" + strings.Join(segs, "/")
}

func cdnGet(t *testing.T, method, rawURL string) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, rawURL, err)
	}
	return resp.StatusCode, b, resp.Header
}

func TestCDN(t *testing.T) {
	t.Parallel()
	srv := Start(t, Options{TLS: true, PublicRead: true})
	plain := NewCDN(t, srv, CDNOptions{})
	b2 := NewCDN(t, srv, CDNOptions{PlusAsSpace: true})
	broken := NewCDN(t, srv, CDNOptions{Broken: true})
	ctx := t.Context()
	for i, key := range hostileKeys {
		want := []byte("object " + strconv.Itoa(i) + " " + key)
		if err := putObject(ctx, srv.Client(), srv.Bucket, key, want); err != nil {
			t.Fatalf("PutObject %q: %v", key, err)
		}
		for _, tc := range []struct {
			cdn  *CDN
			plus bool
		}{{plain, false}, {b2, true}} {
			u := tc.cdn.URL + pathFor(key, tc.plus)
			status, got, _ := cdnGet(t, http.MethodGet, u)
			if status != http.StatusOK || !bytes.Equal(got, want) {
				t.Errorf("GET %s (key %q, PlusAsSpace %v): %d %q, want 200 %q", u, key, tc.plus, status, got, want)
			}
			status, got, h := cdnGet(t, http.MethodHead, u)
			if status != http.StatusOK || len(got) != 0 || h.Get("Content-Length") != strconv.Itoa(len(want)) {
				t.Errorf("HEAD %s: %d, Content-Length %q", u, status, h.Get("Content-Length"))
			}
		}
	}

	t.Run("plus as space", func(t *testing.T) {
		want := []byte("spaced")
		if err := putObject(ctx, srv.Client(), srv.Bucket, "a b.png", want); err != nil {
			t.Fatal(err)
		}
		if status, got, _ := cdnGet(t, http.MethodGet, b2.URL+"/a+b.png"); status != http.StatusOK || !bytes.Equal(got, want) {
			t.Errorf("B2-style CDN, /a+b.png: %d %q, want the object \"a b.png\"", status, got)
		}
		if status, _, _ := cdnGet(t, http.MethodGet, plain.URL+"/a+b.png"); status != http.StatusNotFound {
			t.Errorf("plain CDN, /a+b.png: %d, want 404 (it means the key \"a+b.png\")", status)
		}
	})

	t.Run("broken", func(t *testing.T) {
		// The first segment is taken for a bucket: "2026" does not exist.
		// (A segment that is no valid bucket name, such as "plus+sign",
		// gives 400 InvalidBucketName instead.)
		u := broken.URL + pathFor(hostileKeys[0], false)
		if status, _, _ := cdnGet(t, http.MethodGet, u); status != http.StatusNotFound {
			t.Errorf("broken CDN GET %s: %d, want 404", u, status)
		}
	})

	t.Run("range and method", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, plain.URL+pathFor(hostileKeys[0], false), nil)
		req.Header.Set("Range", "bytes=0-5")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusPartialContent || string(b) != "object" {
			t.Errorf("ranged GET: %s %q, want 206 \"object\"", resp.Status, b)
		}
		if status, _, _ := cdnGet(t, http.MethodDelete, plain.URL+"/x"); status != http.StatusMethodNotAllowed {
			t.Errorf("DELETE: %d, want 405", status)
		}
	})
}

// TestCDNPrivateBucket checks the CDN reads anonymously: without
// PublicRead the server refuses.
func TestCDNPrivateBucket(t *testing.T) {
	t.Parallel()
	srv := Start(t, Options{})
	cdn := NewCDN(t, srv, CDNOptions{})
	if err := putObject(t.Context(), srv.Client(), srv.Bucket, "p.png", []byte("p")); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := cdnGet(t, http.MethodGet, cdn.URL+"/p.png"); status != http.StatusForbidden {
		t.Errorf("CDN GET of a private object: %d, want 403", status)
	}
}

func TestEscapeKey(t *testing.T) {
	for key, want := range map[string]string{
		"a b+c/d.png": "a%20b%2Bc/d.png",
		"100%.png":    "100%25.png",
		"é#?":         "%C3%A9%23%3F",
		"A-Z_a.z~0/9": "A-Z_a.z~0/9",
	} {
		if got := escapeKey(key); got != want {
			t.Errorf("escapeKey(%q) = %q, want %q", key, got, want)
		}
		if back, err := url.PathUnescape(escapeKey(key)); err != nil || back != key {
			t.Errorf("escapeKey(%q) does not round-trip: %q, %v", key, back, err)
		}
	}
}
