package s3test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ProxyOptions configure a fault proxy.
type ProxyOptions struct {
	// TLS makes the proxy serve https with its own self-signed CA
	// (Proxy.CAPEM, Proxy.CertPool), over HTTP/1.1 only so that
	// connections can be hijacked for faults.
	TLS bool
	// RejectChecksumHeaders behaves like B2: a request carrying any
	// x-amz-checksum-* header (x-amz-checksum-mode included),
	// x-amz-sdk-checksum-algorithm or x-amz-trailer, or Content-Encoding
	// aws-chunked, gets 400 InvalidArgument "Unsupported header '<name>'
	// received for this API call." and is not forwarded. This check comes
	// before the fault queue, and a refused request consumes no fault.
	RejectChecksumHeaders bool
	// B2 answers as Backblaze B2's S3 API does, per its documentation and
	// public reports: everything RejectChecksumHeaders refuses, and a
	// conditional write (If-None-Match or If-Match on a PUT or on a POST
	// such as CompleteMultipartUpload) gets 501 NotImplemented "A header
	// you provided implies functionality that is not implemented", without
	// being forwarded. Put the proxy in front of a Server started with
	// Versioning to keep every version of a name, as B2 does. B2 also
	// applies each change to a name at once: the proxy serialises the
	// requests on one name, so that no one sees the moment when versitygw
	// moves an older version back after the current one was deleted.
	B2 bool
	// Latency holds every request this long before handling it, as a
	// distant server would: on loopback, client and server share the CPUs,
	// and most of a real small upload is waiting on the network.
	Latency time.Duration
}

// Record is one request the proxy saw.
type Record struct {
	Method   string
	Path     string // decoded URL path, "/bucket/key"
	RawQuery string
	Header   http.Header // request headers as received (Host is not among them)
	// Status is the status written to the client; for DropResponse it is
	// the server's status that was withheld, and 0 when there is none
	// (ResetMidBody, or a request still in flight).
	Status int
	// Fault names what the proxy did instead of plain forwarding:
	// a FaultKind's String, "RejectChecksumHeaders", "RejectConditionalWrite", or "".
	Fault     string
	At        time.Time // when the request arrived
	End       time.Time // when the proxy had answered it (zero while in flight)
	BodyBytes int64     // request body bytes the proxy read
}

// Proxy is a reverse proxy in front of a Server that records every request
// and injects B2's failure modes. The exported fields are read-only; the
// methods are safe for concurrent use.
type Proxy struct {
	URL      string         // "http://127.0.0.1:PORT" or "https://…"
	CAPEM    []byte         // PEM of the proxy's own CA when TLS, else nil
	CertPool *x509.CertPool // pool with that CA when TLS, else nil

	target    *Server
	opts      ProxyOptions
	srv       *http.Server
	served    chan struct{}
	rp        *httputil.ReverseProxy
	upstream  *http.Transport // proxy → server
	transport *http.Transport // test client → proxy
	client    *http.Client

	mu      sync.Mutex
	faults  []Fault
	records []*Record
	names   map[string]*sync.RWMutex // B2: one lock per object name

	closeOnce sync.Once
	closeErr  error
}

// NewProxy starts a proxy in front of target for the test and closes it
// in t.Cleanup. Any failure is fatal to the test.
func NewProxy(tb testing.TB, target *Server, opts ProxyOptions) *Proxy {
	tb.Helper()
	return forTest(tb, func() (*Proxy, error) { return StartProxy(target, opts) })
}

// StartProxy starts a proxy in front of target on a free 127.0.0.1 port.
// The caller must Close it.
func StartProxy(target *Server, opts ProxyOptions) (*Proxy, error) {
	up, err := url.Parse(target.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("s3test: proxy target %q: %w", target.Endpoint, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("s3test: proxy listen: %w", err)
	}
	p := &Proxy{
		URL:      "http://" + ln.Addr().String(),
		target:   target,
		opts:     opts,
		served:   make(chan struct{}),
		upstream: newTransport(target.CertPool),
	}
	if opts.TLS {
		ca, err := newAuthority("s3test proxy")
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("s3test: proxy certificate: %w", err)
		}
		ln = tls.NewListener(ln, ca.serverConfig())
		p.URL = "https://" + ln.Addr().String()
		p.CAPEM, p.CertPool = ca.caPEM, ca.pool
	}
	p.transport = newTransport(p.CertPool)
	p.client = &http.Client{Transport: p.transport}
	quiet := log.New(io.Discard, "", 0)
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(up)
			pr.Out.Host = pr.In.Host // SigV4 signs Host: keep the client's
		},
		Transport:      p.upstream,
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.proxyError,
		ErrorLog:       quiet,
	}
	p.srv = &http.Server{
		Handler:           http.HandlerFunc(p.serve),
		ErrorLog:          quiet,
		ReadHeaderTimeout: 30 * time.Second,
		// A non-nil empty map keeps HTTP/2 off even if ALPN offered it.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	go func() {
		defer close(p.served)
		_ = p.srv.Serve(ln)
	}()
	return p, nil
}

