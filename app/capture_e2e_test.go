package app

import (
	"errors"
	"fmt"
	"image/png"
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
	"upshot/uploader/s3test"
)

// TestHotkeyCapturesScreen runs the real window program under Xvfb with
// ImageMagick's import as the only screenshot tool and no portal: the
// screen-capture hotkey, sent with xdotool, takes a capture that is
// uploaded and whose link xclip reads from the clipboard. A second press
// while that capture runs (it waits capture.delay first) starts nothing;
// a press after it is done starts the next one.
func TestHotkeyCapturesScreen(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	tools := map[string]string{}
	for _, name := range []string{"xclip", "xdotool", "import"} {
		p, err := exec.LookPath(name)
		if err != nil {
			if os.Getenv(xvfbtest.RequireEnv) == "1" {
				t.Fatalf("%s is needed (make test installs it)", name)
			}
			t.Skipf("%s is not installed", name)
		}
		tools[name] = p
	}
	display := xvfbtest.Start(t, 800, 600)
	bus := dbustest.Start(t) // a session bus without a screenshot portal
	bin := buildUpshot(t)
	srv := s3test.Start(t, s3test.Options{})
	dir := t.TempDir()
	// The app finds import, and no other tool, on its PATH.
	path := filepath.Join(dir, "bin")
	os.Mkdir(path, 0o755)
	if err := os.Symlink(tools["import"], filepath.Join(path, "import")); err != nil {
		t.Fatal(err)
	}
	captures := filepath.Join(dir, "captures")
	config := filepath.Join(dir, "config.toml")
	body := fmt.Sprintf("[target]\nendpoint = %q\nbucket = %q\nkey_id = %q\nkey = %q\npath_template = \"caps/{name}{ext}\"\n"+
		"[capture]\ndir = %q\ndelay = \"3s\"\n", srv.Endpoint, srv.Bucket, srv.AccessKey, srv.SecretKey, captures)
	if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	env := []string{"DISPLAY=" + display, "WAYLAND_DISPLAY=", "XDG_SESSION_TYPE=x11", "LANG=C.UTF-8", "HOME=" + dir, "UPSHOT_DATA_DIR=" + data,
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "xdg"), "DBUS_SESSION_BUS_ADDRESS=" + bus, "PATH=" + path,
		"B2_APPLICATION_KEY_ID=", "B2_APPLICATION_KEY=", "UPSHOT_CONFIG=" + config}
	p := startApp(t, bin, env)
	p.ready(t)
	awaitGrab(t, display, "3")

	key := func() {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), tools["xdotool"], "key", "ctrl+shift+alt+3")
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("xdotool: %v: %s", err, out)
		}
	}
	key()
	key() // while the first capture waits its delay
	p.until(t, "the first capture's upload", func(s core.Status) bool { return s.Uploaded >= 1 })
	first := clipboardLink(t, tools["xclip"], display, srv.Endpoint)
	key()
	p.until(t, "the second capture's upload", func(s core.Status) bool { return s.Uploaded >= 2 })
	p.stop(t)

	files, _ := filepath.Glob(filepath.Join(captures, "Screenshot *.png"))
	if len(files) != 2 {
		t.Fatalf("%d captures saved (%q); want 2: the press during the first capture must start nothing", len(files), files)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	cfgImg, err := png.DecodeConfig(f)
	f.Close()
	if err != nil || cfgImg.Width != 800 || cfgImg.Height != 600 {
		t.Fatalf("the capture is %dx%d (%v), want the 800x600 screen", cfgImg.Width, cfgImg.Height, err)
	}
	st, err := store.Open(t.Context(), filepath.Join(data, "upshot.db"))
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
	if first != hist[1].URL && first != hist[0].URL {
		t.Fatalf("the clipboard held %q, which is no capture's link (%q, %q)", first, hist[0].URL, hist[1].URL)
	}
}

// awaitGrab waits until another X client holds Ctrl+Shift+Alt+digit on
// the root window: this connection's own grab of it then fails with
// BadAccess.
func awaitGrab(t *testing.T, display, digit string) {
	t.Helper()
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	setup := xproto.Setup(conn)
	root := setup.DefaultScreen(conn).Root
	mapping, err := xproto.GetKeyboardMapping(conn, setup.MinKeycode, byte(setup.MaxKeycode-setup.MinKeycode+1)).Reply()
	if err != nil {
		t.Fatal(err)
	}
	var code xproto.Keycode
	for i := range int(setup.MaxKeycode - setup.MinKeycode + 1) {
		if mapping.Keysyms[i*int(mapping.KeysymsPerKeycode)] == xproto.Keysym(digit[0]) {
			code = xproto.Keycode(int(setup.MinKeycode) + i)
			break
		}
	}
	if code == 0 {
		t.Fatalf("no keycode for %q", digit)
	}
	mods := uint16(xproto.ModMaskControl | xproto.ModMaskShift | xproto.ModMask1)
	timeout := time.After(2 * time.Minute) // a hang guard
	for {
		err := xproto.GrabKeyChecked(conn, true, root, mods, code, xproto.GrabModeAsync, xproto.GrabModeAsync).Check()
		var access xproto.AccessError
		if errors.As(err, &access) {
			return
		}
		if err == nil {
			xproto.UngrabKey(conn, code, root, mods)
		}
		select {
		case <-timeout:
			t.Fatal("the window never grabbed its capture hotkey")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// clipboardLink reads the clipboard with xclip until it holds a link to
// the server (the window puts it there as the upload completes).
func clipboardLink(t *testing.T, xclip, display, endpoint string) string {
	t.Helper()
	timeout := time.After(2 * time.Minute) // a hang guard
	for {
		cmd := exec.CommandContext(t.Context(), xclip, "-o", "-selection", "clipboard")
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		out, _ := cmd.Output()
		if strings.HasPrefix(string(out), endpoint) {
			return string(out)
		}
		select {
		case <-timeout:
			t.Fatalf("the clipboard never held a link; it holds %q", out)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
