package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"upshot/internal/cloudflare"
	"upshot/internal/devtools/b2apitest"
	"upshot/internal/devtools/cfapitest"
	"upshot/uploader/s3test"
)

const cfTestToken = "cf-test-token-0123456789"

// privateEnv is a private bucket on versitygw with B2's native API over
// it, the Cloudflare API stand-in, and its edge for the domain.
type privateEnv struct {
	srv    *s3test.Server
	config string
	env    []string
	secret []string // values no output may show
	domain string
}

func newPrivateEnv(t *testing.T, perms []string) *privateEnv {
	t.Helper()
	srv := s3test.Start(t, s3test.Options{User: true})
	if err := srv.GrantUser(t.Context(), "s3:GetObject"); err != nil {
		t.Fatal(err)
	}
	b2 := b2apitest.Start(t, srv)
	b2.Key(srv.AccessKey, srv.SecretKey, b2.Allowed("readFiles", "writeFiles", "deleteFiles", "listFiles", "shareFiles"))
	b2.Key(srv.UserAccessKey, srv.UserSecretKey, b2.Allowed("readFiles", "listBuckets"))
	api := cfapitest.Start(t, cfapitest.Options{Token: cfTestToken, Permissions: perms,
		Zones: []cfapitest.Zone{{ID: "zone1", Name: "127.0.0.1", AccountID: "acct1"}}})
	edge := api.StartEdge(t, "acct1", cloudflare.ScriptName("127.0.0.1"))
	p := &privateEnv{srv: srv, domain: strings.TrimPrefix(edge, "http://"),
		secret: []string{srv.SecretKey, srv.UserSecretKey, cfTestToken}}
	p.config = filepath.Join(t.TempDir(), "config.toml")
	body := fmt.Sprintf(`[target]
endpoint = %q
bucket = %q
b2_api_url = %q
path_template = "shots/{name}{ext}"
url_template = "%s/{key}"
[cdn]
private = true
read_key_id = %q
cloudflare_api_url = %q
`, srv.Endpoint, srv.Bucket, b2.URL, edge, srv.UserAccessKey, api.URL)
	if err := os.WriteFile(p.config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	p.env = []string{"UPSHOT_DATA_DIR=" + t.TempDir(), "B2_APPLICATION_KEY_ID=" + srv.AccessKey, "B2_APPLICATION_KEY=" + srv.SecretKey,
		"CLOUDFLARE_API_TOKEN=" + cfTestToken, "UPSHOT_READ_KEY=" + srv.UserSecretKey, "DISPLAY=", "WAYLAND_DISPLAY="}
	return p
}

// run runs the binary and fails if its output shows a secret.
func (p *privateEnv) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	code, out, errs, _ := runBin(t, nil, p.env, append(args, "--config", p.config)...)
	for _, s := range p.secret {
		if strings.Contains(out+errs, s) {
			t.Fatalf("%q shows a secret:\n%s\n%s", args, out, errs)
		}
	}
	return code, out, errs
}

// TestPrivateBucketCommands: cdn-setup --private deploys the Worker and
// verifies a probe through the domain; a second run changes nothing;
// check vouches for the read-only key and the link; an upload's link
// serves the file through the Worker; --remove takes it all away.
func TestPrivateBucketCommands(t *testing.T) {
	p := newPrivateEnv(t, nil)
	code, out, errs := p.run(t, "cdn-setup", "--private")
	if code != exitOK || !strings.Contains(out, "link verified: http://"+p.domain+"/shots/") || !strings.Contains(out, "PUT /accounts/") {
		t.Fatalf("cdn-setup --private: exit %d\n%s\n%s", code, out, errs)
	}
	t.Logf("upshot cdn-setup --private:\n%s", out)
	code, out, errs = p.run(t, "cdn-setup", "--private")
	if code != exitOK || !strings.Contains(out, "nothing to change") {
		t.Fatalf("a second cdn-setup --private: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = p.run(t, "check")
	if code != exitOK || !strings.Contains(out, "can only read "+p.srv.Bucket) || !strings.Contains(out, "link verified through "+p.domain) {
		t.Fatalf("check: exit %d\n%s\n%s", code, out, errs)
	}
	file := tempFile(t, "private.png", 4000)
	code, out, errs = p.run(t, "upload", "--no-clipboard", file)
	link := strings.TrimSpace(out)
	if code != exitOK || !strings.HasPrefix(link, "http://"+p.domain+"/shots/private.png") {
		t.Fatalf("upload: exit %d\n%s\n%s", code, out, errs)
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want, _ := os.ReadFile(file)
	if resp.StatusCode != 200 || string(got) != string(want) {
		t.Fatalf("the link through the Worker: %d, %d bytes, want %d", resp.StatusCode, len(got), len(want))
	}
	code, out, errs = p.run(t, "cdn-setup", "--remove")
	if code != exitOK || !strings.Contains(out, "DELETE") {
		t.Fatalf("--remove: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = p.run(t, "cdn-setup", "--remove")
	if code != exitOK || !strings.Contains(out, "nothing to remove") {
		t.Fatalf("a second --remove: exit %d\n%s", code, out)
	}
}

// TestPrivateBucketMissingPermission: a token without Workers Routes gets
// a message naming that permission, and the secret values stay hidden.
func TestPrivateBucketMissingPermission(t *testing.T) {
	p := newPrivateEnv(t, []string{cfapitest.PermZones, cfapitest.PermScripts})
	code, _, errs := p.run(t, "cdn-setup", "--private")
	if code != exitFailed || !strings.Contains(errs, "Workers Routes") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	t.Logf("without Workers Routes: %s", errs)
}

func TestCDNRefreshSchedule(t *testing.T) {
	p := newPrivateEnv(t, nil)
	code, out, _ := p.run(t, "cdn-refresh", "--schedule")
	for _, w := range []string{"crontab", "cdn-refresh --config", "OnCalendar=", "schtasks /Create"} {
		if code != exitOK || !strings.Contains(out, w) {
			t.Fatalf("exit %d: the schedule lacks %q:\n%s", code, w, out)
		}
	}
	// Signed mode has nothing to renew.
	if code, _, errs := p.run(t, "cdn-refresh"); code != exitUsage || !strings.Contains(errs, "token mode") {
		t.Fatalf("cdn-refresh in signed mode: exit %d %s", code, errs)
	}
}
