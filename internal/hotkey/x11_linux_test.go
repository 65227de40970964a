package hotkey

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"upshot/internal/devtools/xvfbtest"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// hangGuard bounds every wait for an event; it is no performance limit.
const hangGuard = 60 * time.Second

var (
	region = Key{Ctrl | Shift | Alt, "3"}
	screen = Key{Ctrl | Shift | Alt, "4"}
)

// xDisplay starts a private X server and points DISPLAY at it, with no
// Wayland in the environment.
func xDisplay(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("xdotool"); err != nil {
		if os.Getenv(xvfbtest.RequireEnv) == "1" {
			t.Fatalf("no xdotool (apt-get install xdotool): %v", err)
		}
		t.Skipf("no xdotool: %v", err)
	}
	d := xvfbtest.Start(t, 320, 240)
	t.Setenv("DISPLAY", d)
	t.Setenv("WAYLAND_DISPLAY", "")
	t.Setenv("XDG_SESSION_TYPE", "")
	return d
}

// xdotool runs xdotool against display, as a user's keyboard would type.
func xdotool(t *testing.T, display string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xdotool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// recorder returns a pressed callback that sends each ID to the channel.
func recorder() (func(string), <-chan string) {
	ch := make(chan string, 100)
	return func(id string) { ch <- id }, ch
}

// next awaits the next pressed ID.
func next(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case id := <-ch:
		return id
	case <-time.After(hangGuard):
		t.Fatal("no shortcut press arrived")
		return ""
	}
}

// expect presses keys (xdotool syntax) and awaits exactly want as the next
// pressed ID.
func expect(t *testing.T, display string, ch <-chan string, keys, want string) {
	t.Helper()
	xdotool(t, display, "key", keys)
	if got := next(t, ch); got != want {
		t.Fatalf("after %s: pressed(%q), want pressed(%q)", keys, got, want)
	}
}

// otherClient is a second X client, as another program would be.
type otherClient struct {
	conn *xgb.Conn
	root xproto.Window
	km   *keymap
}

func connectOther(t *testing.T, display string) *otherClient {
	t.Helper()
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	km, err := readKeymap(conn)
	if err != nil {
		t.Fatal(err)
	}
	return &otherClient{conn: conn, root: xproto.Setup(conn).DefaultScreen(conn).Root, km: km}
}

// grab grabs k with exactly the given extra lock modifiers.
func (o *otherClient) grab(k Key, locks uint16) error {
	info, _ := lookupKey(k.Name)
	code, ok := o.km.keycode(info.keysym)
	if !ok {
		return errors.New("no keycode for " + k.Name)
	}
	return xproto.GrabKeyChecked(o.conn, false, o.root, o.km.xmods(k.Mods)|locks, code, xproto.GrabModeAsync, xproto.GrabModeAsync).Check()
}

// modState returns the keyboard's modifier state as X reports it.
func (o *otherClient) modState(t *testing.T) uint16 {
	t.Helper()
	r, err := xproto.QueryPointer(o.conn, o.root).Reply()
	if err != nil {
		t.Fatal(err)
	}
	return r.Mask
}

