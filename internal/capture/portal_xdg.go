//go:build linux || freebsd || netbsd || openbsd || dragonfly

package capture

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// The xdg-desktop-portal Screenshot interface
// (https://flatpak.github.io/xdg-desktop-portal/docs/doc-org.freedesktop.portal.Screenshot.html).
const (
	portalName      = "org.freedesktop.portal.Desktop"
	portalPath      = dbus.ObjectPath("/org/freedesktop/portal/desktop")
	screenshotIface = "org.freedesktop.portal.Screenshot"
	requestIface    = "org.freedesktop.portal.Request"
	// requestPrefix is where the portal puts its Request objects.
	requestPrefix = "/org/freedesktop/portal/desktop/request"
)

// detectTimeout bounds finding the portal, which may have to be started.
const detectTimeout = 10 * time.Second

// closeTimeout bounds closing an unanswered request.
const closeTimeout = 2 * time.Second

// portal is the desktop's screenshot portal on the session bus at addr.
type portal struct{ addr string }

func (p *portal) describe(Mode) string { return "the desktop's screenshot portal" }

// sessionBusAddress is the session bus's address from
// DBUS_SESSION_BUS_ADDRESS, else the usual socket in the user's runtime
// folder, or "" when there is neither. No bus is ever started for us.
func sessionBusAddress() string {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return a
	}
	dir := os.Getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		dir = fmt.Sprintf("/run/user/%d", os.Getuid())
	}
	sock := filepath.Join(dir, "bus")
	if fi, err := os.Stat(sock); err == nil && fi.Mode().Type() == os.ModeSocket {
		return "unix:path=" + dbus.EscapeBusAddressValue(sock)
	}
	return ""
}

// dialBus connects to the bus at addr; ctx bounds the connecting only. The
// returned function closes the connection.
func dialBus(ctx context.Context, addr string) (*dbus.Conn, func(), error) {
	life, end := context.WithCancel(context.Background())
	stop := context.AfterFunc(ctx, end)
	conn, err := dbus.Connect(addr, dbus.WithContext(life))
	if !stop() {
		// ctx ended while connecting.
		if conn != nil {
			conn.Close()
		}
		end()
		return nil, nil, ctx.Err()
	}
	if err != nil {
		end()
		return nil, nil, fmt.Errorf("connect to the D-Bus session bus: %w", err)
	}
	return conn, func() { conn.Close(); end() }, nil
}

// findPortal returns the portal when its name has an owner on the session
// bus, or can be started there, and it offers the Screenshot interface.
func findPortal(ctx context.Context) *portal {
	addr := sessionBusAddress()
	if addr == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, detectTimeout)
	defer cancel()
	conn, closeConn, err := dialBus(ctx, addr)
	if err != nil {
		return nil
	}
	defer closeConn()
	var owned bool
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, portalName).Store(&owned); err != nil {
		return nil
	}
	if !owned {
		var names []string
		if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.ListActivatableNames", 0).Store(&names); err != nil || !slices.Contains(names, portalName) {
			return nil
		}
	}
	// The portal exports only the interfaces some backend implements.
	var xml string
	if err := conn.Object(portalName, portalPath).CallWithContext(ctx, "org.freedesktop.DBus.Introspectable.Introspect", 0).Store(&xml); err != nil {
		return nil
	}
	if !strings.Contains(xml, `"`+screenshotIface+`"`) {
		return nil
	}
	return &portal{addr: addr}
}

// requestPath is where the portal puts the Request for a call from the
// connection named sender with handle_token token.
func requestPath(sender, token string) dbus.ObjectPath {
	s := strings.ReplaceAll(strings.TrimPrefix(sender, ":"), ".", "_")
	return dbus.ObjectPath(requestPrefix + "/" + s + "/" + token)
}

// newToken returns a random handle_token.
func newToken() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "upshot_" + hex.EncodeToString(b)
}

// errNoScreenshot means the portal turned out not to offer screenshots.
var errNoScreenshot = errors.New("the desktop's portal offers no screenshots")

func (p *portal) capture(ctx context.Context, mode Mode, scratch string, timeout time.Duration) (string, string, error) {
	file, err := p.shoot(ctx, mode, timeout)
	if errors.Is(err, errNoScreenshot) {
		// Gone or changed since it was found: use a program after all.
		b, perr := pickProgram(mode)
		if perr != nil {
			return "", "portal", perr
		}
		return b.capture(ctx, mode, scratch, timeout)
	}
	return file, "portal", err
}

