package cloudflare

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"upshot/internal/devtools/cfapitest"
)

const (
	testToken   = "tok-3f9a1c-very-secret-api-token"
	testAccount = "acct0123"
)

var testZones = []cfapitest.Zone{
	{ID: "zone-example", Name: "example.com", AccountID: testAccount},
	{ID: "zone-sub", Name: "sub.zone.net", AccountID: testAccount},
}

// env is a stand-in API and a client for it.
type env struct {
	srv    *cfapitest.Server
	client *Client
	logs   *bytes.Buffer
}

func newEnv(t *testing.T, perms []string) *env {
	t.Helper()
	srv := cfapitest.Start(t, cfapitest.Options{Token: testToken, Zones: testZones, Permissions: perms})
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return &env{
		srv:    srv,
		client: New(testToken, WithBaseURL(srv.URL), WithLogger(logger)),
		logs:   &logs,
	}
}

func (e *env) zone(t *testing.T) Zone {
	t.Helper()
	z, err := e.client.FindZone(t.Context(), "img.example.com")
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// since returns the calls after the first n, as "METHOD /path?query".
func (e *env) since(n int) []string {
	var out []string
	for _, c := range e.srv.Calls()[n:] {
		out = append(out, c.String())
	}
	return out
}

func changing(calls []string) []string {
	return slices.DeleteFunc(slices.Clone(calls), func(c string) bool { return strings.HasPrefix(c, "GET ") })
}

const (
	secretKeyID = "0051f00dkeyid-secret-value-one"
	secretKey   = "K005-super-secret-application-key"
)

func deployment(z Zone) Deployment {
	return Deployment{
		Zone: z,
		Script: Script{
			Name:              ScriptName("img.example.com"),
			MainModule:        "upshot.js",
			CompatibilityDate: "2025-06-01",
			Module:            []byte("export default { async fetch(req, env) { return new Response('ok') } }\n"),
			Plain:             map[string]string{"B2_BUCKET": "shots", "B2_ENDPOINT": "s3.us-west-004.backblazeb2.com"},
		},
		Secrets: map[string]string{"B2_KEY_ID": secretKeyID, "B2_APP_KEY": secretKey},
		Pattern: "img.example.com/*",
	}
}

func whats(ch []Change) []string {
	var out []string
	for _, c := range ch {
		out = append(out, c.What+" | "+c.Endpoint)
	}
	return out
}

func TestDeployFromNothing(t *testing.T) {
	e := newEnv(t, nil)
	z := e.zone(t)
	if z != (Zone{ID: "zone-example", Name: "example.com", AccountID: testAccount}) {
		t.Fatalf("zone = %+v", z)
	}
	d := deployment(z)
	changes, err := e.client.Deploy(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	script := "/accounts/" + testAccount + "/workers/scripts/upshot-img-example-com"
	wantCalls := []string{
		"GET /zones?name=img.example.com",
		"GET /zones?name=example.com",
		"GET " + script + "/settings",
		"GET /zones/zone-example/workers/routes",
		"PUT " + script,
		"PUT " + script + "/secrets",
		"PUT " + script + "/secrets",
		"POST /zones/zone-example/workers/routes",
	}
	if got := e.since(0); !slices.Equal(got, wantCalls) {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantCalls, "\n"))
	}
	wantChanges := []string{
		"upload the Worker | PUT /accounts/{account_id}/workers/scripts/upshot-img-example-com",
		"set the secret B2_APP_KEY | PUT /accounts/{account_id}/workers/scripts/upshot-img-example-com/secrets",
		"set the secret B2_KEY_ID | PUT /accounts/{account_id}/workers/scripts/upshot-img-example-com/secrets",
		"route img.example.com/* to the Worker | POST /zones/{zone_id}/workers/routes",
	}
	if got := whats(changes); !slices.Equal(got, wantChanges) {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantChanges, "\n"))
	}

	s, ok := e.srv.Script(testAccount, "upshot-img-example-com")
	if !ok {
		t.Fatal("the stand-in holds no Worker")
	}
	if s.MainModule != "upshot.js" || s.CompatibilityDate != "2025-06-01" || !bytes.Equal(s.Modules["upshot.js"], d.Script.Module) {
		t.Errorf("Worker = main %q, date %q, module %q", s.MainModule, s.CompatibilityDate, s.Modules["upshot.js"])
	}
	if s.ContentTypes["upshot.js"] != "application/javascript+module" {
		t.Errorf("module content type = %q", s.ContentTypes["upshot.js"])
	}
	wantPlain := maps.Clone(d.Script.Plain)
	wantPlain[SecretsHashBinding] = secretsHash(d.Secrets)
	if !maps.Equal(s.Plain, wantPlain) {
		t.Errorf("plain bindings = %v, want %v", s.Plain, wantPlain)
	}
	if got := e.srv.Secrets(testAccount, "upshot-img-example-com"); !maps.Equal(got, d.Secrets) {
		t.Errorf("secrets differ from the deployment's (%d names)", len(got))
	}
	routes := e.srv.Routes("zone-example")
	if len(routes) != 1 || routes[0].Pattern != "img.example.com/*" || routes[0].Script != "upshot-img-example-com" {
		t.Errorf("routes = %+v", routes)
	}
}

