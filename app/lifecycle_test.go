package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"upshot/internal/devtools/xvfbtest"
	"upshot/uploader/s3test"
)

// lifecycleFaults are lines the window program must never print: a Fyne
// call from the wrong goroutine, a panic, and Fyne's complaint about the
// C.UTF-8 locale.
var lifecycleFaults = []string{"Error in Fyne call thread", "panic:", "goroutine ", "Error parsing user locale", "fatal error"}

// TestQuitsCleanlyAtAnyMoment starts the real window program again and
// again and sends SIGTERM or SIGINT at a different point of its life each
// time: at once, during start-up, once the window shows, and while
// uploads are on their way to the list. Each run must end by itself,
// without a panic, without a Fyne call from the wrong goroutine, and
// without a locale error, under LANG=C.UTF-8 and LANG=C, started through
// upshot and directly.
func TestQuitsCleanlyAtAnyMoment(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real binary many times")
	}
	display := xvfbtest.Start(t, 1024, 768)
	bin := buildUpshot(t)
	desktop := filepath.Join(filepath.Dir(bin), "upshot-desktop")
	srv := s3test.Start(t, s3test.Options{})
	dir := t.TempDir()
	config := writeConfig(t, dir, srv, "{name}{ext}", "")
	shots := filepath.Join(dir, "shots")
	if err := os.Mkdir(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		writeScreenshot(t, filepath.Join(shots, fmt.Sprintf("shot-%02d.png", i)), i)
	}

	type moment struct {
		name  string
		delay time.Duration // after start; with event, after the event
		event string        // "shown", "uploaded" (files handed over, one done) or ""
	}
	moments := []moment{
		{"at once", 0, ""},
		{"early start-up", 5 * time.Millisecond, ""},
		{"start-up", 30 * time.Millisecond, ""},
		{"late start-up", 120 * time.Millisecond, ""},
		{"window shown", 0, "shown"},
		{"just after showing", 20 * time.Millisecond, "shown"},
		{"first upload listed", 0, "uploaded"},
		{"uploads in flight", 5 * time.Millisecond, "uploaded"},
	}
	runs := 0
	for i, m := range moments {
		for j, lang := range []string{"C.UTF-8", "C"} {
			sig, prog := syscall.SIGTERM, bin
			if (i+j)%2 == 1 {
				sig, prog = syscall.SIGINT, desktop
			}
			name := fmt.Sprintf("%s/%s/LANG=%s/%s", m.name, sig, lang, filepath.Base(prog))
			data := t.TempDir()
			env := []string{"DISPLAY=" + display, "WAYLAND_DISPLAY=", "LANG=" + lang, "LC_ALL=", "LC_MESSAGES=", "HOME=" + dir,
				"UPSHOT_DATA_DIR=" + data, "UPSHOT_CONFIG=" + config, "XDG_CONFIG_HOME=" + filepath.Join(dir, "xdg"),
				"DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(dir, "no-bus")}
			p := startApp(t, prog, env)
			if m.event != "" {
				p.ready(t)
			}
			var up *appProc
			if m.event == "uploaded" {
				// Files handed to the window's queue; the hand-off ends,
				// one way or another, when the window quits.
				up = startApp(t, bin, env, "upload", "--json", "--no-clipboard", shots+"/shot-00.png", shots+"/shot-01.png",
					shots+"/shot-02.png", shots+"/shot-03.png", shots+"/shot-04.png", shots+"/shot-05.png")
				up.expect(t, "{")
			}
			time.Sleep(m.delay) // a point in the app's life, not a wait for it
			if err := p.cmd.Process.Signal(sig); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			exited := make(chan error, 1)
			go func() {
				for range p.lines { // drain until stdout closes
				}
				exited <- p.cmd.Wait()
			}()
			var err error
			select {
			case err = <-exited:
				close(p.done)
			case <-time.After(60 * time.Second):
				_ = p.cmd.Process.Signal(syscall.SIGQUIT) // its goroutines, on stderr
				<-exited
				close(p.done)
				t.Fatalf("%s: the app did not end within a minute of the signal\n%s", name, p.errors())
			}
			if up != nil {
				for range up.lines {
				}
				_ = up.cmd.Wait() // either way: the window may have quit mid-batch
				close(up.done)
			}
			// Exit 0, or, when the signal came before Go had set up its
			// handlers, the signal's default action; never a crash.
			ws := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
			if err != nil && !(ws.Signaled() && ws.Signal() == sig) {
				t.Errorf("%s: %v\n%s", name, err, p.errors())
			}
			for _, f := range lifecycleFaults {
				if strings.Contains(p.errors(), f) {
					t.Errorf("%s: the app printed %q:\n%s", name, f, p.errors())
				}
			}
			runs++
		}
	}
	t.Logf("%d starts, each ended by a signal", runs)
}
