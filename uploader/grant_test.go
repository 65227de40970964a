package uploader

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// grantFor describes data as a browser would after hashing it.
func grantFor(name, contentType string, data []byte) GrantRequest {
	m := md5.Sum(data)
	return GrantRequest{Name: name, Size: int64(len(data)), ContentType: contentType, SHA1: sha1Hex(data), MD5: hex.EncodeToString(m[:])}
}

// putGranted sends body to the grant's URL the way the page does: the
// grant's headers, nothing else; edit may change the request first. It
// returns the status and the response body.
func putGranted(t *testing.T, g Grant, body []byte, edit func(*http.Request)) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, g.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for name, values := range g.Header {
		req.Header[name] = values
	}
	if edit != nil {
		edit(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(text)
}

// TestGrantDirectPut: a grant is a presigned PUT that signs the key, the
// length, the MD5, the type and the SHA1; a client that sends exactly that
// stores the file, and ConfirmGrant accepts it. On a B2-like endpoint the
// grant carries no If-None-Match, which B2 would refuse with 501.
func TestGrantDirectPut(t *testing.T) {
	for _, b2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "conditional", true: "b2"}[b2], func(t *testing.T) {
			e := newEnv(t, envOptions{b2: b2, proxy: true})
			data := randomBytes(t, 300_000)
			g, err := e.up.Grant(t.Context(), grantFor("IMG_0001.jpg", "image/jpeg", data), 5*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if g.Existing || g.Key != "2026/11/IMG_0001.jpg" || g.Conditional == b2 {
				t.Fatalf("grant %+v: want a new object at 2026/11/IMG_0001.jpg, conditional %v", g, !b2)
			}
			if left := time.Until(g.Expires); left <= 0 || left > 5*time.Minute+time.Minute {
				t.Fatalf("grant expires %v, want about 5 minutes from now", g.Expires)
			}
			u, err := url.Parse(g.URL)
			if err != nil {
				t.Fatal(err)
			}
			signed := strings.Split(u.Query().Get("X-Amz-SignedHeaders"), ";")
			for _, h := range []string{"cache-control", "content-length", "content-md5", "content-type", "host", "x-amz-meta-sha1"} {
				if !slices.Contains(signed, h) {
					t.Fatalf("signed headers %v lack %s", signed, h)
				}
			}
			if slices.Contains(signed, "if-none-match") == b2 {
				t.Fatalf("signed headers %v: If-None-Match signed on a B2-like endpoint, or missing where it works", signed)
			}
			if strings.Contains(g.URL, e.srv.SecretKey) {
				t.Fatal("the grant's URL carries the secret key")
			}
			if status, body := putGranted(t, g, data, nil); status != http.StatusOK {
				t.Fatalf("PUT: %d %s", status, body)
			}
			res, err := e.up.ConfirmGrant(t.Context(), g)
			if err != nil {
				t.Fatal(err)
			}
			if res.Key != g.Key || res.SHA1 != sha1Hex(data) || res.Size != int64(len(data)) || res.Deduplicated || res.URL == "" {
				t.Fatalf("confirmed %+v", res)
			}
			if !bytes.Equal(e.get(t, g.Key), data) {
				t.Fatal("the stored object differs from the bytes sent")
			}
			for _, r := range e.proxy.Requests() {
				if r.Fault != "" && r.Method == http.MethodPut && strings.HasSuffix(r.Path, "IMG_0001.jpg") {
					t.Fatalf("the granted PUT was refused as %s", r.Fault)
				}
			}

			// The same content again: nothing to send. Other content
			// under the same name: the next free name.
			again, err := e.up.Grant(t.Context(), grantFor("IMG_0001.jpg", "image/jpeg", data), 0)
			if err != nil || !again.Existing || again.Key != g.Key || again.URL != "" || again.Link.URL != res.URL {
				t.Fatalf("the same content: %+v, %v; want the existing object", again, err)
			}
			other, err := e.up.Grant(t.Context(), grantFor("IMG_0001.jpg", "image/jpeg", randomBytes(t, 1000)), 0)
			if err != nil || other.Existing || other.Key != "2026/11/IMG_0001-1.jpg" {
				t.Fatalf("other content, same name: %+v, %v; want IMG_0001-1.jpg", other, err)
			}
		})
	}
}

