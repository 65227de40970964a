package cfapitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
)

const token = "stand-in-token"

func start(t *testing.T, perms []string) *Server {
	return Start(t, Options{Token: token, Zones: []Zone{{ID: "z1", Name: "example.com", AccountID: "a1"}}, Permissions: perms})
}

type answer struct {
	status int
	header http.Header
	env    struct {
		Success    bool            `json:"success"`
		Errors     []apiMessage    `json:"errors"`
		Messages   []apiMessage    `json:"messages"`
		Result     json.RawMessage `json:"result"`
		ResultInfo *resultInfo     `json:"result_info"`
	}
	body []byte
}

func do(t *testing.T, s *Server, tok, method, path, ctype string, body []byte) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	a := answer{status: res.StatusCode, header: res.Header}
	a.body, _ = io.ReadAll(res.Body)
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(a.body, &a.env); err != nil {
			t.Fatalf("%s %s: not an envelope: %s", method, path, a.body)
		}
		if a.env.Errors == nil || a.env.Messages == nil {
			t.Errorf("%s %s: envelope without errors or messages arrays: %s", method, path, a.body)
		}
	}
	return a
}

type part struct{ name, ctype, body string }

func form(parts ...part) ([]byte, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.name))
		if p.ctype != "" {
			h.Set("Content-Type", p.ctype)
		}
		w, _ := mw.CreatePart(h)
		io.WriteString(w, p.body)
	}
	mw.Close()
	return b.Bytes(), mw.FormDataContentType()
}

const mod = "application/javascript+module"

func upload(t *testing.T, s *Server, name, meta string, parts ...part) answer {
	t.Helper()
	body, ct := form(append([]part{{"metadata", "application/json", meta}}, parts...)...)
	return do(t, s, token, http.MethodPut, "/accounts/a1/workers/scripts/"+name, ct, body)
}

func TestToken(t *testing.T) {
	s := start(t, nil)
	for _, tok := range []string{"", "other"} {
		a := do(t, s, tok, http.MethodGet, "/user/tokens/verify", "", nil)
		if a.status != http.StatusUnauthorized || a.env.Success || len(a.env.Errors) != 1 || a.env.Errors[0].Code != 1000 {
			t.Errorf("token %q: %d %s", tok, a.status, a.body)
		}
	}
	if a := do(t, s, token, http.MethodGet, "/user/tokens/verify", "", nil); a.status != 200 || !a.env.Success {
		t.Errorf("right token: %d %s", a.status, a.body)
	}
	if got := len(s.Calls()); got != 3 {
		t.Errorf("calls recorded = %d, want 3", got)
	}
}

func TestPermissions(t *testing.T) {
	s := start(t, []string{PermZones})
	if a := do(t, s, token, http.MethodGet, "/zones?name=example.com", "", nil); a.status != 200 || a.env.ResultInfo == nil || a.env.ResultInfo.TotalCount != 1 {
		t.Errorf("zones: %d %s", a.status, a.body)
	}
	for _, path := range []string{"/accounts/a1/workers/scripts/w/settings", "/zones/z1/workers/routes"} {
		a := do(t, s, token, http.MethodGet, path, "", nil)
		if a.status != http.StatusForbidden || a.env.Errors[0].Code != 10000 {
			t.Errorf("%s: %d %s", path, a.status, a.body)
		}
	}
}

func TestUploadIsStrict(t *testing.T) {
	s := start(t, nil)
	good := `{"main_module":"w.js","compatibility_date":"2025-01-01","bindings":[{"type":"plain_text","name":"A","text":"1"}]}`
	tests := []struct {
		name  string
		meta  string
		parts []part
	}{
		{"no module part", good, nil},
		{"main module not a module", good, []part{{"w.js", "text/plain", "x"}}},
		{"no main_module", `{"compatibility_date":"2025-01-01"}`, []part{{"w.js", mod, "x"}}},
		{"no date", `{"main_module":"w.js"}`, []part{{"w.js", mod, "x"}}},
		{"unknown field", `{"main_module":"w.js","compatibility_date":"2025-01-01","main-module":"w.js"}`, []part{{"w.js", mod, "x"}}},
		{"unknown binding type", `{"main_module":"w.js","compatibility_date":"2025-01-01","bindings":[{"type":"plain","name":"A","text":"1"}]}`, []part{{"w.js", mod, "x"}}},
		{"plain without text", `{"main_module":"w.js","compatibility_date":"2025-01-01","bindings":[{"type":"plain_text","name":"A"}]}`, []part{{"w.js", mod, "x"}}},
		{"duplicate binding", `{"main_module":"w.js","compatibility_date":"2025-01-01","bindings":[{"type":"plain_text","name":"A","text":"1"},{"type":"plain_text","name":"A","text":"2"}]}`, []part{{"w.js", mod, "x"}}},
		{"unknown keep type", `{"main_module":"w.js","compatibility_date":"2025-01-01","keep_bindings":["secrets"]}`, []part{{"w.js", mod, "x"}}},
	}
	for _, tt := range tests {
		a := upload(t, s, "w", tt.meta, tt.parts...)
		if a.status != http.StatusBadRequest || a.env.Success || len(a.env.Errors) == 0 {
			t.Errorf("%s: %d %s", tt.name, a.status, a.body)
		}
	}
	body, ct := form(part{"w.js", mod, "x"})
	if a := do(t, s, token, http.MethodPut, "/accounts/a1/workers/scripts/w", ct, body); a.status != http.StatusBadRequest {
		t.Errorf("no metadata: %d %s", a.status, a.body)
	}
	if a := do(t, s, token, http.MethodPut, "/accounts/a1/workers/scripts/w", "application/javascript", []byte("x")); a.status != http.StatusBadRequest {
		t.Errorf("not multipart: %d %s", a.status, a.body)
	}
	if _, ok := s.Script("a1", "w"); ok {
		t.Error("a refused upload was stored")
	}
	if a := upload(t, s, "w", good, part{"w.js", mod, "export default {}"}); a.status != 200 || !a.env.Success {
		t.Fatalf("good upload: %d %s", a.status, a.body)
	}
	sc, ok := s.Script("a1", "w")
	if !ok || string(sc.Modules["w.js"]) != "export default {}" || sc.Plain["A"] != "1" || sc.CompatibilityDate != "2025-01-01" {
		t.Errorf("stored %+v", sc)
	}
	a := do(t, s, token, http.MethodGet, "/accounts/a1/workers/scripts/w/content/v2", "", nil)
	if a.status != 200 || !bytes.Contains(a.body, []byte("export default {}")) || !strings.HasPrefix(a.header.Get("Content-Type"), "multipart/form-data") {
		t.Errorf("content: %d %s %s", a.status, a.header.Get("Content-Type"), a.body)
	}
}

