// Package cfapitest is a stand-in for the part of the Cloudflare API
// (https://api.cloudflare.com/client/v4) that deploys a module Worker on a
// route: zone lookup, token verification, script upload and removal, script
// content and settings, secrets and Worker routes. It runs as an
// httptest.Server on 127.0.0.1, keeps its state in memory and records every
// request, so tests can drive a real HTTP client against it and then look at
// what the "account" holds.
//
// It is strict where a client can go wrong: every request needs the Bearer
// token (401 otherwise), uploads must be well-formed multipart with a
// metadata part whose main_module names a part that is present, secrets and
// routes are checked, and every answer, success or not, is Cloudflare's JSON
// envelope (except a script's content, which is the module itself).
//
// Error codes 1000 (invalid token), 10000 (authentication error: the token
// lacks a permission), 10007 (script not found) and 7003 (no such object)
// follow Cloudflare; the codes for malformed requests are the stand-in's own.
//
// A Server is safe for concurrent use.
package cfapitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Permission names for Options.Permissions.
const (
	PermScripts = "scripts" // Workers Scripts: Edit (account)
	PermRoutes  = "routes"  // Workers Routes: Edit (zone)
	PermZones   = "zones"   // Zone: Read
)

// Zone is a zone the account holds.
type Zone struct {
	ID, Name, AccountID string
}

// Options configure a Server.
type Options struct {
	// Token is the only API token the server accepts.
	Token string
	// Zones are the account's zones; their AccountIDs are the accounts that
	// exist.
	Zones []Zone
	// Permissions the token has: PermScripts, PermRoutes, PermZones. A
	// request that needs a missing one is answered 403 with code 10000.
	// Nil means all of them.
	Permissions []string
}

// Call is one request the server received.
type Call struct {
	Method string
	Path   string // below the API base, e.g. "/zones/z1/workers/routes"
	Query  string // the raw query, e.g. "name=example.com"
}

// String gives "METHOD /path?query".
func (c Call) String() string {
	if c.Query == "" {
		return c.Method + " " + c.Path
	}
	return c.Method + " " + c.Path + "?" + c.Query
}

// Script is a Worker as the server holds it.
type Script struct {
	MainModule        string
	CompatibilityDate string
	// Modules maps each module part's name to its bytes.
	Modules map[string][]byte
	// ContentTypes maps each module part's name to its content type.
	ContentTypes map[string]string
	// Plain holds the plain_text bindings.
	Plain map[string]string
	// Uploads counts the uploads of this script.
	Uploads int
}

// Route is a Worker route in a zone.
type Route struct {
	ID, Pattern, Script string
}

// Fault makes the server answer matching requests with an error instead of
// serving them.
type Fault struct {
	Method string // "" matches any method
	Path   string // the path below the API base; "" matches any path
	Status int    // e.g. 429 or 503
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string
	// Times is how many matching requests fail; 0 means 1.
	Times int
}

// Server is the running stand-in.
type Server struct {
	// URL is the API base to give a client, e.g.
	// "http://127.0.0.1:41234/client/v4".
	URL string

	opts Options
	srv  *httptest.Server

	mu      sync.Mutex
	calls   []Call
	scripts map[string]*storedScript // by account + "/" + name
	routes  map[string][]Route       // by zone ID
	faults  []Fault
	nextID  int
}

type storedScript struct {
	Script
	secrets map[string]string
}

// basePath is where the API lives on the server, as on api.cloudflare.com.
const basePath = "/client/v4"

// Start starts a Server for the rest of the test.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	if opts.Token == "" {
		tb.Fatal("cfapitest: Options.Token is empty")
	}
	if opts.Permissions == nil {
		opts.Permissions = []string{PermScripts, PermRoutes, PermZones}
	}
	s := &Server{
		opts:    opts,
		scripts: map[string]*storedScript{},
		routes:  map[string][]Route{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.srv.Close)
	s.URL = s.srv.URL + basePath
	return s
}

