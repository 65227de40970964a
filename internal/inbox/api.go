package inbox

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"strconv"
	"strings"
	"time"

	"upshot/internal/core"
	"upshot/internal/inbox/web"
	"upshot/uploader"
)

// maxJSON bounds an API request's JSON body.
const maxJSON = 8 << 10

func newDiscardLogger() *log.Logger { return log.New(io.Discard, "", 0) }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/session", s.api(s.handleSession))
	mux.HandleFunc("POST /api/grant", s.api(s.handleGrant))
	mux.HandleFunc("POST /api/done", s.api(s.handleDone))
	mux.HandleFunc("PUT /api/relay", s.api(s.handleRelay))
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "No such request.")
	})
	files := web.Handler()
	if s.opts.Pages != nil {
		files = http.FileServerFS(s.opts.Pages)
	}
	// "/" takes every method, so that it does not conflict with "/api/";
	// the page's files are only read.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "Method not allowed.", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Security-Policy", s.csp())
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
	return secured(mux)
}

// secured adds the headers every answer carries.
func secured(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// csp is the page's Content-Security-Policy: its own files, the wasm, and
// PUTs to the bucket's endpoint, nothing else.
func (s *Server) csp() string {
	connect := "'self'"
	if cfg, _ := s.desk.Settings(); cfg != nil {
		if o := endpointOrigin(cfg.Target.Endpoint); o != "" {
			connect += " " + o
		}
	}
	return "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; style-src 'self'; " +
		"img-src 'self' blob: data:; connect-src " + connect + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// api wraps a handler that needs a session and the settings.
func (s *Server) api(h func(w http.ResponseWriter, r *http.Request, ss *session, cfg *uploader.Config)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		ss := s.session(r)
		if ss == nil {
			writeError(w, http.StatusUnauthorized, "This link has expired or is wrong. Scan the QR code on your computer again.")
			return
		}
		cfg, _ := s.desk.Settings()
		if cfg == nil {
			code, msg := errStatus(core.ErrNotConfigured)
			writeError(w, code, msg)
			return
		}
		s.seen(ss, r, false)
		h(w, r, ss, cfg)
	}
}

type sessionReply struct {
	Desktop string   `json:"desktop"`
	MaxSize int64    `json:"max_size"`
	Types   []string `json:"types"`
	Strip   bool     `json:"strip"`
}

func (s *Server) handleSession(w http.ResponseWriter, r *http.Request, ss *session, cfg *uploader.Config) {
	writeJSON(w, http.StatusOK, sessionReply{Desktop: s.opts.Name, MaxSize: int64(cfg.Inbox.MaxSize), Types: cfg.Inbox.Types,
		Strip: cfg.Privacy.Strips()})
}

type grantRequest struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
	Type string `json:"type"`
	SHA1 string `json:"sha1"`
	MD5  string `json:"md5"`
}

type grantReply struct {
	Existing bool              `json:"existing"`
	ID       string            `json:"id,omitempty"`
	Key      string            `json:"key"`
	URL      string            `json:"url,omitempty"`
	Link     string            `json:"link,omitempty"`
	Method   string            `json:"method,omitempty"`
	PutURL   string            `json:"put_url,omitempty"`
	Headers  map[string]string `json:"headers,omitempty"`
	Expires  *time.Time        `json:"expires,omitempty"`
}

type doneReply struct {
	Key    string `json:"key"`
	URL    string `json:"url"`
	Link   string `json:"link"`
	Path   string `json:"path"`
	Queued bool   `json:"queued,omitempty"`
	Error  string `json:"error,omitempty"`
}

// admit checks a file against the settings' limits and the session's
// rate; it writes the refusal and returns false when the file may not go.
func (s *Server) admit(w http.ResponseWriter, ss *session, cfg *uploader.Config, size int64, contentType string) bool {
	switch {
	case size > int64(cfg.Inbox.MaxSize):
		writeError(w, http.StatusRequestEntityTooLarge, "This file is "+uploader.Size(size).String()+"; Upshot on your computer takes files up to "+
			cfg.Inbox.MaxSize.String()+" (inbox.max_size in its settings).")
		return false
	case !cfg.Inbox.AcceptsType(contentType):
		what := contentType
		if what == "" {
			what = "an unknown type"
		}
		writeError(w, http.StatusUnsupportedMediaType, "Upshot on your computer does not take files of "+what+
			" from a phone (inbox.types in its settings).")
		return false
	}
	if ok, wait := s.allow(ss, cfg.Inbox.GrantsPerMinute); !ok {
		secs := int(wait/time.Second) + 1
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeError(w, http.StatusTooManyRequests, "Too many files at once: wait "+strconv.Itoa(secs)+" seconds and try again.")
		return false
	}
	return true
}