func startSet(t *testing.T, pressed func(string), bindings ...Binding) *Set {
	t.Helper()
	s, err := Start(t.Context(), bindings, pressed)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestX11Press(t *testing.T) {
	display := xDisplay(t)
	pressed, ch := recorder()
	s := startSet(t, pressed, Binding{"region", region}, Binding{"off", Key{}}, Binding{"screen", screen})
	if s.Backend() != "X11" {
		t.Errorf("Backend() = %q, want X11", s.Backend())
	}
	if errs := s.Errors(); len(errs) != 0 {
		t.Fatalf("Errors() = %v", errs)
	}
	expect(t, display, ch, "ctrl+shift+alt+3", "region")
	expect(t, display, ch, "ctrl+shift+alt+4", "screen")
	// Modifiers that differ from the binding's are not the shortcut; the
	// next press proves nothing arrived in between.
	xdotool(t, display, "key", "ctrl+alt+3", "super+ctrl+shift+alt+3", "ctrl+shift+3")
	expect(t, display, ch, "ctrl+shift+alt+3", "region")

	other := connectOther(t, display)
	xdotool(t, display, "key", "Caps_Lock")
	if other.modState(t)&xproto.ModMaskLock == 0 {
		t.Fatal("CapsLock did not turn on")
	}
	expect(t, display, ch, "ctrl+shift+alt+3", "region")
	xdotool(t, display, "key", "Num_Lock")
	if st := other.modState(t); st&other.km.numLock == 0 || st&xproto.ModMaskLock == 0 {
		t.Fatalf("modifier state %#x: want CapsLock and NumLock (%#x) on", st, other.km.numLock)
	}
	expect(t, display, ch, "ctrl+shift+alt+4", "screen")
	xdotool(t, display, "key", "Caps_Lock")
	if st := other.modState(t); st&other.km.numLock == 0 || st&xproto.ModMaskLock != 0 {
		t.Fatalf("modifier state %#x: want NumLock alone", st)
	}
	expect(t, display, ch, "ctrl+shift+alt+3", "region")
}

// Holding a shortcut down until the X server's auto-repeat has sent more
// presses calls pressed once.
func TestX11HeldKeyPressesOnce(t *testing.T) {
	display := xDisplay(t)
	pressed, ch := recorder()
	startSet(t, pressed, Binding{"region", region}, Binding{"screen", screen})
	other := connectOther(t, display)

	xdotool(t, display, "keydown", "ctrl+shift+alt+3")
	if got := next(t, ch); got != "region" {
		t.Fatalf("pressed(%q), want region", got)
	}
	// Hold the key well past the auto-repeat delay (660 ms on Xvfb, then 25
	// presses a second), measured on the X server's clock.
	other.awaitServerTime(t, 1500)
	xdotool(t, display, "keyup", "ctrl+shift+alt+3")
	expect(t, display, ch, "ctrl+shift+alt+4", "screen")
	expect(t, display, ch, "ctrl+shift+alt+3", "region")
}

// awaitServerTime returns once the X server's clock has moved ms
// milliseconds on. It reads the clock from PropertyNotify events on a
// window of its own.
func (o *otherClient) awaitServerTime(t *testing.T, ms uint32) {
	t.Helper()
	win, err := xproto.NewWindowId(o.conn)
	if err != nil {
		t.Fatal(err)
	}
	if err := xproto.CreateWindowChecked(o.conn, 0, win, o.root, 0, 0, 1, 1, 0, xproto.WindowClassInputOnly, 0,
		xproto.CwEventMask, []uint32{xproto.EventMaskPropertyChange}).Check(); err != nil {
		t.Fatal(err)
	}
	defer xproto.DestroyWindow(o.conn, win)
	now := func() uint32 {
		xproto.ChangeProperty(o.conn, xproto.PropModeReplace, win, xproto.AtomWmName, xproto.AtomString, 8, 1, []byte{'x'})
		for {
			ev, xerr := o.conn.WaitForEvent()
			if ev == nil && xerr == nil {
				t.Fatal("the X connection closed")
			}
			if p, ok := ev.(xproto.PropertyNotifyEvent); ok && p.Window == win {
				return uint32(p.Time)
			}
		}
	}
	from := now()
	for now()-from < ms {
		time.Sleep(20 * time.Millisecond) // pace the polling of the server's clock
	}
}

func TestX11Taken(t *testing.T) {
	display := xDisplay(t)
	other := connectOther(t, display)
	if err := other.grab(region, 0); err != nil {
		t.Fatalf("the other client's grab: %v", err)
	}

	var closed atomic.Bool
	ch := make(chan string, 100)
	s := startSet(t, func(id string) {
		if closed.Load() {
			t.Errorf("pressed(%q) after Close returned", id)
		}
		ch <- id
	}, Binding{"region", region}, Binding{"screen", screen})

	errs := s.Errors()
	var taken *TakenError
	if !errors.As(errs["region"], &taken) || taken.Key != region {
		t.Fatalf("Errors()[region] = %v, want a TakenError for %v", errs["region"], region)
	}
	if want := "Ctrl+Shift+Alt+3 is already taken by another program: choose another in Settings → Capture"; errs["region"].Error() != want {
		t.Errorf("message %q, want %q", errs["region"], want)
	}
	if len(errs) != 1 {
		t.Errorf("Errors() = %v, want region alone", errs)
	}
	expect(t, display, ch, "ctrl+shift+alt+4", "screen")
	// The grabs that succeeded for the taken key (with CapsLock, NumLock)
	// were released again.
	if err := other.grab(region, xproto.ModMaskLock); err != nil {
		t.Errorf("Ctrl+Shift+Alt+CapsLock+3 is still grabbed: %v", err)
	}

	// Close releases the keys: the other client can now have them.
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	wg.Wait()
	closed.Store(true)
	if err := s.Close(); err != nil {
		t.Errorf("Close again: %v", err)
	}
	for _, locks := range []uint16{0, xproto.ModMaskLock, other.km.numLock, other.km.numLock | xproto.ModMaskLock} {
		if err := other.grab(screen, locks); err != nil {
			t.Errorf("after Close, grab Ctrl+Shift+Alt+4 with locks %#x: %v", locks, err)
		}
	}
}

func TestX11KeyNotOnKeyboard(t *testing.T) {
	display := xDisplay(t)
	other := connectOther(t, display)
	var err error
	// Take F12 off the keyboard map: give each key that has it no keysyms.
	f12, _ := lookupKey("F12")
	for range 10 {
		code, ok := other.km.keycode(f12.keysym)
		if !ok {
			break
		}
		per := byte(other.km.perCode)
		syms := make([]xproto.Keysym, per) // NoSymbol
		if err := xproto.ChangeKeyboardMappingChecked(other.conn, 1, code, per, syms).Check(); err != nil {
			t.Fatal(err)
		}
		if other.km, err = readKeymap(other.conn); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := other.km.keycode(f12.keysym); ok {
		t.Fatal("F12 is still on the keyboard map")
	}
	pressed, ch := recorder()
	s := startSet(t, pressed, Binding{"f12", Key{Ctrl, "F12"}}, Binding{"screen", screen})
	if err := s.Errors()["f12"]; err == nil || !strings.Contains(err.Error(), "this keyboard has no F12 key") {
		t.Errorf("Errors()[f12] = %v", err)
	}
	expect(t, display, ch, "ctrl+shift+alt+4", "screen")
}

func TestNoDisplay(t *testing.T) {
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	t.Setenv("XDG_SESSION_TYPE", "")
	s, err := Start(t.Context(), []Binding{{"region", region}}, func(string) {})
	if !errors.Is(err, ErrUnsupported) || s != nil {
		t.Fatalf("Start = %v, %v; want ErrUnsupported", s, err)
	}
	if !strings.Contains(err.Error(), "no X display") || !strings.Contains(err.Error(), "upshot capture region") {
		t.Errorf("message %q", err)
	}

	t.Setenv("DISPLAY", "/nonexistent/upshot-test:0")
	if _, err := Start(t.Context(), []Binding{{"region", region}}, func(string) {}); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "cannot reach the X display") {
		t.Errorf("unreachable display: %v", err)
	}
}

func TestStartCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Start(ctx, nil, func(string) {}); !errors.Is(err, context.Canceled) {
		t.Errorf("Start = %v, want context.Canceled", err)
	}
}
