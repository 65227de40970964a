package app

import (
	"errors"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"upshot/internal/core"
	"upshot/internal/devtools/dbustest"
	"upshot/internal/devtools/xvfbtest"
	"upshot/internal/store"
	"upshot/uploader"
	"upshot/uploader/s3test"
)

// captureApp is the real window program under a private Xvfb, with
// ImageMagick's import as the only screenshot tool, a session bus without
// a screenshot portal, and versitygw as the bucket.
type captureApp struct {
	p        *appProc
	display  string
	srv      *s3test.Server
	data     string
	captures string
	tools    map[string]string // xclip, xdotool and import
}

// startCaptureApp starts it; another program holds Ctrl+Shift+Alt with
// each of the held digits first.
func startCaptureApp(t testing.TB, width, height int, captureSettings string, held ...string) *captureApp {
	t.Helper()
	a := &captureApp{tools: map[string]string{}}
	for _, name := range []string{"xclip", "xdotool", "import"} {
		p, err := exec.LookPath(name)
		if err != nil {
			if os.Getenv(xvfbtest.RequireEnv) == "1" {
				t.Fatalf("%s is needed (make test installs it)", name)
			}
			t.Skipf("%s is not installed", name)
		}
		a.tools[name] = p
	}
	a.display = xvfbtest.Start(t, width, height)
	for _, d := range held {
		holdKey(t, a.display, d)
	}
	bus := dbustest.Start(t)
	bin := buildUpshot(t)
	a.srv = s3test.Start(t, s3test.Options{})
	dir := t.TempDir()
	path := filepath.Join(dir, "bin")
	os.Mkdir(path, 0o755)
	if err := os.Symlink(a.tools["import"], filepath.Join(path, "import")); err != nil {
		t.Fatal(err)
	}
	// Written as users write it: HOME is dir.
	a.captures = filepath.Join(dir, "Pictures", "Upshot")
	config := writeConfig(t, dir, a.srv, "caps/{name}{ext}", "[capture]\ndir = \"~/Pictures/Upshot\"\n"+captureSettings+"\n")
	a.data = filepath.Join(dir, "data")
	env := []string{"DISPLAY=" + a.display, "WAYLAND_DISPLAY=", "XDG_SESSION_TYPE=x11", "LANG=C.UTF-8", "HOME=" + dir, "UPSHOT_DATA_DIR=" + a.data,
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "xdg"), "DBUS_SESSION_BUS_ADDRESS=" + bus, "PATH=" + path,
		"B2_APPLICATION_KEY_ID=", "B2_APPLICATION_KEY=", "UPSHOT_CONFIG=" + config}
	a.p = startApp(t, bin, env)
	a.p.ready(t)
	awaitGrab(t, a.display, "3")
	return a
}

// key sends a key combination with xdotool.
func (a *captureApp) key(t testing.TB, combo string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), a.tools["xdotool"], "key", combo)
	cmd.Env = append(os.Environ(), "DISPLAY="+a.display)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xdotool: %v: %s", err, out)
	}
}