// Close stops the proxy and drops its connections. It is idempotent.
func (p *Proxy) Close() error {
	p.closeOnce.Do(func() {
		err := p.srv.Close()
		<-p.served
		p.upstream.CloseIdleConnections()
		p.transport.CloseIdleConnections()
		if err != nil {
			p.closeErr = fmt.Errorf("s3test: close proxy %s: %w", p.URL, err)
		}
	})
	return p.closeErr
}

// Client returns an SDK client that talks to the proxy with the target's
// credentials, configured like Server.Client (no retries, checksums when
// required) and trusting the proxy's CA.
func (p *Proxy) Client() *s3.Client { return newS3Client(p.URL, p.target, p.client) }

// HTTPClient returns a shared HTTP client that trusts the proxy's CA.
func (p *Proxy) HTTPClient() *http.Client { return p.client }

// Inject queues a fault. Each request takes the first queued fault whose
// Match accepts it; a fault leaves the queue after Times requests.
func (p *Proxy) Inject(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	if f.Kind == Gather {
		f.gate = &gate{n: f.Times, open: make(chan struct{})}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = append(p.faults, f)
}

// Requests returns a copy of every request seen since the start or the
// last Reset, in arrival order.
func (p *Proxy) Requests() []Record {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Record, len(p.records))
	for i, r := range p.records {
		out[i] = *r
		out[i].Header = r.Header.Clone()
	}
	return out
}

// MaxInFlight returns the most requests the proxy was handling at once
// among those seen since the start or the last Reset. A client holds a
// request a little longer than the proxy does, so the client had at least
// this many in flight.
func (p *Proxy) MaxInFlight() int {
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	for _, r := range p.Requests() {
		end := r.End
		if end.IsZero() {
			end = time.Now()
		}
		edges = append(edges, edge{r.At, 1}, edge{end, -1})
	}
	slices.SortFunc(edges, func(a, b edge) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.delta - b.delta // an end before a start at the same instant
	})
	n, most := 0, 0
	for _, e := range edges {
		n += e.delta
		most = max(most, n)
	}
	return most
}

// Reset clears the records and the pending faults.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.records, p.faults = nil, nil
}

// take removes one use of the first fault matching r and notes it in rec.
func (p *Proxy) take(r *http.Request, rec *Record) (Fault, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.faults {
		f := &p.faults[i]
		if f.Match != nil && !f.Match(r) {
			continue
		}
		taken := *f
		if g := f.gate; g != nil {
			if g.arrived++; g.arrived == g.n {
				close(g.open)
			}
		}
		if f.Times--; f.Times == 0 {
			p.faults = slices.Delete(p.faults, i, i+1)
		}
		rec.Fault = taken.Kind.String()
		return taken, true
	}
	return Fault{}, false
}

type dropKey struct{}

var errDropResponse = errors.New("s3test: response dropped by fault")