// Calls returns every request received so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Script returns the Worker name in account, if it exists.
func (s *Server) Script(account, name string) (Script, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.scripts[account+"/"+name]
	if !ok {
		return Script{}, false
	}
	sc := st.Script
	sc.Modules = maps.Clone(st.Modules)
	sc.ContentTypes = maps.Clone(st.ContentTypes)
	sc.Plain = maps.Clone(st.Plain)
	return sc, true
}

// Secrets returns the secret values of the Worker name in account (nil when
// the Worker does not exist).
func (s *Server) Secrets(account, name string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.scripts[account+"/"+name]
	if !ok {
		return nil
	}
	return maps.Clone(st.secrets)
}

// Routes returns the Worker routes of zone (by ID), oldest first.
func (s *Server) Routes(zone string) []Route {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.routes[zone])
}

// Fail makes the next matching requests fail (see Fault).
func (s *Server) Fail(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// ---- HTTP ----

type apiMessage struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type resultInfo struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	TotalPages int `json:"total_pages"`
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
}

type envelope struct {
	Success    bool         `json:"success"`
	Errors     []apiMessage `json:"errors"`
	Messages   []apiMessage `json:"messages"`
	Result     any          `json:"result"`
	ResultInfo *resultInfo  `json:"result_info,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, e envelope) {
	if e.Errors == nil {
		e.Errors = []apiMessage{}
	}
	if e.Messages == nil {
		e.Messages = []apiMessage{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(e)
}

func ok(w http.ResponseWriter, result any) {
	writeJSON(w, http.StatusOK, envelope{Success: true, Result: result})
}

func fail(w http.ResponseWriter, status, code int, format string, args ...any) {
	writeJSON(w, status, envelope{Errors: []apiMessage{{Code: code, Message: fmt.Sprintf(format, args...)}}})
}

func notFound(w http.ResponseWriter, path string) {
	fail(w, http.StatusNotFound, 7003, "Could not route to %s, perhaps your object identifier is invalid?", path)
}

func scriptNotFound(w http.ResponseWriter) {
	fail(w, http.StatusNotFound, 10007, "workers.api.error.script_not_found")
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path, found := strings.CutPrefix(r.URL.Path, basePath)
	if !found {
		notFound(w, r.URL.Path)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, Call{Method: r.Method, Path: path, Query: r.URL.RawQuery})

	if auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); !ok || auth != s.opts.Token {
		fail(w, http.StatusUnauthorized, 1000, "Invalid API Token")
		return
	}
	if s.fault(w, r.Method, path) {
		return
	}
	seg := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case path == "/user/tokens/verify" && r.Method == http.MethodGet:
		ok(w, map[string]string{"id": "cfapitest-token", "status": "active"})
	case path == "/zones":
		if r.Method != http.MethodGet {
			notFound(w, path)
			return
		}
		if s.allowed(w, PermZones) {
			s.listZones(w, r)
		}
	case len(seg) >= 5 && seg[0] == "accounts" && seg[2] == "workers" && seg[3] == "scripts":
		if !s.accountExists(seg[1]) {
			notFound(w, path)
			return
		}
		if s.allowed(w, PermScripts) {
			s.serveScript(w, r, path, seg[1], seg[4], seg[5:])
		}
	case len(seg) >= 4 && seg[0] == "zones" && seg[2] == "workers" && seg[3] == "routes":
		zone, ok := s.zone(seg[1])
		if !ok {
			notFound(w, path)
			return
		}
		if s.allowed(w, PermRoutes) {
			s.serveRoutes(w, r, path, zone, seg[4:])
		}
	default:
		notFound(w, path)
	}
}

// fault answers the request with a pending Fault, if one matches.
func (s *Server) fault(w http.ResponseWriter, method, path string) bool {
	for i := range s.faults {
		f := s.faults[i]
		if (f.Method != "" && f.Method != method) || (f.Path != "" && f.Path != path) {
			continue
		}
		f.Times--
		s.faults[i].Times = f.Times
		if f.Times <= 0 {
			s.faults = slices.Delete(s.faults, i, i+1)
		}
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		code := 10000 + f.Status
		msg := http.StatusText(f.Status)
		if f.Status == http.StatusTooManyRequests {
			code, msg = 971, "Please wait and consider throttling your request speed"
		}
		fail(w, f.Status, code, "%s", msg)
		return true
	}
	return false
}

func (s *Server) allowed(w http.ResponseWriter, perm string) bool {
	if slices.Contains(s.opts.Permissions, perm) {
		return true
	}
	fail(w, http.StatusForbidden, 10000, "Authentication error")
	return false
}

func (s *Server) accountExists(id string) bool {
	return slices.ContainsFunc(s.opts.Zones, func(z Zone) bool { return z.AccountID == id })
}

func (s *Server) zone(id string) (Zone, bool) {
	i := slices.IndexFunc(s.opts.Zones, func(z Zone) bool { return z.ID == id })
	if i < 0 {
		return Zone{}, false
	}
	return s.opts.Zones[i], true
}

// page cuts items to the page the query asks for (page, per_page).
func page[T any](w http.ResponseWriter, r *http.Request, items []T) ([]T, *resultInfo, bool) {
	q := r.URL.Query()
	pg, per := 1, 20
	for name, dst := range map[string]*int{"page": &pg, "per_page": &per} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				fail(w, http.StatusBadRequest, 10400, "invalid %s %q", name, v)
				return nil, nil, false
			}
			*dst = n
		}
	}
	total := len(items)
	pages := max(1, (total+per-1)/per)
	lo := min(total, (pg-1)*per)
	hi := min(total, lo+per)
	out := items[lo:hi]
	if out == nil {
		out = []T{}
	}
	return out, &resultInfo{Page: pg, PerPage: per, TotalPages: pages, Count: len(out), TotalCount: total}, true
}

type zoneJSON struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Status  string `json:"status"`
	Account struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"account"`
}