// TestHotkeyCapturesScreen: the screen-capture hotkey, sent with xdotool,
// takes a capture with the fallback tool; it is uploaded and xclip reads
// its link from the clipboard. A second press while that capture runs (it
// waits capture.delay first) starts nothing; a press after it is done
// starts the next one.
func TestHotkeyCapturesScreen(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	a := startCaptureApp(t, 1024, 900, `delay = "3s"`, "5") // the window hotkey is taken
	a.key(t, "ctrl+shift+alt+3")
	a.key(t, "ctrl+shift+alt+3") // while the first capture waits its delay
	a.p.until(t, "the first capture's upload", func(s core.Status) bool { return s.Uploaded >= 1 })
	first := clipboardLink(t, a.tools["xclip"], a.display, a.srv.Endpoint, "")
	a.key(t, "ctrl+shift+alt+3")
	a.p.until(t, "the second capture's upload", func(s core.Status) bool { return s.Uploaded >= 2 })
	// The settings' Capture section, as "hotkeys" raises it.
	if shown, err := core.Reach(a.data).Show(t.Context(), "hotkeys"); err != nil || !shown {
		t.Fatalf("show hotkeys: %v, %v", shown, err)
	}
	wid := windowID(t, a.display)
	xdotool(t, a.display, "windowsize", wid, "760", "860")
	shot := screenshot(t, a.display, wid, "settings-capture.png")
	a.p.stop(t)
	if dst := os.Getenv(screenshotsEnv); dst != "" {
		b, err := os.ReadFile(shot)
		if err == nil {
			err = os.WriteFile(filepath.Join(dst, filepath.Base(shot)), b, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}

	files, _ := filepath.Glob(filepath.Join(a.captures, "Screenshot *.png"))
	if len(files) != 2 {
		t.Fatalf("%d captures saved (%q); want 2: the press during the first capture must start nothing", len(files), files)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	cfgImg, err := png.DecodeConfig(f)
	f.Close()
	if err != nil || cfgImg.Width != 1024 || cfgImg.Height != 900 {
		t.Fatalf("the capture is %dx%d (%v), want the 1024x900 screen", cfgImg.Width, cfgImg.Height, err)
	}
	st, err := store.Open(t.Context(), filepath.Join(a.data, "upshot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hist, err := st.History(t.Context(), store.Query{})
	if err != nil || len(hist) != 2 {
		t.Fatalf("history: %d entries (%v), want the 2 captures", len(hist), err)
	}
	for _, e := range hist {
		if e.Source != store.SourceCapture || !strings.HasPrefix(e.Key, "caps/Screenshot ") {
			t.Fatalf("entry %+v: want a capture under caps/", e)
		}
	}
	if first != hist[1].URL {
		t.Fatalf("the clipboard held %q, not the first capture's link %q", first, hist[1].URL)
	}
}

// hotkeyMods are the default hotkeys' modifiers as X state bits.
const hotkeyMods = uint16(xproto.ModMaskControl | xproto.ModMaskShift | xproto.ModMask1)

// xConn connects to display and returns the connection, its root window
// and the keycode of digit.
func xConn(t testing.TB, display, digit string) (*xgb.Conn, xproto.Window, xproto.Keycode) {
	t.Helper()
	xgb.Logger.SetOutput(io.Discard)
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	setup := xproto.Setup(conn)
	mapping, err := xproto.GetKeyboardMapping(conn, setup.MinKeycode, byte(setup.MaxKeycode-setup.MinKeycode+1)).Reply()
	if err != nil {
		t.Fatal(err)
	}
	for i := range int(setup.MaxKeycode - setup.MinKeycode + 1) {
		if mapping.Keysyms[i*int(mapping.KeysymsPerKeycode)] == xproto.Keysym(digit[0]) {
			return conn, setup.DefaultScreen(conn).Root, xproto.Keycode(int(setup.MinKeycode) + i)
		}
	}
	t.Fatalf("no keycode for %q", digit)
	return nil, 0, 0
}

// holdKey grabs Ctrl+Shift+Alt+digit as another program would, for the
// rest of the test.
func holdKey(t testing.TB, display, digit string) {
	t.Helper()
	conn, root, code := xConn(t, display, digit)
	if err := xproto.GrabKeyChecked(conn, true, root, hotkeyMods, code, xproto.GrabModeAsync, xproto.GrabModeAsync).Check(); err != nil {
		t.Fatal(err)
	}
}

// awaitGrab waits until another X client holds Ctrl+Shift+Alt+digit on
// the root window: this connection's own grab of it then fails with
// BadAccess.
func awaitGrab(t testing.TB, display, digit string) {
	t.Helper()
	conn, root, code := xConn(t, display, digit)
	timeout := time.After(2 * time.Minute) // a hang guard
	for {
		err := xproto.GrabKeyChecked(conn, true, root, hotkeyMods, code, xproto.GrabModeAsync, xproto.GrabModeAsync).Check()
		var access xproto.AccessError
		if errors.As(err, &access) {
			return
		}
		if err == nil {
			xproto.UngrabKey(conn, code, root, hotkeyMods)
		}
		select {
		case <-timeout:
			t.Fatal("the window never grabbed its capture hotkey")
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// TestTakenHotkeyInSettings: a hotkey another program holds is "Not
// active" in the settings, with the reason, and the others are active.
func TestTakenHotkeyInSettings(t *testing.T) {
	display := xvfbtest.Start(t, 320, 240)
	t.Setenv("DISPLAY", display)
	t.Setenv("WAYLAND_DISPLAY", "")
	t.Setenv("XDG_SESSION_TYPE", "x11")
	holdKey(t, display, "5")
	h := newHarness(t, harnessOptions{})
	s := h.u.ensureSettings()
	h.u.applyHotkeys(uploader.DefaultHotkeys)
	defer h.u.keys.close()
	h.until("the hotkeys' state", func() bool { return s.cap.keyStatus[hkCaptureRegion].Text != "" })
	why := s.errs[hotkeyFieldPrefix+hkCaptureWindow]
	if s.cap.keyStatus[hkCaptureWindow].Text != "Not active" || !why.Visible() || !strings.Contains(why.Text, "Ctrl+Shift+Alt+5") || !strings.Contains(why.Text, "taken") {
		t.Fatalf("the held hotkey: %q, reason %q", s.cap.keyStatus[hkCaptureWindow].Text, why.Text)
	}
	for _, id := range []string{hkCaptureRegion, hkCaptureScreen, hkUploadClipboard, hkOpen, hkPause} {
		if got := s.cap.keyStatus[id].Text; got != "Active" {
			t.Errorf("%s: %q, want Active", id, got)
		}
	}
	if !strings.Contains(s.cap.backend.Text, "X11") {
		t.Errorf("backend line %q", s.cap.backend.Text)
	}
}

// clipboardLink reads the clipboard with xclip until it holds a link to
// the server other than not (the window puts it there as the upload
// completes).
func clipboardLink(t testing.TB, xclip, display, endpoint, not string) string {
	t.Helper()
	timeout := time.After(2 * time.Minute) // a hang guard
	for {
		cmd := exec.CommandContext(t.Context(), xclip, "-o", "-selection", "clipboard")
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		out, _ := cmd.Output()
		if strings.HasPrefix(string(out), endpoint) && string(out) != not {
			return string(out)
		}
		select {
		case <-timeout:
			t.Fatalf("the clipboard never held a link; it holds %q", out)
		case <-time.After(5 * time.Millisecond):
		}
	}
}
