package uploader

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"upshot/uploader/s3test"
)

func TestVerifiedLinks(t *testing.T) {
	e := newEnv(t, envOptions{publicRead: true})
	good := s3test.NewCDN(t, e.srv, s3test.CDNOptions{})
	broken := s3test.NewCDN(t, e.srv, s3test.CDNOptions{Broken: true})
	for _, c := range []struct {
		name, template, want string
	}{
		{"good CDN", good.URL + "/{key}", LinkVerified},
		{"broken rewrite rule", broken.URL + "/{key}", "link broken: 40"},
		{"private bucket", e.srv.Endpoint + "/private-bucket-x/{key}", "link broken: 40"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.cfg.Target.URLTemplate = c.template
			up := e.newUploader(t, testPolicy(), nil)
			res, err := up.Upload(t.Context(), Request{Path: writeFile(t, t.TempDir(), strings.ReplaceAll(c.name, " ", "-")+".png", randomBytes(t, 4096))})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(res.LinkStatus, c.want) {
				t.Fatalf("link status %q, want %q…", res.LinkStatus, c.want)
			}
		})
	}
	// The hints name the fix.
	if h := linkHint(404); !strings.Contains(h, "CDN rewrite rule") {
		t.Errorf("404 hint %q", h)
	}
	if h := linkHint(403); !strings.Contains(h, "private") || !strings.Contains(h, "expiring links") {
		t.Errorf("403 hint %q", h)
	}
	// verify_links = false turns it off.
	off := false
	e.cfg.Target.VerifyLinks = &off
	e.cfg.Target.URLTemplate = broken.URL + "/{key}"
	up := e.newUploader(t, testPolicy(), nil)
	res, err := up.Upload(t.Context(), Request{Path: writeFile(t, t.TempDir(), "unverified.png", []byte("x"))})
	if err != nil || res.LinkStatus != "" {
		t.Fatalf("verify_links=false: status %q, err %v", res.LinkStatus, err)
	}
}

func TestShareExpires(t *testing.T) {
	e := newEnv(t, envOptions{}) // a private bucket
	data := []byte("private picture")
	res, err := e.up.Upload(t.Context(), Request{Path: writeFile(t, t.TempDir(), "private.png", data)})
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(res.URL); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("plain link to a private bucket: %v %v, want 403", resp.Status, err)
	}
	// Two seconds: long enough for the first fetch on a loaded machine.
	link, err := e.up.Share(t.Context(), res.Key, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	signed := time.Now()
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != string(data) {
		t.Fatalf("before expiry: %d %q", resp.StatusCode, body)
	}
	// Presigned links count whole seconds: wait out the expiry itself.
	time.Sleep(time.Until(signed.Add(3100 * time.Millisecond)))
	resp, err = http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("after expiry: %d, want 403", resp.StatusCode)
	}

	for _, d := range []time.Duration{0, MaxShareExpiry + time.Second, 30 * 24 * time.Hour} {
		if _, err := e.up.Share(t.Context(), res.Key, d); err == nil || !strings.Contains(err.Error(), "7 days") {
			t.Errorf("Share(%v) = %v, want a 7-day limit error", d, err)
		}
	}
	if _, err := e.up.Share(t.Context(), "2026/11/nope.png", time.Hour); err == nil || !strings.Contains(err.Error(), "not in bucket") {
		t.Errorf("Share of a missing key = %v", err)
	}
}

// TestDelete removes every version, on a store that keeps none and on the
// B2-like one, where a plain delete would only hide the file.
func TestDelete(t *testing.T) {
	for _, b2 := range []bool{false, true} {
		e := newEnv(t, envOptions{b2: b2})
		res, err := e.up.Upload(t.Context(), Request{Path: writeFile(t, t.TempDir(), "gone.png", []byte("bye"))})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.up.Delete(t.Context(), res.Key); err != nil {
			t.Fatal(err)
		}
		if e.exists(t, res.Key) {
			t.Fatal("object still there after Delete")
		}
		out, err := e.srv.Client().ListObjectVersions(t.Context(), &s3.ListObjectVersionsInput{Bucket: &e.srv.Bucket, Prefix: aws.String(res.Key)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Versions)+len(out.DeleteMarkers) != 0 {
			t.Fatalf("b2=%v: %d versions and %d hide markers left", b2, len(out.Versions), len(out.DeleteMarkers))
		}
	}
}

// TestShareB2Like: a shared link is a presigned GET with no checksum
// parameter, which B2 would refuse, and it works through the B2-like proxy.
func TestShareB2Like(t *testing.T) {
	e := newEnv(t, envOptions{tls: true, b2: true})
	data := []byte("shared picture")
	res, err := e.up.Upload(t.Context(), Request{Path: writeFile(t, t.TempDir(), "shared.png", data)})
	if err != nil {
		t.Fatal(err)
	}
	link, err := e.up.Share(t.Context(), res.Key, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(link), "checksum") {
		t.Fatalf("presigned link carries a checksum parameter: %s", link)
	}
	resp, err := e.proxy.HTTPClient().Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != string(data) {
		t.Fatalf("shared link through the B2-like proxy: %d %q", resp.StatusCode, body)
	}
	for _, r := range e.proxy.Requests() {
		if r.Method == http.MethodGet && r.Fault != "" {
			t.Fatalf("the shared link's GET was refused: %+v", r)
		}
	}
}