func (s *Server) listZones(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	var list []zoneJSON
	for _, z := range s.opts.Zones {
		if name != "" && z.Name != name {
			continue
		}
		var j zoneJSON
		j.ID, j.Name, j.Status = z.ID, z.Name, "active"
		j.Account.ID, j.Account.Name = z.AccountID, "Account "+z.AccountID
		list = append(list, j)
	}
	out, info, good := page(w, r, list)
	if good {
		writeJSON(w, http.StatusOK, envelope{Success: true, Result: out, ResultInfo: info})
	}
}

// ---- scripts ----

// scriptNameRE: a letter first, a letter or digit last, letters, digits,
// "_" and "-" between, at most 63 characters.
var scriptNameRE = regexp.MustCompile(`^[a-z]([a-z0-9_-]{0,61}[a-z0-9])?$`)

func (s *Server) serveScript(w http.ResponseWriter, r *http.Request, path, account, name string, rest []string) {
	key := account + "/" + name
	st := s.scripts[key]
	sub := strings.Join(rest, "/")
	switch {
	case sub == "" && r.Method == http.MethodPut:
		s.upload(w, r, key, name)
	case sub == "" && r.Method == http.MethodDelete:
		if st == nil {
			scriptNotFound(w)
			return
		}
		delete(s.scripts, key)
		ok(w, nil)
	case sub == "content/v2" && r.Method == http.MethodGet:
		if st == nil {
			scriptNotFound(w)
			return
		}
		writeContent(w, st)
	case sub == "settings" && r.Method == http.MethodGet:
		if st == nil {
			scriptNotFound(w)
			return
		}
		ok(w, settingsJSON(st))
	case sub == "secrets" && r.Method == http.MethodGet:
		if st == nil {
			scriptNotFound(w)
			return
		}
		list := []map[string]string{}
		for _, n := range slices.Sorted(maps.Keys(st.secrets)) {
			list = append(list, map[string]string{"name": n, "type": "secret_text"})
		}
		ok(w, list)
	case sub == "secrets" && r.Method == http.MethodPut:
		if st == nil {
			scriptNotFound(w)
			return
		}
		putSecret(w, r, st)
	case len(rest) == 2 && rest[0] == "secrets" && r.Method == http.MethodDelete:
		if st == nil {
			scriptNotFound(w)
			return
		}
		if _, has := st.secrets[rest[1]]; !has {
			fail(w, http.StatusNotFound, 10056, "secret %s not found", rest[1])
			return
		}
		delete(st.secrets, rest[1])
		ok(w, nil)
	default:
		notFound(w, path)
	}
}

