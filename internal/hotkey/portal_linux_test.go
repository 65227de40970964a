package hotkey

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"upshot/internal/devtools/dbustest"
)

// privateBus starts a session bus of its own (no activatable services)
// and points the session bus and a Wayland session at it.
func privateBus(t *testing.T) string {
	t.Helper()
	addr := dbustest.Start(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	t.Setenv("WAYLAND_DISPLAY", "wayland-upshot-test")
	t.Setenv("DISPLAY", "")
	t.Setenv("XDG_SESSION_TYPE", "")
	return addr
}

// shortcutArg is one entry of BindShortcuts' a(sa{sv}).
type shortcutArg struct {
	ID    string
	Props map[string]dbus.Variant
}

// standIn plays xdg-desktop-portal's GlobalShortcuts on a private bus.
type standIn struct {
	t    *testing.T
	conn *dbus.Conn

	omit       string // an ID the "user" leaves unbound
	bindAnswer uint32 // BindShortcuts' response code
	hangBind   bool   // never answer BindShortcuts

	mu      sync.Mutex
	session dbus.ObjectPath

	bound         chan []shortcutArg
	sessionClosed chan dbus.ObjectPath
	requestClosed chan dbus.ObjectPath
	withInterface bool
}

// serve puts s on the bus at addr as the portal; s's settings are fixed
// from then on.
func (s *standIn) serve(t *testing.T, addr string) *standIn {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	s.t, s.conn = t, conn
	s.bound = make(chan []shortcutArg, 10)
	s.sessionClosed = make(chan dbus.ObjectPath, 10)
	s.requestClosed = make(chan dbus.ObjectPath, 10)
	if s.withInterface {
		if err := conn.Export(s, portalPath, shortcutsIface); err != nil {
			t.Fatal(err)
		}
	}
	if err := conn.Export(properties{s}, portalPath, "org.freedesktop.DBus.Properties"); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName(portalName, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own %s: %v %v", portalName, reply, err)
	}
	return s
}

type properties struct{ s *standIn }

func (p properties) Get(iface, prop string) (dbus.Variant, *dbus.Error) {
	if p.s.withInterface && iface == shortcutsIface && prop == "version" {
		return dbus.MakeVariant(uint32(1)), nil
	}
	return dbus.Variant{}, dbus.NewError("org.freedesktop.DBus.Error.UnknownProperty", []any{"no such property " + iface + "." + prop})
}

func senderPath(kind string, sender dbus.Sender, token string) dbus.ObjectPath {
	name := strings.ReplaceAll(strings.TrimPrefix(string(sender), ":"), ".", "_")
	return dbus.ObjectPath(string(portalPath) + "/" + kind + "/" + name + "/" + token)
}

func (s *standIn) CreateSession(sender dbus.Sender, options map[string]dbus.Variant) (dbus.ObjectPath, *dbus.Error) {
	token, _ := options["handle_token"].Value().(string)
	sessionToken, _ := options["session_handle_token"].Value().(string)
	req := senderPath("request", sender, token)
	session := senderPath("session", sender, sessionToken)
	s.mu.Lock()
	s.session = session
	s.mu.Unlock()
	if err := s.conn.Export(closer{session, s.sessionClosed}, session, sessionIface); err != nil {
		return "", dbus.MakeFailedError(err)
	}
	// Answer before the method returns, as a quick portal may: the client
	// must already be listening.
	if err := s.conn.Emit(req, requestIface+".Response", uint32(0), map[string]dbus.Variant{
		"session_handle": dbus.MakeVariant(string(session)),
	}); err != nil {
		return "", dbus.MakeFailedError(err)
	}
	return req, nil
}

func (s *standIn) BindShortcuts(sender dbus.Sender, session dbus.ObjectPath, shortcuts []shortcutArg, parent string, options map[string]dbus.Variant) (dbus.ObjectPath, *dbus.Error) {
	token, _ := options["handle_token"].Value().(string)
	req := senderPath("request", sender, token)
	if session != s.currentSession() {
		return "", dbus.MakeFailedError(errors.New("unknown session " + string(session)))
	}
	if err := s.conn.Export(closer{req, s.requestClosed}, req, requestIface); err != nil {
		return "", dbus.MakeFailedError(err)
	}
	s.bound <- shortcuts
	if s.hangBind {
		return req, nil
	}
	var results []shortcutArg
	for _, sc := range shortcuts {
		if sc.ID == s.omit {
			continue
		}
		trigger, _ := sc.Props["preferred_trigger"].Value().(string)
		results = append(results, shortcutArg{sc.ID, map[string]dbus.Variant{
			"description":         sc.Props["description"],
			"trigger_description": dbus.MakeVariant(trigger),
		}})
	}
	// Answer after the method returns, as the real portal does.
	go func() {
		if err := s.conn.Emit(req, requestIface+".Response", s.bindAnswer, map[string]dbus.Variant{
			"shortcuts": dbus.MakeVariant(results),
		}); err != nil {
			s.t.Error(err)
		}
	}()
	return req, nil
}

func (s *standIn) currentSession() dbus.ObjectPath {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.session
}

// activate emits Activated for id in session.
func (s *standIn) activate(session dbus.ObjectPath, id string) {
	s.t.Helper()
	if err := s.conn.Emit(portalPath, shortcutsIface+".Activated", session, id, uint64(time.Now().UnixMicro()), map[string]dbus.Variant{}); err != nil {
		s.t.Fatal(err)
	}
}

// closer is a Session or Request object: Close reports its path.
type closer struct {
	path dbus.ObjectPath
	ch   chan dbus.ObjectPath
}

func (c closer) Close() *dbus.Error {
	c.ch <- c.path
	return nil
}

func awaitPath(t *testing.T, ch <-chan dbus.ObjectPath, what string) dbus.ObjectPath {
	t.Helper()
	select {
	case p := <-ch:
		return p
	case <-time.After(hangGuard):
		t.Fatalf("no %s", what)
		return ""
	}
}

func TestPortal(t *testing.T) {
	addr := privateBus(t)
	svc := (&standIn{withInterface: true, omit: "upload-clipboard"}).serve(t, addr)
	pressed, ch := recorder()
	s, err := Start(t.Context(), []Binding{
		{"capture-region", region},
		{"capture-screen", Key{Super, "Print"}},
		{"open", Key{}},
		{"upload-clipboard", Key{Ctrl | Alt, "V"}},
	}, pressed)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Backend() != "GlobalShortcuts portal" {
		t.Errorf("Backend() = %q", s.Backend())
	}
	errs := s.Errors()
	if len(errs) != 1 || errs["upload-clipboard"] == nil || !strings.Contains(errs["upload-clipboard"].Error(), "the desktop did not bind Ctrl+Alt+V") {
		t.Errorf("Errors() = %v, want upload-clipboard not bound", errs)
	}

	var asked []string
	for _, sc := range <-svc.bound {
		asked = append(asked, sc.ID+"|"+sc.Props["description"].Value().(string)+"|"+sc.Props["preferred_trigger"].Value().(string))
	}
	want := []string{"capture-region|Capture region|CTRL+SHIFT+ALT+3", "capture-screen|Capture screen|LOGO+Print", "upload-clipboard|Upload clipboard|CTRL+ALT+v"}
	if strings.Join(asked, " ") != strings.Join(want, " ") {
		t.Errorf("BindShortcuts got %q, want %q", asked, want)
	}

	session := svc.currentSession()
	svc.activate(session, "capture-screen")
	if got := next(t, ch); got != "capture-screen" {
		t.Fatalf("pressed(%q), want capture-screen", got)
	}
	// Another session's shortcut and one the desktop did not bind are not
	// Upshot's; the next press proves that neither arrived.
	svc.activate("/org/freedesktop/portal/desktop/session/other/s1", "capture-region")
	svc.activate(session, "upload-clipboard")
	svc.activate(session, "capture-region")
	if got := next(t, ch); got != "capture-region" {
		t.Fatalf("pressed(%q), want capture-region", got)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := awaitPath(t, svc.sessionClosed, "Session.Close"); got != session {
		t.Errorf("closed %s, want %s", got, session)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close again: %v", err)
	}
}

func TestPortalMissing(t *testing.T) {
	addr := privateBus(t)
	_, err := Start(t.Context(), []Binding{{"capture-region", region}}, func(string) {})
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "Wayland without the GlobalShortcuts portal") {
		t.Errorf("no portal: %v", err)
	}

	// A portal without the GlobalShortcuts interface.
	(&standIn{}).serve(t, addr)
	_, err = Start(t.Context(), []Binding{{"capture-region", region}}, func(string) {})
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "has no GlobalShortcuts interface") {
		t.Errorf("portal without GlobalShortcuts: %v", err)
	}
}

func TestPortalCanceled(t *testing.T) {
	addr := privateBus(t)
	svc := (&standIn{withInterface: true, bindAnswer: responseCanceled}).serve(t, addr)
	_, err := Start(t.Context(), []Binding{{"capture-region", region}}, func(string) {})
	if err == nil || errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "canceled in the desktop's dialog") {
		t.Errorf("canceled: %v", err)
	}
	awaitPath(t, svc.sessionClosed, "Session.Close after the cancel")
}

// ctx bounds the wait for the desktop's answer.
func TestPortalContext(t *testing.T) {
	addr := privateBus(t)
	svc := (&standIn{withInterface: true, hangBind: true}).serve(t, addr)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := Start(ctx, []Binding{{"capture-region", region}}, func(string) {})
		errc <- err
	}()
	select {
	case <-svc.bound:
	case <-time.After(hangGuard):
		t.Fatal("BindShortcuts was not called")
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Start = %v, want context.Canceled", err)
		}
	case <-time.After(hangGuard):
		t.Fatal("Start did not return after its context ended")
	}
	awaitPath(t, svc.requestClosed, "Request.Close")
	awaitPath(t, svc.sessionClosed, "Session.Close")
}
