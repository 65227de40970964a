package hotkey

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/godbus/dbus/v5"
)

// The xdg-desktop-portal names the GlobalShortcuts backend uses.
const (
	portalName       = "org.freedesktop.portal.Desktop"
	portalPath       = dbus.ObjectPath("/org/freedesktop/portal/desktop")
	shortcutsIface   = "org.freedesktop.portal.GlobalShortcuts"
	requestIface     = "org.freedesktop.portal.Request"
	sessionIface     = "org.freedesktop.portal.Session"
	noPortalReason   = "Wayland without the GlobalShortcuts portal"
	portalBackend    = "GlobalShortcuts portal"
	responseSuccess  = 0
	responseCanceled = 1
	closeTimeout     = 5 * time.Second
)

// portal is a GlobalShortcuts session on its own session-bus connection.
// Start's goroutine owns signals until the shortcuts are bound; then the
// loop does.
type portal struct {
	conn    *dbus.Conn
	obj     dbus.BusObject
	signals chan *dbus.Signal
	session dbus.ObjectPath
	closing atomic.Bool
	done    chan struct{} // closed when the loop has returned
}

// startPortal opens a GlobalShortcuts session and binds keys in it. The
// desktop may show the user a dialog first; ctx bounds the wait.
func startPortal(ctx context.Context, keys []planned, pressed func(string)) (*Set, error) {
	conn, err := dial(ctx, func() (*dbus.Conn, error) { return dbus.ConnectSessionBus() }, func(c *dbus.Conn) { c.Close() })
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, unsupported(noPortalReason+": no session D-Bus", err)
	}
	p := &portal{conn: conn, obj: conn.Object(portalName, portalPath), signals: make(chan *dbus.Signal, 64), done: make(chan struct{})}
	set, err := p.start(ctx, keys, pressed)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return set, nil
}

func (p *portal) start(ctx context.Context, keys []planned, pressed func(string)) (*Set, error) {
	if err := p.probe(ctx); err != nil {
		return nil, err
	}
	// Listen before calling, so that no Response can come first.
	p.conn.Signal(p.signals)
	for _, match := range [][]dbus.MatchOption{
		{dbus.WithMatchSender(portalName), dbus.WithMatchInterface(requestIface), dbus.WithMatchMember("Response")},
		{dbus.WithMatchSender(portalName), dbus.WithMatchObjectPath(portalPath), dbus.WithMatchInterface(shortcutsIface), dbus.WithMatchMember("Activated")},
	} {
		if err := p.conn.AddMatchSignal(match...); err != nil {
			return nil, fmt.Errorf("listen to the GlobalShortcuts portal: %w", err)
		}
	}

	results, err := p.request(ctx, "CreateSession", func(token string) []any {
		return []any{map[string]dbus.Variant{
			"handle_token":         dbus.MakeVariant(token),
			"session_handle_token": dbus.MakeVariant(newToken()),
		}}
	})
	if err != nil {
		return nil, fmt.Errorf("open a GlobalShortcuts portal session: %w", err)
	}
	switch h := results["session_handle"].Value().(type) {
	case string:
		p.session = dbus.ObjectPath(h)
	case dbus.ObjectPath:
		p.session = h
	}
	if !p.session.IsValid() {
		return nil, fmt.Errorf("the GlobalShortcuts portal opened no session (session_handle %v)", results["session_handle"])
	}

	errs := map[string]error{}
	bound := map[string]bool{}
	if len(keys) > 0 {
		if bound, err = p.bind(ctx, keys); err != nil {
			p.closeSession()
			return nil, err
		}
		for _, k := range keys {
			if !bound[k.id] {
				errs[k.id] = fmt.Errorf("the desktop did not bind %s: set it in the desktop's keyboard settings (it lists Upshot's shortcuts)", k.key)
			}
		}
	}
	go p.loop(bound, pressed)
	return &Set{backend: portalBackend, errs: errs, stop: p.close}, nil
}

// probe checks that the portal service runs (or can be started) and has
// the GlobalShortcuts interface.
func (p *portal) probe(ctx context.Context) error {
	bus := p.conn.BusObject()
	var owned bool
	if err := bus.CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, portalName).Store(&owned); err != nil {
		return unsupported(noPortalReason, err)
	}
	if !owned {
		var activatable []string
		if err := bus.CallWithContext(ctx, "org.freedesktop.DBus.ListActivatableNames", 0).Store(&activatable); err != nil || !slices.Contains(activatable, portalName) {
			return unsupported(noPortalReason+": xdg-desktop-portal is not running", nil)
		}
	}
	var version dbus.Variant
	if err := p.obj.CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, shortcutsIface, "version").Store(&version); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return unsupported(noPortalReason+": xdg-desktop-portal has no GlobalShortcuts interface", err)
	}
	return nil
}