// writeContent answers a script's content as multipart/form-data, one part
// per module, the main module first.
func writeContent(w http.ResponseWriter, st *storedScript) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	names := slices.Sorted(maps.Keys(st.Modules))
	names = slices.DeleteFunc(names, func(n string) bool { return n == st.MainModule })
	names = append([]string{st.MainModule}, names...)
	for _, n := range names {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, n, n))
		h.Set("Content-Type", st.ContentTypes[n])
		p, _ := mw.CreatePart(h)
		_, _ = p.Write(st.Modules[n])
	}
	_ = mw.Close()
	w.Header().Set("Content-Type", mw.FormDataContentType())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body.Bytes())
}

type bindingJSON struct {
	Type string `json:"type"`
	Name string `json:"name"`
	Text string `json:"text,omitempty"`
}

func settingsJSON(st *storedScript) map[string]any {
	bindings := []bindingJSON{}
	for _, n := range slices.Sorted(maps.Keys(st.Plain)) {
		bindings = append(bindings, bindingJSON{Type: "plain_text", Name: n, Text: st.Plain[n]})
	}
	for _, n := range slices.Sorted(maps.Keys(st.secrets)) {
		bindings = append(bindings, bindingJSON{Type: "secret_text", Name: n})
	}
	return map[string]any{
		"bindings":            bindings,
		"compatibility_date":  st.CompatibilityDate,
		"compatibility_flags": []string{},
		"logpush":             false,
		"placement":           map[string]any{},
		"tail_consumers":      []any{},
		"usage_model":         "standard",
	}
}

// metadata is the upload's metadata part; unknown fields are refused.
type metadata struct {
	MainModule         string            `json:"main_module"`
	BodyPart           string            `json:"body_part"`
	CompatibilityDate  string            `json:"compatibility_date"`
	CompatibilityFlags []string          `json:"compatibility_flags"`
	Bindings           []json.RawMessage `json:"bindings"`
	KeepBindings       []string          `json:"keep_bindings"`
	UsageModel         string            `json:"usage_model"`
	Logpush            *bool             `json:"logpush"`
	Tags               []string          `json:"tags"`
}

// bindingTypes are the binding types the stand-in accepts (in bindings and
// in keep_bindings); it stores plain_text and secret_text only.
var bindingTypes = []string{"plain_text", "secret_text", "json", "kv_namespace", "r2_bucket", "service", "d1", "queue", "durable_object_namespace", "analytics_engine"}

var moduleTypes = []string{"application/javascript+module", "text/javascript+module"}

var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

var bindingNameRE = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

