// Package inbox serves the phone inbox: a page on the local network from
// which a phone uploads photos and videos straight to the bucket. The
// desktop keeps the key; for each file it signs a grant that lets the phone
// store those exact bytes at one key for a few minutes, and records the
// upload once a HEAD has confirmed it. A phone that cannot reach the
// bucket (its CORS rules do not allow the page) hands the bytes to the
// desktop instead, which queues them like a dropped file.
//
// Access needs a session token: 128 random bits in the URL's fragment,
// which browsers never send in a request line or a Referer. The page sends
// it as a bearer token; the token never appears in logs or errors.
// Sessions end when closed or after the configured idle time.
package inbox

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"upshot/internal/core"
	"upshot/internal/lan"
	"upshot/internal/store"
	"upshot/uploader"
)

// Desk is what the inbox needs from the core.
type Desk interface {
	Settings() (*uploader.Config, *uploader.Uploader)
	Format() uploader.Format
	Grant(ctx context.Context, req uploader.GrantRequest, ttl time.Duration) (uploader.Grant, core.Recorded, error)
	ConfirmGrant(ctx context.Context, g uploader.Grant, start time.Time) (core.Recorded, error)
	CheckLink(ctx context.Context, r core.Recorded) store.Entry
	Relay(ctx context.Context, name string, size int64, sha1hex string, r io.Reader) (core.Relayed, error)
}

var _ Desk = (*core.Core)(nil)

// GrantTTL is how long a grant stays valid unless Options.GrantTTL says
// otherwise.
const GrantTTL = 15 * time.Minute

// Options configure a [Server].
type Options struct {
	// Listen overrides the settings' inbox.listen.
	Listen string
	// Name is how the page names this computer, e.g. "Upshot on mybox".
	Name string
	// Pages are the page's files (index.html and what it loads); default
	// the embedded page (web.Handler).
	Pages fs.FS
	// OnDevice is told when a phone first connects to a session and when
	// it uploads; it is called from the server's goroutines.
	OnDevice func(Device)
	// GrantTTL is how long a grant stays valid: the phone must have
	// started its PUT by then. Zero means GrantTTL; at most
	// uploader.MaxGrantTTL. The page asks for a new grant when one has
	// expired.
	GrantTTL time.Duration
}

// Device is a phone (or any browser) that has used a session.
type Device struct {
	Name      string // from its browser, e.g. "iPhone" or "Android phone"
	Addr      string // its IP address
	FirstSeen time.Time
	LastSeen  time.Time
	Uploads   int
}

// Session is one QR code's worth of access.
type Session struct {
	Token string
	// URLs open the page, one per address of this computer on the local
	// network, the most likely first.
	URLs []string
}

// Origin is the web origin of the first URL, the one a QR code shows:
// what the bucket's CORS rules must allow for a phone to send straight
// to it. It is "" without URLs.
func (s Session) Origin() string {
	if len(s.URLs) == 0 {
		return ""
	}
	u, err := url.Parse(s.URLs[0])
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// Server serves the page and its API. Its methods are safe for
// concurrent use.
type Server struct {
	desk Desk
	opts Options
	ln   net.Listener
	http *http.Server

	mu       sync.Mutex
	sessions map[string]*session
}

type session struct {
	token   string
	idle    time.Duration
	timer   *time.Timer   // ends the session when idle
	done    chan struct{} // closed when the session ends
	grants  map[string]*grant
	recent  []time.Time // grants and relays in the last minute
	devices map[string]*Device
}

type grant struct {
	g     uploader.Grant
	start time.Time
}

// Listen binds the inbox's address (Options.Listen, else the settings'
// inbox.listen). Serve then answers on it.
func Listen(desk Desk, opts Options) (*Server, error) {
	addr := opts.Listen
	if addr == "" {
		cfg, _ := desk.Settings()
		if cfg == nil {
			return nil, core.ErrNotConfigured
		}
		addr = cfg.Inbox.Listen
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("open the phone inbox on %s: %w (another program may use the port: set inbox.listen or --listen)", addr, err)
	}
	if opts.GrantTTL <= 0 {
		opts.GrantTTL = GrantTTL
	}
	opts.GrantTTL = min(opts.GrantTTL, uploader.MaxGrantTTL)
	s := &Server{desk: desk, opts: opts, ln: ln, sessions: map[string]*session{}}
	s.http = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute,
		ErrorLog: discardLog}
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve answers requests until ctx ends, then stops: requests in flight
// get a few seconds to finish.
func (s *Server) Serve(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- s.http.Serve(s.ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("phone inbox: %w", err)
	case <-ctx.Done():
		stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		err := s.http.Shutdown(stop)
		<-done
		return err
	}
}

// Open starts a session and returns its token and URLs.
func (s *Server) Open() (Session, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Session{}, fmt.Errorf("make a session token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	idle := uploader.DefaultInboxIdle
	if cfg, _ := s.desk.Settings(); cfg != nil {
		idle = time.Duration(cfg.Inbox.Idle)
	}
	ss := &session{token: token, idle: idle, done: make(chan struct{}), grants: map[string]*grant{}, devices: map[string]*Device{}}
	s.mu.Lock()
	s.sessions[token] = ss
	ss.timer = time.AfterFunc(idle, func() { s.CloseSession(token) })
	s.mu.Unlock()
	return Session{Token: token, URLs: pageURLs(s.ln.Addr(), token)}, nil
}

// CloseSession ends a session: its token opens nothing any more, and its
// grants are forgotten (a grant already handed out still expires on its
// own at the bucket).
func (s *Server) CloseSession(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss := s.sessions[token]; ss != nil {
		ss.timer.Stop()
		delete(s.sessions, token)
		close(ss.done)
	}
}

// Ended is closed when the session ends: closed, or idle for the
// settings' inbox.idle. An unknown token's channel is closed already.
func (s *Server) Ended(token string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss := s.sessions[token]; ss != nil {
		return ss.done
	}
	done := make(chan struct{})
	close(done)
	return done
}

// Devices lists the phones that used a session, most recent first.
func (s *Server) Devices(token string) []Device {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.sessions[token]
	if ss == nil {
		return nil
	}
	var out []Device
	for _, d := range ss.devices {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b Device) int { return b.LastSeen.Compare(a.LastSeen) })
	return out
}

// pageURLs are the page's URLs for this computer's LAN addresses (or the
// one address listened on), with the token in the fragment.
func pageURLs(addr net.Addr, token string) []string {
	tcp, _ := addr.(*net.TCPAddr)
	if tcp == nil {
		return nil
	}
	var ips []net.IP
	if tcp.IP.IsUnspecified() {
		// Loopback last, for a browser on this computer.
		ips = append(lan.Addresses(), net.IPv4(127, 0, 0, 1))
	} else {
		ips = []net.IP{tcp.IP}
	}
	var out []string
	for _, ip := range ips {
		out = append(out, "http://"+net.JoinHostPort(ip.String(), strconv.Itoa(tcp.Port))+"/#"+token)
	}
	return out
}

// discardLog keeps net/http's own messages (which may quote a request)
// out of the output.
var discardLog = newDiscardLogger()

// session returns the live session the request's bearer token names, and
// restarts its idle clock.
func (s *Server) session(r *http.Request) *session {
	auth := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || token == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for t, ss := range s.sessions {
		if subtle.ConstantTimeCompare([]byte(t), []byte(token)) == 1 {
			ss.timer.Reset(ss.idle)
			return ss
		}
	}
	return nil
}

// allow counts one upload start against the session's per-minute bound;
// when it is spent, it returns how long until the next is allowed.
func (s *Server) allow(ss *session, perMinute int) (bool, time.Duration) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ss.recent = slices.DeleteFunc(ss.recent, func(t time.Time) bool { return now.Sub(t) >= time.Minute })
	if len(ss.recent) >= perMinute {
		return false, time.Minute - now.Sub(ss.recent[0])
	}
	ss.recent = append(ss.recent, now)
	return true, 0
}