// bind asks the portal for keys and returns the IDs it bound.
func (p *portal) bind(ctx context.Context, keys []planned) (map[string]bool, error) {
	type shortcut struct {
		ID    string
		Props map[string]dbus.Variant
	}
	var list []shortcut
	for _, k := range keys {
		list = append(list, shortcut{ID: k.id, Props: map[string]dbus.Variant{
			"description":       dbus.MakeVariant(describe(k.id)),
			"preferred_trigger": dbus.MakeVariant(portalTrigger(k.key, k.info)),
		}})
	}
	results, err := p.request(ctx, "BindShortcuts", func(token string) []any {
		return []any{p.session, list, "", map[string]dbus.Variant{"handle_token": dbus.MakeVariant(token)}}
	})
	if err != nil {
		return nil, fmt.Errorf("bind the global shortcuts through the portal: %w", err)
	}
	bound := map[string]bool{}
	v, ok := results["shortcuts"]
	if !ok {
		// The portal did not list them: take them as bound.
		for _, k := range keys {
			bound[k.id] = true
		}
		return bound, nil
	}
	var got []shortcut
	if err := dbus.Store([]any{v.Value()}, &got); err != nil {
		return nil, fmt.Errorf("read the portal's bound shortcuts: %w", err)
	}
	for _, s := range got {
		bound[s.ID] = true
	}
	return bound, nil
}

// describe turns a binding ID ("capture-region") into the description the
// desktop shows ("Capture region").
func describe(id string) string {
	s := strings.NewReplacer("-", " ", "_", " ", ".", " ").Replace(id)
	if s == "" {
		return id
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// portalTrigger spells k as the XDG shortcuts specification does:
// CTRL, SHIFT, ALT and LOGO, then an XKB keysym name ("CTRL+ALT+3").
func portalTrigger(k Key, info keyInfo) string {
	var parts []string
	for _, m := range []struct {
		mod  Modifier
		name string
	}{{Ctrl, "CTRL"}, {Shift, "SHIFT"}, {Alt, "ALT"}, {Super, "LOGO"}} {
		if k.Mods&m.mod != 0 {
			parts = append(parts, m.name)
		}
	}
	return strings.Join(append(parts, info.xkb), "+")
}

// request calls a portal method that answers through a Request object and
// waits for that object's Response. args builds the arguments around the
// handle token.
func (p *portal) request(ctx context.Context, method string, args func(token string) []any) (map[string]dbus.Variant, error) {
	token := newToken()
	names := p.conn.Names()
	if len(names) == 0 {
		return nil, errors.New("the session bus gave no name to this connection")
	}
	sender := strings.ReplaceAll(strings.TrimPrefix(names[0], ":"), ".", "_")
	expected := dbus.ObjectPath(string(portalPath) + "/request/" + sender + "/" + token)
	// closeRequest withdraws the request (and its dialog, if any).
	closeRequest := func(path dbus.ObjectPath) {
		p.conn.Object(portalName, path).Go(requestIface+".Close", dbus.FlagNoReplyExpected, nil)
	}
	var handle dbus.ObjectPath
	if err := p.obj.CallWithContext(ctx, shortcutsIface+"."+method, 0, args(token)...).Store(&handle); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			// The portal may have made the request before ctx ended.
			closeRequest(expected)
			return nil, ctxErr
		}
		return nil, err
	}
	for {
		select {
		case sig, ok := <-p.signals:
			if !ok {
				return nil, errors.New("the session bus connection closed")
			}
			if sig.Name != requestIface+".Response" || (sig.Path != handle && sig.Path != expected) {
				continue
			}
			var (
				code    uint32
				results map[string]dbus.Variant
			)
			if err := dbus.Store(sig.Body, &code, &results); err != nil {
				return nil, fmt.Errorf("read the portal's response: %w", err)
			}
			switch code {
			case responseSuccess:
				return results, nil
			case responseCanceled:
				return nil, errors.New("the request was canceled in the desktop's dialog")
			default:
				return nil, fmt.Errorf("the desktop refused the request (response %d)", code)
			}
		case <-ctx.Done():
			closeRequest(handle)
			return nil, ctx.Err()
		}
	}
}

// newToken returns a fresh handle token (letters, digits and '_' only).
func newToken() string {
	return "upshot_" + strconv.FormatUint(rand.Uint64(), 36)
}

// loop calls pressed for each Activated signal of the session's bound
// shortcuts, until the connection closes.
func (p *portal) loop(bound map[string]bool, pressed func(string)) {
	defer close(p.done)
	for sig := range p.signals {
		if sig.Name != shortcutsIface+".Activated" || sig.Path != portalPath || len(sig.Body) < 2 || p.closing.Load() {
			continue
		}
		session, _ := sig.Body[0].(dbus.ObjectPath)
		id, _ := sig.Body[1].(string)
		if session == p.session && bound[id] {
			pressed(id)
		}
	}
}

// closeSession ends the portal session, which releases its shortcuts. It
// waits a few seconds at most for the portal's answer.
func (p *portal) closeSession() {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	p.conn.Object(portalName, p.session).CallWithContext(ctx, sessionIface+".Close", 0)
}

// close ends the session and the connection and waits for the loop.
func (p *portal) close() error {
	p.closing.Store(true)
	p.closeSession()
	err := p.conn.Close()
	<-p.done
	if err != nil {
		return fmt.Errorf("close the session bus connection: %w", err)
	}
	return nil
}
