package cdn

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"upshot/internal/cloudflare"
	"upshot/internal/devtools/b2apitest"
	"upshot/internal/devtools/cfapitest"
	"upshot/uploader"
	"upshot/uploader/s3test"
)

// fixture is a bucket on versitygw, B2's native API over it, the
// Cloudflare API stand-in, and the edge serving the domain.
type fixture struct {
	srv    *s3test.Server
	b2     *b2apitest.Server
	api    *cfapitest.Server
	script string
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
	f.script = cloudflare.ScriptName("127.0.0.1")
	edgeURL := f.api.StartEdge(t, "acct1", f.script)
	f.domain = strings.TrimPrefix(edgeURL, "http://")
	f.cfg = &uploader.Config{Target: uploader.Target{Endpoint: f.srv.Endpoint, Bucket: f.srv.Bucket, KeyID: f.srv.AccessKey,
		Key: uploader.NewSecret(f.srv.SecretKey), PathTemplate: "shots/{name}{ext}", URLTemplate: edgeURL + "/{key}", B2APIURL: f.b2.URL},
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
	sec := f.api.Secrets("acct1", f.script)
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
	if _, ok := f.api.Script("acct1", f.script); ok || len(f.api.Routes("zone1")) != 0 {
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
	first := f.api.Secrets("acct1", f.script)["B2_DOWNLOAD_TOKEN"]
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
	second := f.api.Secrets("acct1", f.script)["B2_DOWNLOAD_TOKEN"]
	if second == "" || second == first || res.Checked == "" {
		t.Fatalf("after refresh: token changed %v, checked %q", second != first, res.Checked)
	}
	if g := f.b2.Grants(); len(g) != 2 || g[1].Prefix != "shots/" || g[1].Seconds != 7*24*3600 {
		t.Fatalf("grants %+v", g)
	}
}

// TestKeepRenewed: an authorization past half its life is renewed at once
// by the loop the window and "upshot watch" run, which then waits.
func TestKeepRenewed(t *testing.T) {
	f := newFixture(t, uploader.CDNToken)
	s := f.setup()
	if _, err := s.Deploy(t.Context()); err != nil {
		t.Fatal(err)
	}
	first := f.api.Secrets("acct1", f.script)["B2_DOWNLOAD_TOKEN"]
	// As if six days had passed.
	if err := saveState(f.state, state{Domain: f.domain, Expires: time.Now().Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	reports := make(chan error, 4)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.KeepRenewed(ctx, func(_ time.Time, err error) { reports <- err })
	}()
	select {
	case err := <-reports:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute): // a hang guard
		t.Fatal("no renewal")
	}
	cancel()
	<-done
	if got := f.api.Secrets("acct1", f.script)["B2_DOWNLOAD_TOKEN"]; got == first || got == "" {
		t.Fatal("the Worker's token was not replaced")
	}
	if exp := Expiry(f.state, f.domain); time.Until(exp) < 6*24*time.Hour {
		t.Fatalf("the new authorization lasts until %v", exp)
	}
	// Signed mode has nothing to renew: the loop returns at once.
	g := newFixture(t, uploader.CDNSigned)
	g.setup().KeepRenewed(t.Context(), func(time.Time, error) { t.Error("a renewal in signed mode") })
}