func (s *Server) upload(w http.ResponseWriter, r *http.Request, key, name string) {
	bad := func(format string, args ...any) {
		fail(w, http.StatusBadRequest, 10021, format, args...)
	}
	if !scriptNameRE.MatchString(name) {
		bad("invalid script name %q", name)
		return
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		bad("the upload must be multipart/form-data with a boundary, not %q", r.Header.Get("Content-Type"))
		return
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	var meta []byte
	modules := map[string][]byte{}
	types := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			bad("malformed multipart body: %v", err)
			return
		}
		pn := p.FormName()
		if pn == "" {
			bad("a part has no name")
			return
		}
		data, err := io.ReadAll(p)
		if err != nil {
			bad("malformed multipart body: %v", err)
			return
		}
		if pn == "metadata" {
			if meta != nil {
				bad("two metadata parts")
				return
			}
			meta = data
			continue
		}
		if _, dup := modules[pn]; dup {
			bad("two parts named %q", pn)
			return
		}
		modules[pn] = data
		types[pn] = p.Header.Get("Content-Type")
	}
	if meta == nil {
		bad("no metadata part")
		return
	}
	var md metadata
	dec := json.NewDecoder(bytes.NewReader(meta))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&md); err != nil {
		bad("invalid metadata: %v", err)
		return
	}
	switch {
	case md.BodyPart != "":
		bad("body_part (service-worker syntax) is not supported here; use main_module")
		return
	case md.MainModule == "":
		bad("metadata has no main_module")
		return
	case modules[md.MainModule] == nil:
		bad("main_module %q names no part of the upload", md.MainModule)
		return
	case !slices.Contains(moduleTypes, types[md.MainModule]):
		bad("main module %q has content type %q, want one of %v", md.MainModule, types[md.MainModule], moduleTypes)
		return
	case !dateRE.MatchString(md.CompatibilityDate):
		bad("compatibility_date %q is not YYYY-MM-DD", md.CompatibilityDate)
		return
	}
	for _, k := range md.KeepBindings {
		if !slices.Contains(bindingTypes, k) {
			bad("keep_bindings: unknown binding type %q", k)
			return
		}
	}
	plain := map[string]string{}
	secrets := map[string]string{}
	seen := map[string]bool{}
	for _, raw := range md.Bindings {
		var b struct {
			Type string  `json:"type"`
			Name string  `json:"name"`
			Text *string `json:"text"`
		}
		if err := json.Unmarshal(raw, &b); err != nil {
			bad("invalid binding: %v", err)
			return
		}
		if !slices.Contains(bindingTypes, b.Type) {
			bad("binding %q: unknown type %q", b.Name, b.Type)
			return
		}
		if !bindingNameRE.MatchString(b.Name) {
			bad("binding name %q is not a JavaScript identifier", b.Name)
			return
		}
		if seen[b.Name] {
			bad("two bindings named %q", b.Name)
			return
		}
		seen[b.Name] = true
		switch b.Type {
		case "plain_text", "secret_text":
			if b.Text == nil {
				bad("binding %q (%s) has no text", b.Name, b.Type)
				return
			}
			if b.Type == "plain_text" {
				plain[b.Name] = *b.Text
			} else {
				secrets[b.Name] = *b.Text
			}
		default:
			bad("binding %q: type %s is not supported by the stand-in", b.Name, b.Type)
			return
		}
	}
	old := s.scripts[key]
	if old != nil && slices.Contains(md.KeepBindings, "secret_text") {
		for n, v := range old.secrets {
			if _, has := secrets[n]; !has && !seen[n] {
				secrets[n] = v
			}
		}
	}
	uploads := 1
	if old != nil {
		uploads = old.Uploads + 1
	}
	st := &storedScript{
		Script: Script{
			MainModule:        md.MainModule,
			CompatibilityDate: md.CompatibilityDate,
			Modules:           modules,
			ContentTypes:      types,
			Plain:             plain,
			Uploads:           uploads,
		},
		secrets: secrets,
	}
	s.scripts[key] = st
	ok(w, map[string]any{
		"id":                 name,
		"compatibility_date": md.CompatibilityDate,
		"has_modules":        true,
		"handlers":           []string{"fetch"},
		"etag":               fmt.Sprintf("%x", len(modules[md.MainModule])),
	})
}