// seen notes the device behind a request, and an upload when uploaded.
func (s *Server) seen(ss *session, r *http.Request, uploaded bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	name := deviceName(r.UserAgent())
	now := time.Now()
	s.mu.Lock()
	d := ss.devices[host+"|"+name]
	if d == nil {
		d = &Device{Name: name, Addr: host, FirstSeen: now}
		ss.devices[host+"|"+name] = d
	}
	first := d.LastSeen.IsZero()
	d.LastSeen = now
	if uploaded {
		d.Uploads++
	}
	snap := *d
	s.mu.Unlock()
	if (first || uploaded) && s.opts.OnDevice != nil {
		s.opts.OnDevice(snap)
	}
}

// deviceName names a browser by its User-Agent, roughly, for the
// window's list.
func deviceName(ua string) string {
	switch {
	case strings.Contains(ua, "iPhone"):
		return "iPhone"
	case strings.Contains(ua, "iPad"):
		return "iPad"
	case strings.Contains(ua, "Android"):
		return "Android phone"
	case strings.Contains(ua, "Macintosh"):
		return "Mac"
	case strings.Contains(ua, "Windows"):
		return "Windows PC"
	case strings.Contains(ua, "Linux"):
		return "Linux PC"
	}
	return "Browser"
}

// endpointOrigin is the S3 endpoint's origin, which the page connects to.
func endpointOrigin(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// errStatus maps a failure to an HTTP status and words for the page.
func errStatus(err error) (int, string) {
	var ue *uploader.Error
	switch {
	case errors.Is(err, core.ErrNotConfigured):
		return http.StatusServiceUnavailable, "Upshot on your computer is not set up yet: open its settings and save them, then try again."
	case errors.Is(err, core.ErrRelayMismatch):
		return http.StatusUnprocessableEntity, "The file changed on the way to your computer. Try again."
	case errors.Is(err, uploader.ErrFile):
		return http.StatusBadRequest, plain(err)
	case errors.Is(err, uploader.ErrNotConfirmed):
		return http.StatusConflict, "The bucket does not hold the file that was granted, so it was not recorded. Send it again."
	case errors.Is(err, uploader.ErrCredentials), errors.Is(err, uploader.ErrAccessDenied), errors.Is(err, uploader.ErrNoBucket):
		return http.StatusBadGateway, "Your computer cannot upload to the bucket: its settings are wrong (" + plain(err) + ")."
	case errors.Is(err, uploader.ErrUnreachable):
		return http.StatusBadGateway, "Your computer cannot reach the bucket right now. Try again later."
	case errors.As(err, &ue):
		return http.StatusBadGateway, plain(err)
	case errors.Is(err, os.ErrPermission):
		return http.StatusInternalServerError, "Your computer cannot save the file: " + err.Error()
	}
	return http.StatusInternalServerError, "Something went wrong on your computer: " + err.Error()
}

// plain is an error's text with a capital letter and a full stop.
func plain(err error) string {
	s := err.Error()
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