// serve records the request, then refuses it, faults it or forwards it.
func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	rec := &Record{
		Method:   r.Method,
		Path:     r.URL.Path,
		RawQuery: r.URL.RawQuery,
		Header:   r.Header.Clone(),
		At:       time.Now(),
	}
	p.mu.Lock()
	p.records = append(p.records, rec)
	p.mu.Unlock()

	body := &countingBody{rc: r.Body}
	r.Body = body
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if rec.Status == 0 {
			rec.Status = sw.status
		}
		rec.BodyBytes = body.n.Load()
		rec.End = time.Now()
	}()

	if p.opts.Latency > 0 {
		t := time.NewTimer(p.opts.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}

	if p.opts.B2 && conditionalWrite(r) {
		p.refuse(sw, r, rec, conditionalFault, http.StatusNotImplemented, "NotImplemented",
			"A header you provided implies functionality that is not implemented")
		return
	}
	if p.opts.RejectChecksumHeaders || p.opts.B2 {
		if h := checksumHeader(r.Header); h != "" {
			p.refuse(sw, r, rec, rejectFault, http.StatusBadRequest, "InvalidArgument",
				fmt.Sprintf("Unsupported header '%s' received for this API call.", h))
			return
		}
	}

	f, ok := p.take(r, rec)
	if !ok {
		p.forward(sw, r)
		return
	}
	switch f.Kind {
	case SlowDown, TooManyRequests:
		discardBody(r)
		if ra := f.RetryAfter; ra != NoRetryAfter {
			if ra == "" {
				ra = "1"
			}
			sw.Header().Set("Retry-After", ra)
		}
		if f.Kind == SlowDown {
			writeS3Error(sw, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
		} else {
			writeS3Error(sw, http.StatusTooManyRequests, "TooManyRequests", "Too many requests, please slow down.")
		}
	case ResetMidBody:
		n := f.Offset
		if n <= 0 {
			n = max(r.ContentLength, 0) / 2
		}
		_, _ = io.CopyN(io.Discard, r.Body, n)
		hangUp(sw, true)
	case FlipByte:
		off := f.Offset
		if off <= 0 {
			off = max(r.ContentLength, 0) / 2
		}
		r.Body = &flipBody{rc: r.Body, off: off}
		p.forward(sw, r)
	case DropResponse:
		p.forward(sw, r.WithContext(context.WithValue(r.Context(), dropKey{}, rec)))
	case Gather:
		t := time.NewTimer(GatherTimeout)
		select {
		case <-f.gate.open:
		case <-t.C:
		case <-r.Context().Done():
		}
		t.Stop()
		p.forward(sw, r)
	case Hold:
		if f.Held != nil {
			p.mu.Lock()
			held := *rec
			held.Header = rec.Header.Clone()
			p.mu.Unlock()
			select {
			case f.Held <- held:
			default:
			}
		}
		select {
		case <-f.Release:
		case <-r.Context().Done():
			return
		}
		p.forward(sw, r)
	default:
		writeS3Error(sw, http.StatusInternalServerError, "InternalError", "s3test: unknown fault "+f.Kind.String())
	}
}

// forward sends r on to the server. With B2, a write to a name (PUT,
// POST, DELETE) waits for everything else on that name, and reads of it
// (GET, HEAD, and listings whose prefix is the name) wait for writes.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request) {
	if p.opts.B2 {
		bucket, key := splitPath(r.URL.Path)
		if key == "" {
			key = r.URL.Query().Get("prefix")
		}
		if key != "" {
			l := p.nameLock(bucket + "/" + key)
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				l.RLock()
				defer l.RUnlock()
			} else {
				l.Lock()
				defer l.Unlock()
			}
		}
	}
	p.rp.ServeHTTP(w, r)
}

func (p *Proxy) nameLock(name string) *sync.RWMutex {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.names == nil {
		p.names = map[string]*sync.RWMutex{}
	}
	l := p.names[name]
	if l == nil {
		l = new(sync.RWMutex)
		p.names[name] = l
	}
	return l
}

// refuse answers r with an S3 error without forwarding it, noting why in rec.
func (p *Proxy) refuse(w http.ResponseWriter, r *http.Request, rec *Record, fault string, status int, code, msg string) {
	p.mu.Lock()
	rec.Fault = fault
	p.mu.Unlock()
	discardBody(r)
	writeS3Error(w, status, code, msg)
}

func (p *Proxy) modifyResponse(resp *http.Response) error {
	rec, ok := resp.Request.Context().Value(dropKey{}).(*Record)
	if !ok {
		return nil
	}
	p.mu.Lock()
	rec.Status = resp.StatusCode
	p.mu.Unlock()
	return errDropResponse
}

func (p *Proxy) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errDropResponse) {
		hangUp(w, false)
		return
	}
	if r.Context().Err() != nil {
		return // the client has gone; nobody reads an answer
	}
	writeS3Error(w, http.StatusBadGateway, "BadGateway",
		fmt.Sprintf("s3test proxy: forwarding to %s: %v (is the server still running?)", p.target.Endpoint, err))
}

// hangUp takes over the client connection and closes it without a
// response: with a TCP reset (SO_LINGER 0) when rst, else with a FIN.
func hangUp(w http.ResponseWriter, rst bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // the server closes the connection
	}
	if tc, ok := conn.(*tls.Conn); ok {
		conn = tc.NetConn() // skip close_notify: the peer sees a bare hang-up
	}
	if tcp, ok := conn.(*net.TCPConn); ok && rst {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// discardBody reads and drops the request body so the client is not cut
// off while still sending, unless the client waits for 100-continue: then
// the body was never sent, and the answer goes out without it.
func discardBody(r *http.Request) {
	if r.Header.Get("Expect") == "100-continue" {
		return
	}
	_, _ = io.Copy(io.Discard, r.Body)
}

// statusWriter remembers the final status. Unwrap lets
// http.ResponseController reach Hijack and Flush.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if code >= 200 && w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// countingBody counts what is read through it; the transport may read it
// on another goroutine.
type countingBody struct {
	rc io.ReadCloser
	n  atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func (b *countingBody) Close() error { return b.rc.Close() }

// flipBody flips the lowest bit of the byte at offset off as it streams.
type flipBody struct {
	rc       io.ReadCloser
	off, pos int64
}

func (b *flipBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if i := b.off - b.pos; i >= 0 && i < int64(n) {
		p[i] ^= 0x01
	}
	b.pos += int64(n)
	return n, err
}

func (b *flipBody) Close() error { return b.rc.Close() }
