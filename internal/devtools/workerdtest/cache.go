package workerdtest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Cache is an in-memory edge cache for caches.default, speaking the
// protocol workerd uses toward its cache service: a match is a GET
// answered with Cf-Cache-Status HIT or MISS, a put is a PUT whose body is
// the serialized response, a delete is a PURGE. Like Cloudflare's cache it
// refuses responses marked no-store or private; unlike it, it ignores
// expiry and keeps every entry until Close. Its methods are safe for
// concurrent use.
type Cache struct {
	addr string
	off  bool // stores nothing: every match misses
	srv  *http.Server
	done chan struct{}

	mu      sync.Mutex
	entries map[string][]byte // cache key URL → serialized response
	hits    int
	changed chan struct{} // closed and replaced on every store
}

// NewCache starts a cache service on a free 127.0.0.1 port. Close it when
// done ([StartWorker] closes the one it makes itself).
func NewCache() (*Cache, error) { return newCache(false) }

func newCache(off bool) (*Cache, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("workerdtest: cache listener: %w", err)
	}
	c := &Cache{addr: ln.Addr().String(), off: off, done: make(chan struct{}), entries: map[string][]byte{}, changed: make(chan struct{})}
	c.srv = &http.Server{Handler: http.HandlerFunc(c.serve), ReadHeaderTimeout: 30 * time.Second}
	go func() {
		defer close(c.done)
		_ = c.srv.Serve(ln)
	}()
	return c, nil
}

// Close stops the service.
func (c *Cache) Close() error {
	err := c.srv.Close()
	<-c.done
	return err
}

// Keys returns the URLs that have an entry.
func (c *Cache) Keys() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := make([]string, 0, len(c.entries))
	for k := range c.entries {
		keys = append(keys, k)
	}
	return keys
}

// Hits counts the matches answered from an entry.
func (c *Cache) Hits() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits
}

// WaitFor returns once url has an entry, or with ctx's error.
func (c *Cache) WaitFor(ctx context.Context, url string) error {
	for {
		c.mu.Lock()
		_, ok := c.entries[url]
		changed := c.changed
		c.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("workerdtest: no cache entry for %s (have %v): %w", url, c.Keys(), ctx.Err())
		}
	}
}

func (c *Cache) serve(w http.ResponseWriter, r *http.Request) {
	key := "http://" + r.Host + r.URL.RequestURI()
	if r.URL.IsAbs() {
		key = r.URL.String()
	}
	switch r.Method {
	case http.MethodGet:
		c.mu.Lock()
		raw, ok := c.entries[key]
		if ok {
			c.hits++
		}
		c.mu.Unlock()
		if !ok {
			w.Header().Set("Cf-Cache-Status", "MISS")
			w.WriteHeader(http.StatusGatewayTimeout)
			return
		}
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer resp.Body.Close()
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.Header().Set("Cf-Cache-Status", "HIT")
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	case http.MethodPut:
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
		if err != nil {
			http.Error(w, "not a serialized response: "+err.Error(), http.StatusBadRequest)
			return
		}
		// Read the body now so that a truncated entry is refused here.
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			http.Error(w, "truncated response: "+err.Error(), http.StatusBadRequest)
			return
		}
		cc := strings.ToLower(resp.Header.Get("Cache-Control"))
		if c.off {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		if strings.Contains(cc, "no-store") || strings.Contains(cc, "private") {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.TransferEncoding = nil
		var buf bytes.Buffer
		if err := resp.Write(&buf); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		c.mu.Lock()
		c.entries[key] = buf.Bytes()
		close(c.changed)
		c.changed = make(chan struct{})
		c.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case "PURGE":
		c.mu.Lock()
		_, ok := c.entries[key]
		delete(c.entries, key)
		c.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusOK)
	default:
		http.Error(w, "unexpected method", http.StatusMethodNotAllowed)
	}
}
