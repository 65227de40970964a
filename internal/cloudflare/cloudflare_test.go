package cloudflare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"upshot/internal/devtools/cfapitest"
)

func TestFindZone(t *testing.T) {
	tests := []struct {
		domain string
		want   string   // zone ID; "" for an error
		calls  []string // the names asked for
		errHas string
	}{
		{"img.example.com", "zone-example", []string{"img.example.com", "example.com"}, ""},
		{"example.com", "zone-example", []string{"example.com"}, ""},
		{" IMG.Example.COM. ", "zone-example", []string{"img.example.com", "example.com"}, ""},
		{"a.b.img.example.com", "zone-example", []string{"a.b.img.example.com", "b.img.example.com", "img.example.com", "example.com"}, ""},
		{"img.sub.zone.net", "zone-sub", []string{"img.sub.zone.net", "sub.zone.net"}, ""},
		{"img.example.org", "", []string{"img.example.org", "example.org"}, "no Cloudflare zone holds img.example.org (looked for img.example.org, example.org)"},
		{"https://img.example.com/", "", nil, "host name only"},
		{"localhost", "", nil, "not a domain"},
		{"", "", nil, "no domain"},
		{"img..example.com", "", nil, "not a valid domain"},
		{"bücher.example.com", "", nil, "xn--"},
	}
	for _, tt := range tests {
		t.Run(tt.domain, func(t *testing.T) {
			e := newEnv(t, nil)
			z, err := e.client.FindZone(t.Context(), tt.domain)
			if tt.want == "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("FindZone = %+v, %v; want an error saying %q", z, err, tt.errHas)
				}
			} else if err != nil || z.ID != tt.want || z.AccountID != testAccount {
				t.Fatalf("FindZone = %+v, %v; want %s", z, err, tt.want)
			}
			var asked []string
			for _, c := range e.srv.Calls() {
				asked = append(asked, strings.TrimPrefix(c.Query, "name="))
			}
			if !slices.Equal(asked, tt.calls) {
				t.Errorf("asked for %v, want %v", asked, tt.calls)
			}
		})
	}
}

func TestFindZonePages(t *testing.T) {
	// A list answer that spans pages is read to the end.
	var pages []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Query().Get("page")
		pages = append(pages, p)
		result := `[{"id":"z-other","name":"example.com.other","account":{"id":"a"}}]`
		if p == "2" {
			result = `[{"id":"z2","name":"example.com","account":{"id":"a2"}}]`
		}
		fmt.Fprintf(w, `{"success":true,"errors":[],"messages":[],"result":%s,"result_info":{"page":1,"per_page":1,"total_pages":2,"count":1,"total_count":2}}`, result)
	}))
	defer srv.Close()
	z, err := New(testToken, WithBaseURL(srv.URL)).FindZone(t.Context(), "example.com")
	if err != nil || z.ID != "z2" || z.AccountID != "a2" {
		t.Fatalf("FindZone = %+v, %v", z, err)
	}
	if !slices.Equal(pages, []string{"", "2"}) {
		t.Errorf("pages asked = %q", pages)
	}
}