// TestGrantRefusesOtherBytes: a client that sends anything but the
// granted bytes and headers is refused by the server itself, and nothing
// is confirmed.
func TestGrantRefusesOtherBytes(t *testing.T) {
	e := newEnv(t, envOptions{b2: true})
	data := randomBytes(t, 50_000)
	g, err := e.up.Grant(t.Context(), grantFor("photo.png", "image/png", data), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(data)
	flipped[100] ^= 1
	cases := []struct {
		name string
		body []byte
		edit func(*http.Request)
	}{
		{"same size, other bytes", flipped, nil},
		{"longer", append(bytes.Clone(data), 0), nil},
		{"other type", data, func(r *http.Request) { r.Header.Set("Content-Type", "text/html") }},
		{"other SHA1 metadata", data, func(r *http.Request) { r.Header.Set("X-Amz-Meta-Sha1", sha1Hex(flipped)) }},
		{"no MD5", data, func(r *http.Request) { r.Header.Del("Content-Md5") }},
	}
	for _, c := range cases {
		if status, body := putGranted(t, g, c.body, c.edit); status/100 != 4 {
			t.Errorf("%s: the server answered %d %s, want a refusal", c.name, status, body)
		}
	}
	if _, err := e.up.ConfirmGrant(t.Context(), g); !errors.Is(err, ErrNotConfirmed) {
		t.Fatalf("confirm after refused PUTs: %v, want ErrNotConfirmed", err)
	}
	if e.exists(t, g.Key) {
		t.Fatal("a refused PUT stored an object")
	}
}

// TestGrantExpires: a grant is refused by the server once it has expired.
func TestGrantExpires(t *testing.T) {
	e := newEnv(t, envOptions{})
	data := randomBytes(t, 1000)
	g, err := e.up.Grant(t.Context(), grantFor("late.gif", "image/gif", data), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// Signatures count whole seconds: wait until the server must see the
	// grant as expired.
	time.Sleep(time.Until(g.Expires.Add(1100 * time.Millisecond)))
	if status, body := putGranted(t, g, data, nil); status != http.StatusForbidden {
		t.Fatalf("an expired grant: %d %s, want 403", status, body)
	}
	if e.exists(t, g.Key) {
		t.Fatal("an expired grant stored an object")
	}
}

// TestGrantRequestChecked: requests no upload could satisfy are refused
// before anything is signed, in words the page can show.
func TestGrantRequestChecked(t *testing.T) {
	e := newEnv(t, envOptions{})
	good := grantFor("a.jpg", "image/jpeg", []byte("jpeg bytes"))
	edit := func(f func(*GrantRequest)) GrantRequest { r := good; f(&r); return r }
	cases := map[string]GrantRequest{
		"empty":          edit(func(r *GrantRequest) { r.Size = 0 }),
		"too big":        edit(func(r *GrantRequest) { r.Size = 6_000_000_000 }),
		"a path":         edit(func(r *GrantRequest) { r.Name = "../etc/passwd.jpg" }),
		"control":        edit(func(r *GrantRequest) { r.Name = "a\x00.jpg" }),
		"short SHA1":     edit(func(r *GrantRequest) { r.SHA1 = "abcd" }),
		"no MD5":         edit(func(r *GrantRequest) { r.MD5 = "" }),
		"html as a jpeg": edit(func(r *GrantRequest) { r.ContentType = "text/html" }),
	}
	for name, req := range cases {
		if g, err := e.up.Grant(t.Context(), req, time.Minute); !errors.Is(err, ErrFile) || g.URL != "" {
			t.Errorf("%s: %+v, %v; want an ErrFile refusal", name, g, err)
		}
	}
}
