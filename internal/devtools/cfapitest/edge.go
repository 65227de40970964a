package cfapitest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync"
	"testing"

	"upshot/internal/devtools/workerdtest"
)

// edge plays Cloudflare's edge for a route: every request runs the
// Worker the stand-in holds for it right now (module, plain bindings and
// secrets) in workerd, Cloudflare's own runtime; a new deployment starts
// a new workerd.
type edge struct {
	api     *Server
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

// StartEdge serves, on 127.0.0.1, the Worker account's script deployed
// on this stand-in, as Cloudflare's edge would serve its route, until the
// test ends, and returns its URL. A request before any deployment gets
// 502. The edge cache is off.
func (s *Server) StartEdge(tb testing.TB, account, script string) string {
	tb.Helper()
	if _, err := workerdtest.Binary(); err != nil {
		workerdtest.StartWorker(tb, workerdtest.Config{}) // skips, or fails when workerd is required
	}
	e := &edge{api: s, account: account, script: script}
	hs := httptest.NewServer(e)
	tb.Cleanup(func() {
		hs.Close()
		e.mu.Lock()
		if e.running != nil {
			e.running.Close()
		}
		e.mu.Unlock()
	})
	return hs.URL
}