func TestDeployTwiceChangesNothing(t *testing.T) {
	e := newEnv(t, nil)
	d := deployment(e.zone(t))
	if _, err := e.client.Deploy(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	n := len(e.srv.Calls())
	changes, err := e.client.Deploy(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 0 {
		t.Errorf("second Deploy changed: %v", whats(changes))
	}
	calls := e.since(n)
	if ch := changing(calls); len(ch) != 0 {
		t.Errorf("second Deploy made changing calls: %v", ch)
	}
	// It did look: settings, content, secrets and routes.
	for _, want := range []string{"/settings", "/content/v2", "/secrets", "/workers/routes"} {
		if !slices.ContainsFunc(calls, func(c string) bool { return strings.HasSuffix(c, want) }) {
			t.Errorf("second Deploy did not read %s: %v", want, calls)
		}
	}
}

func TestDeployChanges(t *testing.T) {
	script := "/accounts/" + testAccount + "/workers/scripts/upshot-img-example-com"
	tests := []struct {
		name   string
		change func(d *Deployment)
		calls  []string // the changing calls, in order
	}{
		{"module", func(d *Deployment) { d.Script.Module = []byte("export default {}\n") }, []string{"PUT " + script}},
		{"plain binding value", func(d *Deployment) { d.Script.Plain["B2_BUCKET"] = "other" }, []string{"PUT " + script}},
		{"plain binding added", func(d *Deployment) { d.Script.Plain["CACHE_TTL"] = "3600" }, []string{"PUT " + script}},
		{"plain binding removed", func(d *Deployment) { delete(d.Script.Plain, "B2_ENDPOINT") }, []string{"PUT " + script}},
		{"compatibility date", func(d *Deployment) { d.Script.CompatibilityDate = "2025-07-01" }, []string{"PUT " + script}},
		{"secret value", func(d *Deployment) { d.Secrets["B2_APP_KEY"] = "K005-rotated-application-key" },
			[]string{"PUT " + script + "/secrets", "PUT " + script + "/secrets", "PUT " + script}},
		{"secret added", func(d *Deployment) { d.Secrets["SIGNING_KEY"] = "sig-added-secret-value" },
			[]string{"PUT " + script + "/secrets", "PUT " + script + "/secrets", "PUT " + script + "/secrets", "PUT " + script}},
		{"secret dropped", func(d *Deployment) { delete(d.Secrets, "B2_KEY_ID") },
			[]string{"PUT " + script + "/secrets", "PUT " + script, "DELETE " + script + "/secrets/B2_KEY_ID"}},
		{"plain binding becomes a secret", func(d *Deployment) {
			d.Secrets["B2_BUCKET"] = d.Script.Plain["B2_BUCKET"]
			delete(d.Script.Plain, "B2_BUCKET")
		}, []string{"PUT " + script, "PUT " + script + "/secrets", "PUT " + script + "/secrets", "PUT " + script + "/secrets"}},
		{"secret becomes a plain binding", func(d *Deployment) {
			d.Script.Plain["B2_KEY_ID"] = "public-now"
			delete(d.Secrets, "B2_KEY_ID")
		}, []string{"DELETE " + script + "/secrets/B2_KEY_ID", "PUT " + script + "/secrets", "PUT " + script}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			d := deployment(e.zone(t))
			if _, err := e.client.Deploy(t.Context(), d); err != nil {
				t.Fatal(err)
			}
			tt.change(&d)
			n := len(e.srv.Calls())
			changes, err := e.client.Deploy(t.Context(), d)
			if err != nil {
				t.Fatal(err)
			}
			if got := changing(e.since(n)); !slices.Equal(got, tt.calls) {
				t.Errorf("changing calls = %v, want %v", got, tt.calls)
			}
			if len(changes) != len(tt.calls) {
				t.Errorf("changes = %v, want %d", whats(changes), len(tt.calls))
			}
			s, _ := e.srv.Script(testAccount, d.Script.Name)
			if !bytes.Equal(s.Modules["upshot.js"], d.Script.Module) || s.CompatibilityDate != d.Script.CompatibilityDate {
				t.Errorf("the Worker's module or date is not the new one")
			}
			wantPlain := maps.Clone(d.Script.Plain)
			wantPlain[SecretsHashBinding] = secretsHash(d.Secrets)
			if !maps.Equal(s.Plain, wantPlain) {
				t.Errorf("plain bindings = %v, want %v", s.Plain, wantPlain)
			}
			// Secrets survive an upload (keep_bindings) and hold the new values.
			if got := e.srv.Secrets(testAccount, d.Script.Name); !maps.Equal(got, d.Secrets) {
				t.Errorf("secrets: names %v, want %v (or values differ)", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(d.Secrets)))
			}
			if len(e.srv.Routes("zone-example")) != 1 {
				t.Errorf("routes = %+v", e.srv.Routes("zone-example"))
			}
			// And now it is settled.
			n = len(e.srv.Calls())
			if changes, err := e.client.Deploy(t.Context(), d); err != nil || len(changes) != 0 {
				t.Errorf("third Deploy: %v, %v", whats(changes), err)
			}
			if ch := changing(e.since(n)); len(ch) != 0 {
				t.Errorf("third Deploy made changing calls: %v", ch)
			}
		})
	}
}

