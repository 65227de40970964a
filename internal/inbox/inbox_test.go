package inbox

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"upshot/internal/core"
	"upshot/internal/store"
	"upshot/uploader"
	"upshot/uploader/s3test"
)

// bed is a real server (behind the B2-like proxy when asked), a core on a
// data folder of its own working its queue, and the inbox on loopback.
type bed struct {
	srv    *s3test.Server
	proxy  *s3test.Proxy
	core   *core.Core
	inbox  *Server
	base   string // http://127.0.0.1:PORT
	token  string
	data   string
	events chan core.Event
}

type bedOptions struct {
	b2   bool
	edit func(*uploader.Config)
	// idle shortens the sessions' idle time below what settings allow.
	idle time.Duration
	// grantTTL is the inbox's Options.GrantTTL.
	grantTTL time.Duration
}

func newBed(t testing.TB, o bedOptions) *bed {
	t.Helper()
	b := &bed{data: t.TempDir(), events: make(chan core.Event, 1000)}
	b.srv = s3test.Start(t, s3test.Options{Versioning: o.b2})
	endpoint := b.srv.Endpoint
	if o.b2 {
		b.proxy = s3test.NewProxy(t, b.srv, s3test.ProxyOptions{B2: true})
		endpoint = b.proxy.URL
	}
	cfg := &uploader.Config{Target: uploader.Target{Endpoint: endpoint, Bucket: b.srv.Bucket, KeyID: b.srv.AccessKey,
		Key: uploader.NewSecret(b.srv.SecretKey), PathTemplate: "phone/{name}{ext}"}}
	cfg.SetDefaults()
	if o.edit != nil {
		o.edit(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if o.idle > 0 {
		cfg.Inbox.Idle = uploader.Duration(o.idle)
	}
	p := uploader.Policy{Attempts: 1}
	c, err := core.Open(t.Context(), core.Options{DataDir: b.data, Config: cfg, Role: core.RoleWatch,
		Uploader: uploader.Options{Policy: &p}, OnEvent: func(ev core.Event) { b.events <- ev }})
	if err != nil {
		t.Fatal(err)
	}
	b.core = c
	var wg sync.WaitGroup
	t.Cleanup(func() { wg.Wait(); c.Close() })
	wg.Go(func() { c.Run(t.Context()) })
	b.inbox, err = Listen(c, Options{Listen: "127.0.0.1:0", Name: "Upshot on the test bed", GrantTTL: o.grantTTL})
	if err != nil {
		t.Fatal(err)
	}
	wg.Go(func() { b.inbox.Serve(t.Context()) })
	sess, err := b.inbox.Open()
	if err != nil {
		t.Fatal(err)
	}
	b.token, b.base = sess.Token, "http://"+b.inbox.Addr().String()
	if len(sess.URLs) != 1 || sess.URLs[0] != b.base+"/#"+b.token {
		t.Fatalf("session URLs %v, want one page URL with the token in its fragment", sess.URLs)
	}
	return b
}

// call makes an API request with the session's token (or another) and
// decodes the JSON answer.
func (b *bed) call(t *testing.T, method, path, token string, body io.Reader, header map[string]string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, b.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: %d, not JSON: %v", method, path, resp.StatusCode, err)
	}
	return resp.StatusCode, out, resp.Header
}

// file is a phone's file, described as the page describes it.
type file struct {
	name, typ string
	data      []byte
}

func newFile(t *testing.T, name, typ string, n int) file {
	t.Helper()
	data := make([]byte, n)
	rand.Read(data)
	return file{name, typ, data}
}

func (f file) sha1() string { s := sha1.Sum(f.data); return hex.EncodeToString(s[:]) }

func (f file) grantBody() io.Reader {
	m := md5.Sum(f.data)
	b, _ := json.Marshal(map[string]any{"name": f.name, "size": len(f.data), "type": f.typ, "sha1": f.sha1(), "md5": hex.EncodeToString(m[:])})
	return bytes.NewReader(b)
}

// put sends body to a grant's URL with its headers, as the page does.
func put(t *testing.T, grant map[string]any, body []byte) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, grant["put_url"].(string), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range grant["headers"].(map[string]any) {
		req.Header.Set(k, v.(string))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// nextDone waits for the core's Done event.
func (b *bed) nextDone(t testing.TB) core.Event {
	t.Helper()
	guard := time.After(5 * time.Minute) // a hang guard, not a measurement
	for {
		select {
		case ev := <-b.events:
			if ev.Kind == core.Done {
				return ev
			}
		case <-guard:
			t.Fatal("no Done event")
		}
	}
}

// history is the core's history, newest first.
func (b *bed) history(t testing.TB) []store.Entry {
	t.Helper()
	h, err := b.core.History(t.Context(), store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestDirectUpload: the phone asks for a grant, PUTs straight to the
// bucket, says it is done; the desktop confirms it, records it from the
// phone and reports it Done. The same content again costs no upload.
func TestDirectUpload(t *testing.T) {
	for _, b2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "conditional", true: "b2"}[b2], func(t *testing.T) {
			b := newBed(t, bedOptions{b2: b2})
			code, sess, _ := b.call(t, "GET", "/api/session", b.token, nil, nil)
			if code != 200 || sess["desktop"] != "Upshot on the test bed" || sess["strip"] != true || sess["max_size"].(float64) != float64(uploader.DefaultInboxMaxSize) {
				t.Fatalf("session: %d %v", code, sess)
			}
			f := newFile(t, "IMG_0042.jpg", "image/jpeg", 200_000)
			code, g, _ := b.call(t, "POST", "/api/grant", b.token, f.grantBody(), nil)
			if code != 200 || g["existing"] != false || g["key"] != "phone/IMG_0042.jpg" || g["method"] != "PUT" {
				t.Fatalf("grant: %d %v", code, g)
			}
			headers := g["headers"].(map[string]any)
			if _, ok := headers["If-None-Match"]; ok == b2 {
				t.Fatalf("grant headers %v: If-None-Match where B2 refuses it, or missing where it works", headers)
			}
			cfg, _ := b.core.Settings()
			if strings.Contains(g["put_url"].(string), b.srv.SecretKey) || !strings.HasPrefix(g["put_url"].(string), cfg.Target.Endpoint+"/") {
				t.Fatalf("put_url %v: want the S3 endpoint, without the secret", g["put_url"])
			}
			if st := put(t, g, f.data); st != 200 {
				t.Fatalf("PUT to the bucket: %d", st)
			}
			code, done, _ := b.call(t, "POST", "/api/done", b.token, strings.NewReader(`{"id":"`+g["id"].(string)+`"}`), nil)
			if code != 200 || done["path"] != "direct" || done["key"] != "phone/IMG_0042.jpg" || done["link"] != done["url"] || done["url"] == "" {
				t.Fatalf("done: %d %v", code, done)
			}
			ev := b.nextDone(t)
			if ev.Job.Source != store.SourcePhone || ev.Entry.Key != "phone/IMG_0042.jpg" || ev.Entry.SHA1 != f.sha1() || ev.Entry.Deduplicated {
				t.Fatalf("Done event %+v", ev)
			}
			h := b.history(t)
			if len(h) != 1 || h[0].Source != store.SourcePhone || h[0].File != "IMG_0042.jpg" || h[0].URL != done["url"] {
				t.Fatalf("history %+v", h)
			}
			if b2 {
				for _, r := range b.proxy.Requests() {
					if r.Fault != "" && strings.HasSuffix(r.Path, "IMG_0042.jpg") {
						t.Fatalf("a request for the phone's file was refused as %s", r.Fault)
					}
				}
			}

			// Already uploaded: the link comes back, and there is nothing to send.
			code, again, _ := b.call(t, "POST", "/api/grant", b.token, newFileAs(f, "IMG_0042 copy.jpg").grantBody(), nil)
			if code != 200 || again["existing"] != true || again["url"] != done["url"] || again["put_url"] != nil {
				t.Fatalf("the same content again: %d %v", code, again)
			}
			if ev := b.nextDone(t); !ev.Entry.Deduplicated || ev.Entry.Key != "phone/IMG_0042.jpg" {
				t.Fatalf("the repeat's Done event %+v", ev)
			}
			if devs := b.inbox.Devices(b.token); len(devs) != 1 || devs[0].Name != "iPhone" || devs[0].Uploads != 2 {
				t.Fatalf("devices %+v, want one iPhone with two uploads", devs)
			}
		})
	}
}

func newFileAs(f file, name string) file { f.name = name; return f }

// TestLyingPhoneRecordsNothing: a phone that sends other bytes than it
// described is refused by the bucket, and its "done" records nothing.
func TestLyingPhoneRecordsNothing(t *testing.T) {
	b := newBed(t, bedOptions{b2: true})
	f := newFile(t, "lie.png", "image/png", 10_000)
	code, g, _ := b.call(t, "POST", "/api/grant", b.token, f.grantBody(), nil)
	if code != 200 {
		t.Fatalf("grant: %d %v", code, g)
	}
	other := bytes.Clone(f.data)
	other[0] ^= 0xff
	if st := put(t, g, other); st/100 != 4 {
		t.Fatalf("PUT of other bytes: %d, want a refusal", st)
	}
	code, done, _ := b.call(t, "POST", "/api/done", b.token, strings.NewReader(`{"id":"`+g["id"].(string)+`"}`), nil)
	if code != http.StatusConflict || !strings.Contains(done["error"].(string), "not recorded") {
		t.Fatalf("done after a refused PUT: %d %v", code, done)
	}
	if h := b.history(t); len(h) != 0 {
		t.Fatalf("history %+v, want nothing", h)
	}
}

// TestRefusals: a wrong token, a file too big or of a type not taken,
// too many files a minute, and a malformed request, each in plain words.
func TestRefusals(t *testing.T) {
	b := newBed(t, bedOptions{edit: func(c *uploader.Config) {
		c.Inbox.MaxSize, c.Inbox.GrantsPerMinute, c.Inbox.Types = 100_000, 3, []string{"image/*"}
	}})
	f := newFile(t, "a.jpg", "image/jpeg", 1000)
	if code, out, _ := b.call(t, "POST", "/api/grant", "wrong-token", f.grantBody(), nil); code != 401 || !strings.Contains(out["error"].(string), "Scan the QR code") {
		t.Fatalf("wrong token: %d %v", code, out)
	}
	if code, out, _ := b.call(t, "GET", "/api/session", "", nil, nil); code != 401 {
		t.Fatalf("no token: %d %v", code, out)
	}
	if code, out, _ := b.call(t, "POST", "/api/grant", b.token, newFile(t, "big.jpg", "image/jpeg", 100_001).grantBody(), nil); code != 413 || !strings.Contains(out["error"].(string), "100.0 kB") {
		t.Fatalf("too big: %d %v", code, out)
	}
	if code, out, _ := b.call(t, "POST", "/api/grant", b.token, newFile(t, "clip.mp4", "video/mp4", 1000).grantBody(), nil); code != 415 || !strings.Contains(out["error"].(string), "video/mp4") {
		t.Fatalf("a type not taken: %d %v", code, out)
	}
	if code, out, _ := b.call(t, "POST", "/api/grant", b.token, strings.NewReader(`{"name":1}`), nil); code != 400 {
		t.Fatalf("malformed: %d %v", code, out)
	}
	for i := range 3 {
		if code, out, _ := b.call(t, "POST", "/api/grant", b.token, newFile(t, "n.jpg", "image/jpeg", 1000).grantBody(), nil); code != 200 {
			t.Fatalf("grant %d: %d %v", i, code, out)
		}
	}
	code, out, h := b.call(t, "POST", "/api/grant", b.token, f.grantBody(), nil)
	if code != 429 || h.Get("Retry-After") == "" || !strings.Contains(out["error"].(string), "Too many") {
		t.Fatalf("the fourth grant in a minute: %d %v %v", code, out, h)
	}
	b.inbox.CloseSession(b.token)
	<-b.inbox.Ended(b.token)
	if code, out, _ := b.call(t, "GET", "/api/session", b.token, nil, nil); code != 401 {
		t.Fatalf("a closed session: %d %v", code, out)
	}
}

// TestIdleSessionEnds: a session nobody uses ends by itself, and its
// token opens nothing any more.
func TestIdleSessionEnds(t *testing.T) {
	b := newBed(t, bedOptions{idle: 200 * time.Millisecond})
	if code, out, _ := b.call(t, "GET", "/api/session", b.token, nil, nil); code != 200 {
		t.Fatalf("a fresh session: %d %v", code, out)
	}
	<-b.inbox.Ended(b.token)
	if code, out, _ := b.call(t, "GET", "/api/session", b.token, nil, nil); code != 401 {
		t.Fatalf("an idle session: %d %v", code, out)
	}
}

// TestRelay: a phone that cannot reach the bucket hands the bytes to the
// desktop, whose queue uploads them; bytes that do not match their SHA1
// are refused and nothing is kept.
func TestRelay(t *testing.T) {
	b := newBed(t, bedOptions{})
	f := newFile(t, "far away.jpg", "image/jpeg", 300_000)
	q := "/api/relay?name=" + url.QueryEscape(f.name) + "&type=" + url.QueryEscape(f.typ)
	code, out, _ := b.call(t, "PUT", q, b.token, bytes.NewReader(f.data), map[string]string{"X-Upshot-Sha1": f.sha1()})
	if code != 200 || out["path"] != "relay" || out["key"] != "phone/far away.jpg" {
		t.Fatalf("relay: %d %v", code, out)
	}
	ev := b.nextDone(t)
	if ev.Job.Source != store.SourcePhone || ev.Entry.SHA1 != f.sha1() {
		t.Fatalf("Done event %+v", ev)
	}
	if _, err := os.Stat(ev.Job.Path); !os.IsNotExist(err) {
		t.Fatalf("the relayed copy %s is still there after the upload (%v)", ev.Job.Path, err)
	}
	got, err := b.srv.Client().GetObject(t.Context(), &s3.GetObjectInput{Bucket: &b.srv.Bucket, Key: aws.String("phone/far away.jpg")})
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if !bytes.Equal(stored, f.data) {
		t.Fatal("the bucket holds other bytes than the phone sent")
	}

	g := newFile(t, "bent.jpg", "image/jpeg", 5000)
	code, out, _ = b.call(t, "PUT", "/api/relay?name=bent.jpg&type=image/jpeg", b.token, bytes.NewReader(g.data),
		map[string]string{"X-Upshot-Sha1": f.sha1()})
	if code != 422 || !strings.Contains(out["error"].(string), "changed on the way") {
		t.Fatalf("relay with a wrong SHA1: %d %v", code, out)
	}
	if h := b.history(t); len(h) != 1 {
		t.Fatalf("history %+v, want the first file only", h)
	}
	left, _ := os.ReadDir(filepath.Join(b.data, core.InboxDir))
	if len(left) != 0 {
		t.Fatalf("relayed copies left behind: %v", left)
	}
}

// TestServesPage: the page's files come with the CSP that lets the page
// reach the bucket's endpoint, beside the API; they are only read.
func TestServesPage(t *testing.T) {
	b := newBed(t, bedOptions{})
	resp, err := http.Get(b.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cfg, _ := b.core.Settings()
	if resp.StatusCode != 200 || !bytes.Contains(page, []byte(`<script src="app.js"`)) ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "connect-src 'self' "+cfg.Target.Endpoint+";") {
		t.Fatalf("GET /: %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	resp, err = http.Post(b.base+"/app.js", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST /app.js: %d, want 405", resp.StatusCode)
	}
	if code, out, _ := b.call(t, "GET", "/api/nothing", b.token, nil, nil); code != 404 {
		t.Fatalf("GET /api/nothing: %d %v", code, out)
	}
}

// TestGrantTTL: a grant lasts as long as the inbox's options say, and the
// bucket refuses it after that.
func TestGrantTTL(t *testing.T) {
	b := newBed(t, bedOptions{grantTTL: 2 * time.Second})
	f := newFile(t, "late.jpg", "image/jpeg", 1000)
	asked := time.Now()
	code, g, _ := b.call(t, "POST", "/api/grant", b.token, f.grantBody(), nil)
	if code != 200 {
		t.Fatalf("grant: %d %v", code, g)
	}
	expires, err := time.Parse(time.RFC3339, g["expires"].(string))
	if err != nil {
		t.Fatal(err)
	}
	// The signature's date is whole seconds, so the grant may end up to a
	// second before asked+2s.
	if expires.Before(asked.Add(time.Second-time.Millisecond)) || expires.After(time.Now().Add(2*time.Second)) {
		t.Fatalf("the grant asked at %s expires at %s; want about 2 s later", asked.Format(time.StampMilli), expires.Format(time.StampMilli))
	}
	time.Sleep(time.Until(expires.Add(time.Second))) // past the grant's end, by the bucket's clock too
	if st := put(t, g, f.data); st != http.StatusForbidden {
		t.Fatalf("PUT after the grant expired: %d, want 403", st)
	}
}
