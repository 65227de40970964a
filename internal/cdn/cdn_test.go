package cdn

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"upshot/internal/cloudflare"
	"upshot/internal/devtools/b2apitest"
	"upshot/internal/devtools/cfapitest"
	"upshot/internal/devtools/workerdtest"
	"upshot/uploader"
	"upshot/uploader/s3test"
)

// edge plays Cloudflare's edge for the domain: every request runs the
// Worker the stand-in API holds for it right now (module, plain bindings
// and secrets), in workerd; a new deployment starts a new workerd.
type edge struct {
	t       *testing.T
	api     *cfapitest.Server
	account string
	script  string

	mu      sync.Mutex
	running *workerdtest.Worker
	version [32]byte
}

func (e *edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s, ok := e.api.Script(e.account, e.script)
	if !ok {
		http.Error(w, "no Worker on this route", http.StatusBadGateway)
		return
	}
	text := map[string]string{}
	for k, v := range s.Plain {
		text[k] = v
	}
	for k, v := range e.api.Secrets(e.account, e.script) {
		text[k] = v
	}
	h := sha256.New()
	h.Write(s.Modules[s.MainModule])
	keys := make([]string, 0, len(text))
	for k := range text {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%s\x00%s\x00", k, text[k])
	}
	var version [32]byte
	copy(version[:], h.Sum(nil))
	e.mu.Lock()
	if e.running == nil || version != e.version {
		if e.running != nil {
			e.running.Close()
		}
		wk, err := workerdtest.StartProcess(context.Background(), workerdtest.Config{Module: s.Modules[s.MainModule], ModuleName: s.MainModule,
			CompatibilityDate: s.CompatibilityDate, Text: text, CacheOff: true})
		if err != nil {
			e.mu.Unlock()
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		e.running, e.version = wk, version
	}
	target := e.running.URL
	e.mu.Unlock()
	u, _ := url.Parse(target)
	httputil.NewSingleHostReverseProxy(u).ServeHTTP(w, r)
}

// fixture is a bucket on versitygw, B2's native API over it, the
// Cloudflare API stand-in, and the edge serving the domain.
type fixture struct {
	srv    *s3test.Server
	b2     *b2apitest.Server
	api    *cfapitest.Server
	edge   *edge
	domain string
	cfg    *uploader.Config
	up     *uploader.Uploader
	state  string
	// the Worker's read-only key
	readID, readKey string
}

const cfToken = "cf-token-abcdefghijklmnop"

func newFixture(t *testing.T, auth string) *fixture {
	t.Helper()
	if _, err := workerdtest.Binary(); err != nil {
		workerdtest.StartWorker(t, workerdtest.Config{}) // skips, or fails under make test
	}
	// The Worker's key is a real second user of versitygw, allowed only to
	// read the bucket, which versitygw checks on every signed request.
	f := &fixture{srv: s3test.Start(t, s3test.Options{User: true}), state: t.TempDir()}
	if err := f.srv.GrantUser(t.Context(), "s3:GetObject"); err != nil {
		t.Fatal(err)
	}
	f.readID, f.readKey = f.srv.UserAccessKey, f.srv.UserSecretKey
	f.b2 = b2apitest.Start(t, f.srv)
	f.b2.Key(f.srv.AccessKey, f.srv.SecretKey, f.b2.Allowed("readFiles", "writeFiles", "deleteFiles", "listFiles", "shareFiles"))
	f.b2.Key(f.readID, f.readKey, f.b2.Allowed("readFiles", "listBuckets"))
	f.api = cfapitest.Start(t, cfapitest.Options{Token: cfToken, Zones: []cfapitest.Zone{{ID: "zone1", Name: "127.0.0.1", AccountID: "acct1"}}})
	f.edge = &edge{t: t, api: f.api, account: "acct1", script: cloudflare.ScriptName("127.0.0.1")}
	hs := httptest.NewServer(f.edge)
	t.Cleanup(func() {
		hs.Close()
		f.edge.mu.Lock()
		if f.edge.running != nil {
			f.edge.running.Close()
		}
		f.edge.mu.Unlock()
	})
	f.domain = strings.TrimPrefix(hs.URL, "http://")
	f.cfg = &uploader.Config{Target: uploader.Target{Endpoint: f.srv.Endpoint, Bucket: f.srv.Bucket, KeyID: f.srv.AccessKey,
		Key: uploader.NewSecret(f.srv.SecretKey), PathTemplate: "shots/{name}{ext}", URLTemplate: hs.URL + "/{key}", B2APIURL: f.b2.URL},
		CDN: uploader.CDN{Private: true, Auth: auth, ReadKeyID: f.readID}}
	f.cfg.SetDefaults()
	if err := f.cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	up, err := uploader.New(f.cfg, uploader.Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	f.up = up
	return f
}

func (f *fixture) setup() Setup {
	return Setup{Config: f.cfg, CF: cloudflare.New(cfToken, cloudflare.WithBaseURL(f.api.URL)), Bucket: f.up,
		ReadKey: uploader.NewSecret(f.readKey), StateDir: f.state}
}

// changing counts the calls that change something.
func changing(calls []cfapitest.Call) int {
	n := 0
	for _, c := range calls {
		if c.Method != http.MethodGet {
			n++
		}
	}
	return n
}

// TestSignedDeployCheckRemove: the Worker goes up with the read-only key
// as secrets and serves the private bucket at the domain (the probe's
// SHA1 matched through it); a second deployment changes nothing; removal
// takes everything away.
func TestSignedDeployCheckRemove(t *testing.T) {
	f := newFixture(t, uploader.CDNSigned)
	res, err := f.setup().Deploy(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Checked, "http://"+f.domain+"/shots/.upshot-probe-") || len(res.Changes) == 0 {
		t.Fatalf("result %+v", res)
	}
	sec := f.api.Secrets("acct1", f.edge.script)
	if sec["B2_KEY_ID"] != f.readID || sec["B2_KEY"] != f.readKey || len(f.api.Routes("zone1")) != 1 {
		t.Fatalf("secrets %v, routes %+v", sec, f.api.Routes("zone1"))
	}
	before := changing(f.api.Calls())
	again, err := f.setup().Deploy(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Changes) != 0 || changing(f.api.Calls()) != before {
		t.Fatalf("a second deployment changed %+v", again.Changes)
	}
	for _, c := range append(res.Changes, again.Changes...) {
		if strings.Contains(c.What+c.Endpoint, f.readKey) || strings.Contains(c.What+c.Endpoint, cfToken) {
			t.Fatalf("a change shows a secret: %+v", c)
		}
	}
	removed, err := f.setup().Remove(t.Context())
	if err != nil || len(removed) == 0 {
		t.Fatalf("remove: %+v, %v", removed, err)
	}
	if _, ok := f.api.Script("acct1", f.edge.script); ok || len(f.api.Routes("zone1")) != 0 {
		t.Fatal("the Worker or its route is still there")
	}
}

// TestSignedRefusesWritingKey: a key that can write is not given to the
// Worker.
func TestSignedRefusesWritingKey(t *testing.T) {
	f := newFixture(t, uploader.CDNSigned)
	f.b2.Key(f.readID, f.readKey, f.b2.Allowed("readFiles", "writeFiles"))
	_, err := f.setup().Deploy(t.Context())
	if err == nil || !strings.Contains(err.Error(), "writeFiles") {
		t.Fatalf("deploy with a writing key: %v", err)
	}
	if changing(f.api.Calls()) != 0 {
		t.Fatal("something was deployed")
	}
}

// TestTokenModeRenews: in token mode the Worker gets a download
// authorization; once it has expired, links fail until Refresh puts a new
// one in place, which changes only the secret.
func TestTokenModeRenews(t *testing.T) {
	f := newFixture(t, uploader.CDNToken)
	s := f.setup()
	res, err := s.Deploy(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Expires.IsZero() || !Expiry(f.state, f.domain).Equal(res.Expires) {
		t.Fatalf("expiry %v, remembered %v", res.Expires, Expiry(f.state, f.domain))
	}
	first := f.api.Secrets("acct1", f.edge.script)["B2_DOWNLOAD_TOKEN"]
	f.b2.Expire()
	s.CheckFor = time.Millisecond
	if _, err := s.Check(t.Context()); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("check with an expired authorization: %v", err)
	}
	s.CheckFor = 0
	res, err = s.Refresh(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	second := f.api.Secrets("acct1", f.edge.script)["B2_DOWNLOAD_TOKEN"]
	if second == "" || second == first || res.Checked == "" {
		t.Fatalf("after refresh: token changed %v, checked %q", second != first, res.Checked)
	}
	if g := f.b2.Grants(); len(g) != 2 || g[1].Prefix != "shots/" || g[1].Seconds != 7*24*3600 {
		t.Fatalf("grants %+v", g)
	}
}