// Nothing the package returns or writes holds the token or a secret value.
func TestNoTokenOrSecretLeaks(t *testing.T) {
	var global bytes.Buffer
	oldLog, oldFlags := log.Writer(), log.Flags()
	oldSlog := slog.Default()
	log.SetOutput(&global)
	slog.SetDefault(slog.New(slog.NewTextHandler(&global, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() {
		log.SetOutput(oldLog)
		log.SetFlags(oldFlags)
		slog.SetDefault(oldSlog)
	})
	stderr := captureStderr(t)

	var texts []string
	note := func(changes []Change, err error) {
		texts = append(texts, fmtChanges(changes))
		if err != nil {
			texts = append(texts, err.Error(), fmt.Sprintf("%+v %#v", err, err))
		}
	}

	e := newEnv(t, nil)
	z := e.zone(t)
	d := deployment(z)
	note(e.client.Deploy(t.Context(), d))
	note(e.client.Deploy(t.Context(), d))
	d.Secrets["B2_APP_KEY"] = "K005-rotated-secret-key-value"
	note(e.client.Deploy(t.Context(), d))
	e.srv.Fail(cfapitest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "0", Times: 3})
	note(e.client.Deploy(t.Context(), d))
	other := deployment(z)
	other.Script.Name = "blog-worker"
	note(e.client.Deploy(t.Context(), other))
	note(e.client.Remove(t.Context(), z, d.Script.Name, d.Pattern))
	texts = append(texts, fmt.Sprintf("%v %+v %#v %s", e.client, e.client, e.client, e.client))

	for _, perms := range [][]string{{"routes", "zones"}, {"scripts", "zones"}} {
		p := newEnv(t, perms)
		note(p.client.Deploy(t.Context(), deployment(z)))
		texts = append(texts, p.logs.String())
	}
	wrong := New("wrong-"+testToken, WithBaseURL(e.srv.URL))
	note(wrong.Deploy(t.Context(), deployment(z)))
	_, err := wrong.FindZone(t.Context(), "img.example.com")
	note(nil, err)

	// A Cloudflare error message that quotes the request is redacted.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		msg, _ := json.Marshal(fmt.Sprintf("bad request %s with %s", body, r.Header.Get("Authorization")))
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"success":false,"errors":[{"code":10021,"message":%s}],"messages":[],"result":null}`, msg)
	}))
	defer echo.Close()
	note(New(testToken, WithBaseURL(echo.URL)).Deploy(t.Context(), deployment(z)))
	if !strings.Contains(texts[len(texts)-2], "[redacted]") {
		t.Errorf("the echoed error was not redacted: %s", texts[len(texts)-2])
	}

	texts = append(texts, e.logs.String(), global.String(), stderr())
	if !strings.Contains(e.logs.String(), "upload the Worker") {
		t.Errorf("the debug log has no requests: %q", e.logs.String())
	}
	secrets := []string{testToken, secretKey, secretKeyID, "K005-rotated-secret-key-value"}
	for _, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%q appears in %q", s, text)
			}
		}
	}
}

// captureStderr redirects os.Stderr until the returned function is called;
// it returns what was written.
func captureStderr(t *testing.T) func() string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	done := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	restore := func() string {
		if os.Stderr == w {
			os.Stderr = old
			w.Close()
		}
		select {
		case s := <-done:
			return s
		case <-time.After(time.Minute):
			t.Fatal("stderr capture did not end")
			return ""
		}
	}
	t.Cleanup(func() {
		if os.Stderr == w {
			os.Stderr = old
			w.Close()
		}
	})
	return restore
}

func TestScriptName(t *testing.T) {
	long := strings.Repeat("very-long-label.", 6) + "example.com"
	tests := []struct{ domain, want string }{
		{"img.example.com", "upshot-img-example-com"},
		{"IMG.Example.COM.", "upshot-img-example-com"},
		{"shots.my-site.co.uk", "upshot-shots-my-site-co-uk"},
		{"a_b.example.com", "upshot-a_b-example-com"},
		{"", "upshot"},
		{"bücher.de", "upshot-b-cher-de"},
		{long, ""},
	}
	for _, tt := range tests {
		got := ScriptName(tt.domain)
		if tt.want != "" && got != tt.want {
			t.Errorf("ScriptName(%q) = %q, want %q", tt.domain, got, tt.want)
		}
		if !validScriptName(got) {
			t.Errorf("ScriptName(%q) = %q is not a valid Worker name", tt.domain, got)
		}
	}
	a, b := ScriptName(long), ScriptName(strings.Replace(long, "very", "vary", 1))
	if len(a) != 63 || a == b || !strings.HasPrefix(a, "upshot-very-long-label-") {
		t.Errorf("long names: %q (%d), %q", a, len(a), b)
	}
}

func FuzzScriptName(f *testing.F) {
	for _, s := range []string{"img.example.com", "", ".", "-", "_.-", "a", "xn--bcher-kva.example", "UPPER.CASE.ORG", strings.Repeat("x.", 40) + "com", "\x00\xff", "img.example.com.", "日本.jp"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, domain string) {
		got := ScriptName(domain)
		if !validScriptName(got) || len(got) > 63 || !strings.HasPrefix(got, "upshot") {
			t.Fatalf("ScriptName(%q) = %q", domain, got)
		}
		if got != ScriptName(domain) {
			t.Fatalf("ScriptName(%q) is not stable", domain)
		}
		ascii := !strings.ContainsFunc(domain, func(r rune) bool { return r >= 0x80 })
		if ascii && ScriptName(strings.ToUpper(domain)) != got {
			t.Fatalf("ScriptName(%q) depends on case", domain)
		}
	})
}

func TestValidScriptName(t *testing.T) {
	for name, want := range map[string]bool{
		"upshot-img-example-com": true, "a": true, "a1": true, "a_b-c": true,
		"": false, "1abc": false, "-abc": false, "abc-": false, "abc_": false, "Abc": false, "a.b": false,
		strings.Repeat("a", 63): true, strings.Repeat("a", 64): false,
	} {
		if got := validScriptName(name); got != want {
			t.Errorf("validScriptName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"7", 7 * time.Second, true},
		{"-3", 0, true},
		{"Sun, 01 Jun 2025 12:00:30 GMT", 30 * time.Second, true},
		{"Sun, 01 Jun 2025 11:00:00 GMT", 0, true},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.v, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.v, got, ok, tt.want, tt.ok)
		}
	}
}

func TestMainModule(t *testing.T) {
	raw := &response{status: 200, header: http.Header{"Content-Type": {"application/javascript"}}, body: []byte("export default {}")}
	if b, name, err := mainModule(raw, "upshot.js"); err != nil || string(b) != "export default {}" || name != "" {
		t.Errorf("raw answer: %q, %q, %v", b, name, err)
	}
	body := "--B\r\nContent-Disposition: form-data; name=\"helper.js\"\r\n\r\nhelper\r\n" +
		"--B\r\nContent-Disposition: form-data; name=\"upshot.js\"\r\n\r\nmain\r\n--B--\r\n"
	mp := &response{status: 200, header: http.Header{"Content-Type": {"multipart/form-data; boundary=B"}}, body: []byte(body)}
	if b, name, err := mainModule(mp, "upshot.js"); err != nil || string(b) != "main" || name != "upshot.js" {
		t.Errorf("multipart answer: %q, %q, %v", b, name, err)
	}
	if b, name, err := mainModule(mp, "renamed.js"); err != nil || string(b) != "helper" || name != "helper.js" {
		t.Errorf("multipart answer without the main module: %q, %q, %v", b, name, err)
	}
}