// A secret that went missing (deleted in the dashboard) is put again, alone.
func TestDeployPutsMissingSecret(t *testing.T) {
	e := newEnv(t, nil)
	d := deployment(e.zone(t))
	if _, err := e.client.Deploy(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodDelete, e.srv.URL+"/accounts/"+testAccount+"/workers/scripts/"+d.Script.Name+"/secrets/B2_KEY_ID", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("deleting the secret: %s", res.Status)
	}
	n := len(e.srv.Calls())
	changes, err := e.client.Deploy(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	if got := whats(changes); len(got) != 1 || !strings.HasPrefix(got[0], "set the secret B2_KEY_ID |") {
		t.Errorf("changes = %v", got)
	}
	if got := changing(e.since(n)); len(got) != 1 {
		t.Errorf("changing calls = %v", got)
	}
	if got := e.srv.Secrets(testAccount, d.Script.Name); !maps.Equal(got, d.Secrets) {
		t.Errorf("secrets not restored: %v", slices.Sorted(maps.Keys(got)))
	}
}

func TestDeployRefusesRouteOfAnotherWorker(t *testing.T) {
	e := newEnv(t, nil)
	z := e.zone(t)
	other := deployment(z)
	other.Script.Name = "blog-worker"
	if _, err := e.client.Deploy(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	n := len(e.srv.Calls())
	changes, err := e.client.Deploy(t.Context(), deployment(z))
	if err == nil {
		t.Fatal("Deploy took a route that runs another Worker")
	}
	for _, want := range []string{"blog-worker", "img.example.com/*", "remove that route", "another domain"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if len(changes) != 0 {
		t.Errorf("changes = %v", whats(changes))
	}
	if ch := changing(e.since(n)); len(ch) != 0 {
		t.Errorf("refused Deploy still made changing calls: %v", ch)
	}
	if r := e.srv.Routes("zone-example"); len(r) != 1 || r[0].Script != "blog-worker" {
		t.Errorf("routes = %+v", r)
	}
}

func TestRemove(t *testing.T) {
	e := newEnv(t, nil)
	z := e.zone(t)
	d := deployment(z)
	if _, err := e.client.Deploy(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	// Another Worker on another route stays.
	other := deployment(z)
	other.Script.Name = "blog-worker"
	other.Pattern = "blog.example.com/*"
	if _, err := e.client.Deploy(t.Context(), other); err != nil {
		t.Fatal(err)
	}

	changes, err := e.client.Remove(t.Context(), z, d.Script.Name, d.Pattern)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"remove the route img.example.com/* | DELETE /zones/{zone_id}/workers/routes/{route_id}",
		"remove the secret B2_APP_KEY | DELETE /accounts/{account_id}/workers/scripts/upshot-img-example-com/secrets/B2_APP_KEY",
		"remove the secret B2_KEY_ID | DELETE /accounts/{account_id}/workers/scripts/upshot-img-example-com/secrets/B2_KEY_ID",
		"delete the Worker | DELETE /accounts/{account_id}/workers/scripts/upshot-img-example-com",
	}
	if got := whats(changes); !slices.Equal(got, want) {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, ok := e.srv.Script(testAccount, d.Script.Name); ok {
		t.Error("the Worker is still there")
	}
	if r := e.srv.Routes("zone-example"); len(r) != 1 || r[0].Script != "blog-worker" {
		t.Errorf("routes = %+v, want only blog-worker's", r)
	}
	if _, ok := e.srv.Script(testAccount, "blog-worker"); !ok {
		t.Error("the other Worker went too")
	}

	n := len(e.srv.Calls())
	changes, err = e.client.Remove(t.Context(), z, d.Script.Name, d.Pattern)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 0 {
		t.Errorf("second Remove changed: %v", whats(changes))
	}
	if ch := changing(e.since(n)); len(ch) != 0 {
		t.Errorf("second Remove made changing calls: %v", ch)
	}

	// Deploy after Remove starts from nothing again.
	changes, err = e.client.Deploy(t.Context(), d)
	if err != nil || len(changes) != 4 {
		t.Errorf("Deploy after Remove: %v, %v", whats(changes), err)
	}
}

func TestRemoveLeavesRouteOfAnotherWorker(t *testing.T) {
	e := newEnv(t, nil)
	z := e.zone(t)
	other := deployment(z)
	other.Script.Name = "blog-worker"
	if _, err := e.client.Deploy(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	changes, err := e.client.Remove(t.Context(), z, ScriptName("img.example.com"), "img.example.com/*")
	if err != nil || len(changes) != 0 {
		t.Fatalf("Remove of a Worker that is not there: %v, %v", whats(changes), err)
	}
	if r := e.srv.Routes("zone-example"); len(r) != 1 {
		t.Errorf("routes = %+v", r)
	}
}

func TestPermissionMissing(t *testing.T) {
	all := []string{cfapitest.PermScripts, cfapitest.PermRoutes, cfapitest.PermZones}
	tests := []struct {
		missing string
		want    string
	}{
		{cfapitest.PermScripts, "lacks Workers Scripts: Edit on the account (read the Worker's settings)"},
		{cfapitest.PermRoutes, "lacks Workers Routes: Edit on the zone (list the zone's Worker routes)"},
		{cfapitest.PermZones, "lacks Zone: Read on the zone (find the zone)"},
	}
	for _, tt := range tests {
		t.Run(tt.missing, func(t *testing.T) {
			e := newEnv(t, slices.DeleteFunc(slices.Clone(all), func(p string) bool { return p == tt.missing }))
			var err error
			if tt.missing == cfapitest.PermZones {
				_, err = e.client.FindZone(t.Context(), "img.example.com")
			} else {
				_, err = e.client.Deploy(t.Context(), deployment(Zone{ID: "zone-example", Name: "example.com", AccountID: testAccount}))
			}
			if err == nil {
				t.Fatal("no error without the permission")
			}
			msg := err.Error()
			t.Log(msg)
			for _, want := range []string{tt.want, "HTTP 403", "10000", "Authentication error", "create a token with Workers Scripts: Edit and Workers Routes: Edit (Zone: Read to find the zone)"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			if !errors.Is(err, ErrPermission) || errors.Is(err, ErrTokenRefused) {
				t.Errorf("errors.Is: permission %v, refused %v", errors.Is(err, ErrPermission), errors.Is(err, ErrTokenRefused))
			}
			if ch := changing(e.since(0)); len(ch) != 0 {
				t.Errorf("changing calls were made: %v", ch)
			}
		})
	}
}

func TestWrongToken(t *testing.T) {
	srv := cfapitest.Start(t, cfapitest.Options{Token: testToken, Zones: testZones})
	const wrong = "wrong-token-7c1d2e-not-accepted"
	c := New(wrong, WithBaseURL(srv.URL))
	checks := map[string]func() error{
		"FindZone": func() error { _, err := c.FindZone(t.Context(), "img.example.com"); return err },
		"Deploy": func() error {
			_, err := c.Deploy(t.Context(), deployment(Zone{ID: "zone-example", Name: "example.com", AccountID: testAccount}))
			return err
		},
		"Remove": func() error {
			_, err := c.Remove(t.Context(), Zone{ID: "zone-example", Name: "example.com", AccountID: testAccount}, "upshot-img-example-com", "img.example.com/*")
			return err
		},
		"VerifyToken": func() error { return c.VerifyToken(t.Context()) },
	}
	for name, run := range checks {
		err := run()
		if err == nil {
			t.Fatalf("%s: no error with a wrong token", name)
		}
		msg := err.Error()
		t.Log(name, msg)
		if !strings.Contains(msg, "token was refused") || !strings.Contains(msg, "HTTP 401") {
			t.Errorf("%s: error %q does not say the token was refused", name, msg)
		}
		if strings.Contains(msg, wrong) || strings.Contains(msg, testToken) {
			t.Errorf("%s: error contains a token: %q", name, msg)
		}
		if !errors.Is(err, ErrTokenRefused) || errors.Is(err, ErrPermission) {
			t.Errorf("%s: errors.Is: refused %v, permission %v", name, errors.Is(err, ErrTokenRefused), errors.Is(err, ErrPermission))
		}
	}
	if err := New(testToken, WithBaseURL(srv.URL)).VerifyToken(t.Context()); err != nil {
		t.Errorf("VerifyToken with the right token: %v", err)
	}
}

func TestRetries(t *testing.T) {
	t.Run("429 with Retry-After", func(t *testing.T) {
		e := newEnv(t, nil)
		e.srv.Fail(cfapitest.Fault{Method: http.MethodGet, Path: "/zones", Status: http.StatusTooManyRequests, RetryAfter: "1"})
		z, err := e.client.FindZone(t.Context(), "example.com")
		if err != nil || z.ID != "zone-example" {
			t.Fatalf("FindZone after a 429: %+v, %v", z, err)
		}
		if got := e.since(0); len(got) != 2 {
			t.Errorf("calls = %v, want 2 attempts", got)
		}
	})
	t.Run("429 three times", func(t *testing.T) {
		e := newEnv(t, nil)
		e.srv.Fail(cfapitest.Fault{Method: http.MethodGet, Path: "/zones", Status: http.StatusTooManyRequests, RetryAfter: "0", Times: 3})
		_, err := e.client.FindZone(t.Context(), "example.com")
		if err == nil || !strings.Contains(err.Error(), "HTTP 429") || !strings.Contains(err.Error(), "try again") {
			t.Fatalf("error = %v", err)
		}
		if got := e.since(0); len(got) != 3 {
			t.Errorf("calls = %v, want 3 attempts (two retries)", got)
		}
	})
	t.Run("503 on a read", func(t *testing.T) {
		e := newEnv(t, nil)
		e.srv.Fail(cfapitest.Fault{Method: http.MethodGet, Path: "/zones", Status: http.StatusServiceUnavailable, RetryAfter: "0"})
		if _, err := e.client.FindZone(t.Context(), "example.com"); err != nil {
			t.Fatal(err)
		}
		if got := e.since(0); len(got) != 2 {
			t.Errorf("calls = %v, want 2 attempts", got)
		}
	})
	t.Run("503 on creating the route is not repeated", func(t *testing.T) {
		e := newEnv(t, nil)
		d := deployment(e.zone(t))
		e.srv.Fail(cfapitest.Fault{Method: http.MethodPost, Path: "/zones/zone-example/workers/routes", Status: http.StatusServiceUnavailable, RetryAfter: "0"})
		changes, err := e.client.Deploy(t.Context(), d)
		if err == nil || !strings.Contains(err.Error(), "route img.example.com/* to the Worker") || !strings.Contains(err.Error(), "HTTP 503") {
			t.Fatalf("error = %v", err)
		}
		if len(changes) != 3 {
			t.Errorf("changes before the error = %v", whats(changes))
		}
		posts := slices.DeleteFunc(e.since(0), func(c string) bool { return !strings.HasPrefix(c, "POST ") })
		if len(posts) != 1 {
			t.Errorf("POSTs = %v, want 1", posts)
		}
		// The next Deploy finishes the job.
		changes, err = e.client.Deploy(t.Context(), d)
		if err != nil || len(changes) != 1 || !strings.HasPrefix(changes[0].What, "route ") {
			t.Errorf("repair Deploy: %v, %v", whats(changes), err)
		}
	})
}

// Cloudflare may answer a token it does not accept with 403 and code 10000,
// as it does a missing permission; the token check tells them apart.
func TestForbiddenForARefusedToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/user/tokens/verify" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"success":false,"errors":[{"code":1000,"message":"Invalid API Token"}],"messages":[],"result":null}`)
			return
		}
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"success":false,"errors":[{"code":10000,"message":"Authentication error"}],"messages":[],"result":null}`)
	}))
	defer srv.Close()
	_, err := New(testToken, WithBaseURL(srv.URL)).FindZone(t.Context(), "img.example.com")
	if !errors.Is(err, ErrTokenRefused) || errors.Is(err, ErrPermission) || !strings.Contains(err.Error(), "HTTP 403") {
		t.Errorf("error = %v; want the token refused", err)
	}
}

func TestContextCanceled(t *testing.T) {
	e := newEnv(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := e.client.FindZone(ctx, "img.example.com")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}

func TestDeployValidates(t *testing.T) {
	z := Zone{ID: "zone-example", Name: "example.com", AccountID: testAccount}
	tests := []struct {
		name   string
		change func(d *Deployment)
		want   string
	}{
		{"no zone", func(d *Deployment) { d.Zone = Zone{} }, "FindZone"},
		{"bad name", func(d *Deployment) { d.Script.Name = "Upshot.img" }, "Worker name"},
		{"no main module", func(d *Deployment) { d.Script.MainModule = "" }, "main module"},
		{"bad date", func(d *Deployment) { d.Script.CompatibilityDate = "June 2025" }, "compatibility date"},
		{"empty module", func(d *Deployment) { d.Script.Module = nil }, "module is empty"},
		{"reserved plain", func(d *Deployment) { d.Script.Plain[SecretsHashBinding] = "x" }, "reserved"},
		{"bad binding name", func(d *Deployment) { d.Script.Plain["b2-bucket"] = "x" }, "JavaScript identifier"},
		{"clash", func(d *Deployment) { d.Script.Plain["B2_APP_KEY"] = "x" }, "both a plain binding and a secret"},
		{"empty secret", func(d *Deployment) { d.Secrets["B2_APP_KEY"] = "" }, "secret B2_APP_KEY is empty"},
		{"no pattern", func(d *Deployment) { d.Pattern = "" }, "route pattern"},
		{"pattern with scheme", func(d *Deployment) { d.Pattern = "https://img.example.com/*" }, "route pattern"},
		{"pattern outside zone", func(d *Deployment) { d.Pattern = "img.example.org/*" }, "not in the zone example.com"},
	}
	srv := cfapitest.Start(t, cfapitest.Options{Token: testToken, Zones: testZones})
	c := New(testToken, WithBaseURL(srv.URL))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := deployment(z)
			tt.change(&d)
			_, err := c.Deploy(t.Context(), d)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one saying %q", err, tt.want)
			}
			for _, v := range []string{secretKey, secretKeyID} {
				if strings.Contains(err.Error(), v) {
					t.Errorf("error contains a secret value: %q", err)
				}
			}
		})
	}
	if n := len(srv.Calls()); n != 0 {
		t.Errorf("invalid deployments made %d calls", n)
	}
}

// fmtChanges renders changes for leak checks.
func fmtChanges(ch []Change) string { return fmt.Sprintf("%+v %#v", ch, ch) }