func putSecret(w http.ResponseWriter, r *http.Request, st *storedScript) {
	var in struct {
		Name string  `json:"name"`
		Text *string `json:"text"`
		Type string  `json:"type"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		fail(w, http.StatusBadRequest, 10021, "invalid secret: %v", err)
		return
	}
	switch {
	case in.Type != "secret_text":
		fail(w, http.StatusBadRequest, 10021, "secret type %q is not secret_text", in.Type)
	case !bindingNameRE.MatchString(in.Name):
		fail(w, http.StatusBadRequest, 10021, "secret name %q is not a JavaScript identifier", in.Name)
	case in.Text == nil:
		fail(w, http.StatusBadRequest, 10021, "secret %s has no text", in.Name)
	default:
		if _, clash := st.Plain[in.Name]; clash {
			fail(w, http.StatusBadRequest, 10053, "binding name %s is already in use", in.Name)
			return
		}
		st.secrets[in.Name] = *in.Text
		ok(w, map[string]string{"name": in.Name, "type": "secret_text"})
	}
}

// ---- routes ----

func (s *Server) serveRoutes(w http.ResponseWriter, r *http.Request, path string, zone Zone, rest []string) {
	routes := s.routes[zone.ID]
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		out, info, good := page(w, r, routes)
		if good {
			writeJSON(w, http.StatusOK, envelope{Success: true, Result: out, ResultInfo: info})
		}
	case len(rest) == 0 && r.Method == http.MethodPost:
		in, good := s.readRoute(w, r, zone, "")
		if !good {
			return
		}
		s.nextID++
		rt := Route{ID: fmt.Sprintf("route%04d", s.nextID), Pattern: in.Pattern, Script: in.Script}
		s.routes[zone.ID] = append(routes, rt)
		ok(w, routeJSON(rt))
	case len(rest) == 1:
		i := slices.IndexFunc(routes, func(rt Route) bool { return rt.ID == rest[0] })
		if i < 0 {
			fail(w, http.StatusNotFound, 10019, "route %s not found", rest[0])
			return
		}
		switch r.Method {
		case http.MethodGet:
			ok(w, routeJSON(routes[i]))
		case http.MethodPut:
			in, good := s.readRoute(w, r, zone, rest[0])
			if !good {
				return
			}
			routes[i].Pattern, routes[i].Script = in.Pattern, in.Script
			ok(w, routeJSON(routes[i]))
		case http.MethodDelete:
			s.routes[zone.ID] = slices.Delete(routes, i, i+1)
			ok(w, map[string]string{"id": rest[0]})
		default:
			notFound(w, path)
		}
	default:
		notFound(w, path)
	}
}

type routeIn struct {
	Pattern string `json:"pattern"`
	Script  string `json:"script"`
	ID      string `json:"id"`
}

func routeJSON(rt Route) routeIn { return routeIn{ID: rt.ID, Pattern: rt.Pattern, Script: rt.Script} }

// readRoute reads and checks a route body for zone; self is the ID of the
// route being replaced ("" for a new one).
func (s *Server) readRoute(w http.ResponseWriter, r *http.Request, zone Zone, self string) (routeIn, bool) {
	var in routeIn
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		fail(w, http.StatusBadRequest, 10021, "invalid route: %v", err)
		return in, false
	}
	host, _, _ := strings.Cut(in.Pattern, "/")
	host = strings.TrimPrefix(host, "*")
	host = strings.TrimPrefix(host, ".")
	if in.Pattern == "" || !(host == zone.Name || strings.HasSuffix(host, "."+zone.Name)) {
		fail(w, http.StatusBadRequest, 10022, "route pattern %q is not within zone %s", in.Pattern, zone.Name)
		return in, false
	}
	for _, rt := range s.routes[zone.ID] {
		if rt.Pattern == in.Pattern && rt.ID != self {
			fail(w, http.StatusConflict, 10020, "A route with the same pattern already exists")
			return in, false
		}
	}
	if in.Script != "" {
		exists := false
		for key := range s.scripts {
			_, n, _ := strings.Cut(key, "/")
			if n == in.Script && strings.HasPrefix(key, zone.AccountID+"/") {
				exists = true
			}
		}
		if !exists {
			fail(w, http.StatusBadRequest, 10007, "workers.api.error.script_not_found")
			return in, false
		}
	}
	return in, true
}