// shoot asks the portal for a screenshot and returns the file it saved.
func (p *portal) shoot(ctx context.Context, mode Mode, timeout time.Duration) (string, error) {
	conn, closeConn, err := dialBus(ctx, p.addr)
	if err != nil {
		return "", err
	}
	defer closeConn()
	names := conn.Names()
	if len(names) == 0 {
		return "", errors.New("the D-Bus session bus gave this connection no name")
	}
	token := newToken()
	expected := requestPath(names[0], token)

	// Subscribe before calling, so that an answer sent before the call
	// returns is not lost. The namespace also covers the handle of an old
	// portal that ignores handle_token.
	signals := make(chan *dbus.Signal, 16)
	conn.Signal(signals)
	if err := conn.AddMatchSignalContext(ctx,
		dbus.WithMatchInterface(requestIface),
		dbus.WithMatchMember("Response"),
		dbus.WithMatchOption("path_namespace", requestPrefix),
	); err != nil {
		return "", fmt.Errorf("listen for the screenshot portal's answer: %w", err)
	}

	wait, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	options := map[string]dbus.Variant{
		"handle_token": dbus.MakeVariant(token),
		"modal":        dbus.MakeVariant(true),
		"interactive":  dbus.MakeVariant(mode.interactive()),
	}
	handle := expected
	err = conn.Object(portalName, portalPath).CallWithContext(wait, screenshotIface+".Screenshot", 0, "", options).Store(&handle)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			closeRequest(conn, expected)
			return "", ctx.Err()
		case wait.Err() != nil:
			closeRequest(conn, expected)
			return "", notAnswered(timeout)
		case noSuchMethod(err):
			return "", errNoScreenshot
		}
		return "", fmt.Errorf("the desktop's screenshot portal refused the request: %w", err)
	}
	for {
		select {
		case <-wait.Done():
			closeRequest(conn, handle)
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			return "", notAnswered(timeout)
		case s, ok := <-signals:
			if !ok {
				return "", errors.New("lost the connection to the D-Bus session bus while waiting for the screenshot portal")
			}
			if s.Name != requestIface+".Response" || (s.Path != expected && s.Path != handle) {
				continue
			}
			return portalResult(s.Body)
		}
	}
}

// portalResult reads a Request.Response signal's body (response u,
// results a{sv}).
func portalResult(body []any) (string, error) {
	if len(body) != 2 {
		return "", fmt.Errorf("the desktop's screenshot portal answered with %d values instead of 2", len(body))
	}
	code, _ := body[0].(uint32)
	results, _ := body[1].(map[string]dbus.Variant)
	switch code {
	case 0:
	case 1:
		return "", ErrCancelled
	default:
		return "", fmt.Errorf("the desktop's screenshot portal could not take the screenshot (response %d); check the desktop's permissions for screenshots, or try again", code)
	}
	uri, _ := results["uri"].Value().(string)
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "file" || u.Path == "" {
		return "", fmt.Errorf("the desktop's screenshot portal answered with %q instead of a file:// URI", uri)
	}
	return u.Path, nil
}

// notAnswered is the error for a portal that let the timeout pass.
func notAnswered(timeout time.Duration) error {
	return fmt.Errorf("the desktop's screenshot portal did not answer within %s: restart it (systemctl --user restart xdg-desktop-portal), and check that this desktop's portal backend is installed (xdg-desktop-portal-gnome, -kde, -wlr…)", timeout)
}

// closeRequest asks the portal to drop an unanswered request (and close its
// dialog), best effort.
func closeRequest(conn *dbus.Conn, handle dbus.ObjectPath) {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	_ = conn.Object(portalName, handle).CallWithContext(ctx, requestIface+".Close", 0).Err
}

// noSuchMethod reports a D-Bus error saying the portal has no Screenshot
// method (any more).
func noSuchMethod(err error) bool {
	var e dbus.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Name {
	case "org.freedesktop.DBus.Error.UnknownMethod",
		"org.freedesktop.DBus.Error.UnknownInterface",
		"org.freedesktop.DBus.Error.UnknownObject",
		"org.freedesktop.DBus.Error.ServiceUnknown",
		"org.freedesktop.DBus.Error.NameHasNoOwner":
		return true
	}
	return false
}