func TestKeepBindings(t *testing.T) {
	s := start(t, nil)
	meta := `{"main_module":"w.js","compatibility_date":"2025-01-01"}`
	keep := `{"main_module":"w.js","compatibility_date":"2025-01-01","keep_bindings":["secret_text"]}`
	if a := upload(t, s, "w", meta, part{"w.js", mod, "1"}); a.status != 200 {
		t.Fatalf("upload: %s", a.body)
	}
	if a := do(t, s, token, http.MethodPut, "/accounts/a1/workers/scripts/w/secrets", "application/json", []byte(`{"name":"S","text":"v","type":"secret_text"}`)); a.status != 200 {
		t.Fatalf("secret: %s", a.body)
	}
	if a := do(t, s, token, http.MethodPut, "/accounts/a1/workers/scripts/w/secrets", "application/json", []byte(`{"name":"S","text":"v","type":"plain_text"}`)); a.status != http.StatusBadRequest {
		t.Errorf("secret of the wrong type: %d %s", a.status, a.body)
	}
	upload(t, s, "w", keep, part{"w.js", mod, "2"})
	if got := s.Secrets("a1", "w"); got["S"] != "v" {
		t.Errorf("secrets after an upload with keep_bindings = %v", got)
	}
	a := do(t, s, token, http.MethodGet, "/accounts/a1/workers/scripts/w/secrets", "", nil)
	if string(a.env.Result) != `[{"name":"S","type":"secret_text"}]` {
		t.Errorf("secret list = %s", a.env.Result)
	}
	upload(t, s, "w", meta, part{"w.js", mod, "3"})
	if got := s.Secrets("a1", "w"); len(got) != 0 {
		t.Errorf("secrets after an upload without keep_bindings = %v", got)
	}
}

func TestRoutes(t *testing.T) {
	s := start(t, nil)
	upload(t, s, "w", `{"main_module":"w.js","compatibility_date":"2025-01-01"}`, part{"w.js", mod, "1"})
	post := func(body string) answer {
		return do(t, s, token, http.MethodPost, "/zones/z1/workers/routes", "application/json", []byte(body))
	}
	if a := post(`{"pattern":"img.example.com/*","script":"w"}`); a.status != 200 {
		t.Fatalf("route: %s", a.body)
	}
	for body, want := range map[string]int{
		`{"pattern":"img.example.com/*","script":"w"}`:  http.StatusConflict,
		`{"pattern":"img.example.org/*","script":"w"}`:  http.StatusBadRequest,
		`{"pattern":"b.example.com/*","script":"nope"}`: http.StatusBadRequest,
	} {
		if a := post(body); a.status != want {
			t.Errorf("%s: %d %s", body, a.status, a.body)
		}
	}
	a := do(t, s, token, http.MethodGet, "/zones/z1/workers/routes", "", nil)
	if a.env.ResultInfo == nil || a.env.ResultInfo.Count != 1 || a.env.ResultInfo.TotalPages != 1 {
		t.Errorf("list: %s", a.body)
	}
	r := s.Routes("z1")
	if len(r) != 1 {
		t.Fatalf("routes = %+v", r)
	}
	if a := do(t, s, token, http.MethodDelete, "/zones/z1/workers/routes/"+r[0].ID, "", nil); a.status != 200 {
		t.Errorf("delete: %s", a.body)
	}
	if a := do(t, s, token, http.MethodDelete, "/zones/z1/workers/routes/"+r[0].ID, "", nil); a.status != http.StatusNotFound {
		t.Errorf("second delete: %d", a.status)
	}
	if a := do(t, s, token, http.MethodGet, "/zones/z9/workers/routes", "", nil); a.status != http.StatusNotFound || a.env.Errors[0].Code != 7003 {
		t.Errorf("unknown zone: %d %s", a.status, a.body)
	}
}

func TestFault(t *testing.T) {
	s := start(t, nil)
	s.Fail(Fault{Path: "/user/tokens/verify", Status: http.StatusTooManyRequests, RetryAfter: "3", Times: 2})
	for i := range 3 {
		a := do(t, s, token, http.MethodGet, "/user/tokens/verify", "", nil)
		want := http.StatusTooManyRequests
		if i == 2 {
			want = http.StatusOK
		}
		if a.status != want || (want == 429 && a.header.Get("Retry-After") != "3") {
			t.Errorf("request %d: %d, Retry-After %q", i, a.status, a.header.Get("Retry-After"))
		}
	}
}
