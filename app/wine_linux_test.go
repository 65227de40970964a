package app

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"upshot/internal/devtools/winetest"
	"upshot/internal/devtools/xdndtest"
	"upshot/internal/devtools/xvfbtest"
	"upshot/uploader/s3test"
)

// logOf is what the program wrote to f so far.
func logOf(f *os.File) string {
	b, _ := os.ReadFile(f.Name())
	return string(b)
}

// TestWindowUnderWine runs the window program built for Windows
// (upshot-desktop.exe, cgo with mingw-w64) under Wine and Xvfb. It opens on
// the Uploads page with its drop zone, uploads what upshot.exe beside it
// hands over (through the named pipe) and a file dropped on it, a second
// start brings it to the front instead of starting again, and Ctrl+C, which Wine passes on as the
// console's CTRL_C_EVENT, quits it cleanly.
func TestWindowUnderWine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the Windows window program under Wine")
	}
	display := xvfbtest.Start(t, 1024, 768)
	w := winetest.StartDisplay(t, display)
	desk := winetest.Build(t, "upshot/cmd/upshot-desktop", true)
	// Both programs in one folder, as installed: "upshot" with no
	// subcommand starts the window beside it.
	cli := filepath.Join(filepath.Dir(desk), "upshot.exe")
	if err := os.Rename(winetest.Build(t, "upshot/cmd/upshot", false), cli); err != nil {
		t.Fatal(err)
	}
	srv := s3test.Start(t, s3test.Options{})
	config := w.Host(w.AppData() + `\upshot\config.toml`)
	os.MkdirAll(filepath.Dir(config), 0o700)
	body := fmt.Sprintf("[target]\nendpoint = %q\nbucket = %q\npath_template = \"{name}{ext}\"\n", srv.Endpoint, srv.Bucket)
	if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	creds := []string{"B2_APPLICATION_KEY_ID=" + srv.AccessKey, "B2_APPLICATION_KEY=" + srv.SecretKey}

	// Its output goes to a file, not a pipe: a program Wine starts for it
	// may keep the output open after it has quit.
	out, err := os.Create(filepath.Join(t.TempDir(), "window.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	win := w.Command(t.Context(), creds, desk)
	win.Stdout, win.Stderr = out, out
	if err := win.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = win.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = win.Process.Kill()
		<-exited
	})
	status := func() map[string]any {
		o, errs, code := w.Run(t, creds, cli, "status", "--json")
		var st map[string]any
		if code != 0 || json.Unmarshal([]byte(o), &st) != nil {
			t.Fatalf("upshot.exe status: exit %d, %q %q", code, o, errs)
		}
		return st
	}
	until := func(what string, cond func(map[string]any) bool) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Minute) // a hang guard
		for st := status(); !cond(st); st = status() {
			select {
			case <-exited:
				t.Fatalf("the window ended (%v) before %s\n%s", waitErr, what, logOf(out))
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("waited in vain for %s: %v\n%s", what, st, logOf(out))
			}
		}
	}
	until("the window", func(st map[string]any) bool { return st["ready"] == true && st["role"] == "window" })

	wid := windowID(t, display)

	// upshot.exe beside the window hands its file over, through the pipe.
	file := filepath.Join(t.TempDir(), "from the side.png")
	writeScreenshot(t, file, 1)
	o, errs, code := w.Run(t, creds, cli, "upload", "--json", "--no-clipboard", winetest.Path(file))
	if code != 0 || !strings.Contains(o, `"key":"from the side.png"`) {
		t.Fatalf("upshot.exe upload beside the window: exit %d, %q %q", code, o, errs)
	}
	until("the window's upload", func(st map[string]any) bool { return st["uploaded"] == 1.0 })

	// A file dropped on the window, as a file manager drops it (XDND,
	// which Wine hands the program as WM_DROPFILES).
	dropped := filepath.Join(t.TempDir(), "dropped ü.png")
	writeScreenshot(t, dropped, 2)
	id, err := strconv.ParseUint(wid, 10, 32)
	if err != nil {
		t.Fatalf("window id %q: %v", wid, err)
	}
	if err := xdndtest.Drop(t.Context(), display, uint32(id), []string{dropped}); err != nil {
		t.Fatalf("drop onto the window: %v", err)
	}
	until("the dropped file's upload", func(st map[string]any) bool { return st["uploaded"] == 2.0 })
	o, errs, code = w.Run(t, creds, cli, "history", "--json", "--search", "dropped")
	if code != 0 || !strings.Contains(o, `"key":"dropped ü.png"`) || !strings.Contains(o, `"source":"drop"`) {
		t.Fatalf("the history after the drop: exit %d, %q %q", code, o, errs)
	}

	// The window with both uploads in its list.
	shot := screenshot(t, display, wid, "windows-window.png")
	pic, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	if n := colours(pic); n < 8 {
		t.Fatalf("the window's picture has %d colours: nothing drawn", n)
	}

	// A second start, from upshot.exe or from the Start menu's shortcut to
	// upshot-desktop.exe, brings the first window to the front and ends.
	o, errs, code = w.Run(t, creds, cli)
	if code != 0 || !strings.Contains(o+errs, "open already") {
		t.Fatalf("a second upshot.exe: exit %d, %q %q", code, o, errs)
	}
	if o, errs, code = w.Run(t, creds, desk); code != 0 {
		t.Fatalf("a second upshot-desktop.exe: exit %d, %q %q", code, o, errs)
	}
	if st := status(); st["pid"] == nil || st["role"] != "window" {
		t.Fatalf("after the second starts: %v", st)
	}

	if err := win.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("the window did not quit cleanly: %v\n%s", waitErr, logOf(out))
		}
	case <-time.After(2 * time.Minute): // a hang guard
		t.Fatalf("the window did not quit\n%s", logOf(out))
	}
	if dst := os.Getenv(screenshotsEnv); dst != "" {
		if err := os.WriteFile(filepath.Join(dst, "windows-window.png"), pic, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