func (s *Server) handleGrant(w http.ResponseWriter, r *http.Request, ss *session, cfg *uploader.Config) {
	var req grantRequest
	if !readJSON(w, r, &req) {
		return
	}
	if !s.admit(w, ss, cfg, req.Size, req.Type) {
		return
	}
	start := time.Now()
	g, rec, err := s.desk.Grant(r.Context(), uploader.GrantRequest{Name: req.Name, Size: req.Size, ContentType: req.Type,
		SHA1: strings.ToLower(req.SHA1), MD5: strings.ToLower(req.MD5)}, s.opts.GrantTTL)
	if err != nil {
		code, msg := errStatus(err)
		writeError(w, code, msg)
		return
	}
	if g.Existing {
		s.seen(ss, r, true)
		link := rec.Link()
		writeJSON(w, http.StatusOK, grantReply{Existing: true, Key: g.Key, URL: link.URL, Link: link.Format(s.desk.Format())})
		return
	}
	id := randomID()
	s.mu.Lock()
	for k, old := range ss.grants { // forget grants long past use
		if time.Since(old.g.Expires) > s.opts.GrantTTL {
			delete(ss.grants, k)
		}
	}
	ss.grants[id] = &grant{g: g, start: start}
	s.mu.Unlock()
	headers := map[string]string{}
	for name, v := range g.Header {
		headers[name] = strings.Join(v, ",")
	}
	exp := g.Expires.UTC()
	writeJSON(w, http.StatusOK, grantReply{ID: id, Key: g.Key, URL: g.Link.URL, Method: http.MethodPut, PutURL: g.URL,
		Headers: headers, Expires: &exp})
}

func (s *Server) handleDone(w http.ResponseWriter, r *http.Request, ss *session, cfg *uploader.Config) {
	var req struct {
		ID string `json:"id"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	s.mu.Lock()
	gr := ss.grants[req.ID]
	s.mu.Unlock()
	if gr == nil {
		writeError(w, http.StatusNotFound, "Your computer does not know this upload any more. Send the file again.")
		return
	}
	rec, err := s.desk.ConfirmGrant(r.Context(), gr.g, gr.start)
	if err != nil {
		code, msg := errStatus(err)
		writeError(w, code, msg)
		return
	}
	s.mu.Lock()
	delete(ss.grants, req.ID)
	s.mu.Unlock()
	s.seen(ss, r, true)
	link := rec.Link()
	writeJSON(w, http.StatusOK, doneReply{Key: rec.Entry.Key, URL: rec.Entry.URL, Link: link.Format(s.desk.Format()), Path: "direct"})
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	// The link is out; now check it, without holding the page.
	s.desk.CheckLink(r.Context(), rec)
}

func (s *Server) handleRelay(w http.ResponseWriter, r *http.Request, ss *session, cfg *uploader.Config) {
	q := r.URL.Query()
	name, contentType := q.Get("name"), q.Get("type")
	if r.ContentLength <= 0 {
		writeError(w, http.StatusLengthRequired, "The file arrived without its size. Try again.")
		return
	}
	if !s.admit(w, ss, cfg, r.ContentLength, contentType) {
		return
	}
	sha := strings.ToLower(r.Header.Get("X-Upshot-Sha1"))
	if len(sha) != 40 {
		writeError(w, http.StatusBadRequest, "The file arrived without its SHA1. Reload the page and try again.")
		return
	}
	body := http.MaxBytesReader(w, r.Body, r.ContentLength)
	out, err := s.desk.Relay(r.Context(), name, r.ContentLength, sha, body)
	if err != nil {
		code, msg := errStatus(err)
		writeError(w, code, msg)
		return
	}
	switch {
	case out.Queued:
		reason := "it will be uploaded when the bucket can be reached"
		if out.Err != nil {
			reason = "it will be uploaded later (" + out.Err.Error() + ")"
		}
		writeJSON(w, http.StatusAccepted, doneReply{Path: "relay", Queued: true, Error: "Your computer has the file; " + reason + "."})
	case out.Err != nil:
		code, msg := errStatus(out.Err)
		writeError(w, code, msg)
	default:
		s.seen(ss, r, true)
		link := core.LinkFor(out.Entry)
		writeJSON(w, http.StatusOK, doneReply{Key: out.Entry.Key, URL: out.Entry.URL, Link: link.Format(s.desk.Format()), Path: "relay"})
	}
}

func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "Your computer could not read the request. Reload the page and try again.")
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}
