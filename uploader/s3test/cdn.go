package s3test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// CDNOptions configure a CDN stand-in.
type CDNOptions struct {
	// PlusAsSpace decodes '+' in the path as a space, as B2's /file/ URLs
	// do (a real '+' must then arrive as %2B).
	PlusAsSpace bool
	// Broken plays a misconfigured Transform Rule: it forwards without the
	// bucket prefix, so objects are not found.
	Broken bool
}

// CDN plays a Cloudflare custom domain with a Transform Rule in front of a
// public bucket: GET or HEAD http://127.0.0.1:PORT/<escaped key> becomes an
// anonymous GET or HEAD of /<bucket>/<key> on the server, which therefore
// needs Options.PublicRead. Range and conditional headers pass through;
// credentials and the query string do not. The exported field is
// read-only; the methods are safe for concurrent use.
type CDN struct {
	URL string // "http://127.0.0.1:PORT", no trailing slash

	target    *Server
	opts      CDNOptions
	srv       *http.Server
	served    chan struct{}
	rp        *httputil.ReverseProxy
	upstream  *http.Transport
	closeOnce sync.Once
	closeErr  error
}

// NewCDN starts a CDN stand-in for the test and closes it in t.Cleanup.
func NewCDN(tb testing.TB, target *Server, opts CDNOptions) *CDN {
	tb.Helper()
	return forTest(tb, func() (*CDN, error) { return StartCDN(target, opts) })
}

// StartCDN starts a CDN stand-in in front of target on a free 127.0.0.1
// port. The caller must Close it.
func StartCDN(target *Server, opts CDNOptions) (*CDN, error) {
	if _, err := url.Parse(target.Endpoint); err != nil {
		return nil, fmt.Errorf("s3test: CDN target %q: %w", target.Endpoint, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("s3test: CDN listen: %w", err)
	}
	c := &CDN{
		URL:      "http://" + ln.Addr().String(),
		target:   target,
		opts:     opts,
		served:   make(chan struct{}),
		upstream: newTransport(target.CertPool),
	}
	quiet := log.New(io.Discard, "", 0)
	c.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = pr.In.Context().Value(upstreamURLKey{}).(*url.URL)
			pr.Out.Host = ""
			for _, h := range []string{"Authorization", "Cookie", "X-Amz-Date", "X-Amz-Content-Sha256", "X-Amz-Security-Token"} {
				pr.Out.Header.Del(h)
			}
		},
		Transport: c.upstream,
		ErrorLog:  quiet,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() == nil {
				http.Error(w, "s3test CDN: origin "+target.Endpoint+" unreachable: "+err.Error(), http.StatusBadGateway)
			}
		},
	}
	c.srv = &http.Server{
		Handler:           http.HandlerFunc(c.serve),
		ErrorLog:          quiet,
		ReadHeaderTimeout: 30 * time.Second,
	}
	go func() {
		defer close(c.served)
		_ = c.srv.Serve(ln)
	}()
	return c, nil
}

// Close stops the CDN. It is idempotent.
func (c *CDN) Close() error {
	c.closeOnce.Do(func() {
		err := c.srv.Close()
		<-c.served
		c.upstream.CloseIdleConnections()
		if err != nil {
			c.closeErr = fmt.Errorf("s3test: close CDN %s: %w", c.URL, err)
		}
	})
	return c.closeErr
}

type upstreamURLKey struct{}

func (c *CDN) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "s3test CDN: only GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	key, err := c.key(r.RequestURI)
	if err != nil {
		http.Error(w, "s3test CDN: "+err.Error(), http.StatusBadRequest)
		return
	}
	path := "/" + c.target.Bucket + "/" + escapeKey(key)
	if c.opts.Broken {
		path = "/" + escapeKey(key)
	}
	// Parsing keeps the escaped form as RawPath, so it goes out as built.
	u, err := url.Parse(c.target.Endpoint + path)
	if err != nil {
		http.Error(w, "s3test CDN: "+err.Error(), http.StatusInternalServerError)
		return
	}
	c.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), upstreamURLKey{}, u)))
}

// key decodes the object key from the raw request target, exactly once.
func (c *CDN) key(requestURI string) (string, error) {
	raw, _, _ := strings.Cut(requestURI, "?")
	if !strings.HasPrefix(raw, "/") {
		return "", fmt.Errorf("request target %q is not a path", requestURI)
	}
	raw = raw[1:]
	var key string
	var err error
	if c.opts.PlusAsSpace {
		key, err = url.QueryUnescape(raw)
	} else {
		key, err = url.PathUnescape(raw)
	}
	if err != nil {
		return "", fmt.Errorf("bad escape in %q: %w", raw, err)
	}
	if key == "" {
		return "", fmt.Errorf("no object key in %q", requestURI)
	}
	return key, nil
}

// escapeKey escapes an object key for a path-style S3 URL the way SigV4
// does: every byte but the unreserved ones (A-Z a-z 0-9 - . _ ~) and '/'
// becomes %XX, so the server decodes exactly the key.
func escapeKey(key string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		ch := key[i]
		switch {
		case 'A' <= ch && ch <= 'Z', 'a' <= ch && ch <= 'z', '0' <= ch && ch <= '9',
			ch == '-', ch == '.', ch == '_', ch == '~', ch == '/':
			b.WriteByte(ch)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[ch>>4])
			b.WriteByte(hex[ch&15])
		}
	}
	return b.String()
}
