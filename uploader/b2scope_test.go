package uploader

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fakeB2API serves b2_authorize_account answers in B2's documented v4
// shape, checking Basic auth.
func fakeB2API(t *testing.T, keyID, key string, status int, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/b2api/v4/b2_authorize_account" {
			http.NotFound(w, r)
			return
		}
		id, secret, ok := r.BasicAuth()
		if !ok || id != keyID || secret != key {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"status":401,"code":"bad_auth_token","message":"Invalid authorization"}`)
			return
		}
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func authorizeJSON(buckets, caps, prefix string) string {
	return `{"accountId":"acc123","authorizationToken":"tok","apiInfo":{"storageApi":{"allowed":{` +
		`"buckets":` + buckets + `,"capabilities":` + caps + `,"namePrefix":` + prefix + `},` +
		`"apiUrl":"https://api004.backblazeb2.com","downloadUrl":"https://f004.backblazeb2.com",` +
		`"s3ApiUrl":"https://s3.us-west-004.backblazeb2.com","recommendedPartSize":100000000,"absoluteMinimumPartSize":5000000}}}`
}

func TestKeyScopeCheck(t *testing.T) {
	rw := `["listBuckets","listFiles","readFiles","writeFiles","deleteFiles","shareFiles"]`
	noList := `["listBuckets","readFiles","writeFiles","shareFiles"]`
	cases := []struct {
		name     string
		status   int
		body     string
		template string
		wrongKey bool
		want     []string // substrings of findings, "level topic detail"
		failed   bool
	}{
		{"restricted", 200, authorizeJSON(`[{"id":"b1","name":"BUCKET"}]`, rw, "null"), "", false,
			[]string{"ok key scope buckets: BUCKET; capabilities: listBuckets, listFiles, readFiles, writeFiles", "name prefix: (none)", "links B2 download URL https://f004.backblazeb2.com"}, false},
		{"no listFiles or deleteFiles", 200, authorizeJSON(`[{"id":"b1","name":"BUCKET"}]`, noList, "null"), "", false,
			[]string{"warning key scope the key lacks listFiles and deleteFiles: B2 has no conditional writes", "add {sha1:8} to target.path_template"}, false},
		{"no listFiles, names unique", 200, authorizeJSON(`[{"id":"b1","name":"BUCKET"}]`, noList, "null"), "{year}/{name}-{sha1:8}{ext}", false,
			[]string{"ok write"}, false},
		{"unrestricted", 200, authorizeJSON("null", rw, "null"), "", false,
			[]string{"buckets: all buckets", "warning key scope the key can reach every bucket"}, false},
		{"other bucket", 200, authorizeJSON(`[{"id":"b9","name":"someone-else"}]`, rw, "null"), "", false,
			[]string{`error key scope the key is restricted to someone-else, not to target.bucket "BUCKET"`}, true},
		{"read only", 200, authorizeJSON(`[{"id":"b1","name":"BUCKET"}]`, `["listBuckets","readFiles"]`, "null"), "", false,
			[]string{"error key scope the key lacks writeFiles"}, true},
		{"prefix outside", 200, authorizeJSON(`[{"id":"b1","name":"BUCKET"}]`, rw, `"blog/"`), "", false,
			[]string{`name prefix: blog/`, `can make keys outside the key's name prefix "blog/", for example "2026/11/Screenshot 2026-11-22 at 10.15.00.png": start path_template with "blog/"`}, true},
		{"prefix inside", 200, authorizeJSON(`[{"id":"b1","name":"BUCKET"}]`, rw, `"blog/"`), "blog/{year}/{name}{ext}", false,
			[]string{"name prefix: blog/", "ok write"}, false},
		{"401", 200, authorizeJSON("null", rw, "null"), "", true,
			[]string{"error key scope b2_authorize_account: the key was refused (HTTP 401 bad_auth_token)"}, true},
		{"malformed", 200, `{"accountId": "x", "apiInfo": {"storageApi": [}`, "", false,
			[]string{"error key scope b2_authorize_account: the answer is not the JSON B2 documents"}, true},
		{"no storage api", 200, `{"accountId":"x","apiInfo":{}}`, "", false,
			[]string{"error key scope b2_authorize_account: the answer has no apiInfo.storageApi.allowed"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var api *httptest.Server
			e := newEnv(t, envOptions{edit: func(cfg *Config) {
				if c.template != "" {
					cfg.Target.PathTemplate = c.template
				}
			}})
			body := strings.ReplaceAll(c.body, "BUCKET", e.srv.Bucket)
			secret := e.srv.SecretKey
			if c.wrongKey {
				secret = "not-" + secret
			}
			api = fakeB2API(t, e.srv.AccessKey, secret, c.status, body)
			e.cfg.Target.B2APIURL = api.URL
			up := e.newUploader(t, testPolicy(), nil)
			r := up.Check(t.Context())
			var lines []string
			for _, f := range r.Findings {
				lines = append(lines, fmt.Sprintf("%s %s %s", f.Level, f.Topic, f.Detail))
			}
			text := strings.ReplaceAll(strings.Join(lines, "\n"), e.srv.Bucket, "BUCKET")
			t.Logf("upshot check:\n%s", text)
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("findings lack %q", w)
				}
			}
			// Only a key that cannot settle a race, with names that can
			// collide, is warned about it.
			if warned, want := strings.Contains(text, "lacks listFiles"), c.name == "no listFiles or deleteFiles"; warned != want {
				t.Errorf("warning about listFiles: %v, want %v", warned, want)
			}
			if r.Failed() != c.failed {
				t.Errorf("failed = %v, want %v", r.Failed(), c.failed)
			}
			if strings.Contains(text, e.srv.SecretKey) {
				t.Error("findings show the secret")
			}
		})
	}
}

func TestB2DownloadURLFillsLinks(t *testing.T) {
	e := newEnv(t, envOptions{})
	api := fakeB2API(t, e.srv.AccessKey, e.srv.SecretKey, 200, authorizeJSON(`[{"id":"b1","name":"`+e.srv.Bucket+`"}]`, `["writeFiles"]`, "null"))
	e.cfg.Target.B2APIURL = api.URL
	up := e.newUploader(t, testPolicy(), nil)
	res, err := up.Upload(t.Context(), Request{Path: writeFile(t, t.TempDir(), "a+b.png", []byte("x"))})
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://f004.backblazeb2.com/file/" + e.srv.Bucket + "/2026/11/a%2Bb.png"; res.URL != want {
		t.Fatalf("URL %s, want %s", res.URL, want)
	}
}
