package capture

import (
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"upshot/internal/devtools/dbustest"
)

// portalEnv points the package at a private bus and returns its address.
// PATH holds no screenshot program and there is no display, so only the
// portal can capture.
func portalEnv(t *testing.T) string {
	t.Helper()
	addr := dbustest.Start(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	t.Setenv("PATH", t.TempDir())
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	t.Setenv("XDG_CURRENT_DESKTOP", "")
	return addr
}

var nameRE = regexp.MustCompile(`^Screenshot \d{4}-\d\d-\d\d at \d\d\.\d\d\.\d\d\.png$`)

// checkSaved checks that shot is the only file in dir, named by Name, 0600,
// and a PNG of size want.
func checkSaved(t *testing.T, shot Shot, dir string, want image.Rectangle) {
	t.Helper()
	if filepath.Dir(shot.Path) != dir || !nameRE.MatchString(filepath.Base(shot.Path)) {
		t.Errorf("saved as %q, want a Name() in %s", shot.Path, dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 || entries[0].Name() != filepath.Base(shot.Path) {
		t.Errorf("the folder holds %v (%v), want only the capture", entries, err)
	}
	fi, err := os.Stat(shot.Path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode())
	}
	f, err := os.Open(shot.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the capture is no PNG: %v", err)
	}
	if img.Bounds() != want {
		t.Errorf("picture %v, want %v", img.Bounds(), want)
	}
}

// hangGuard bounds every wait for an event in these tests.
const hangGuard = 30 * time.Second

func checkEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("%s holds %v, want nothing", dir, entries)
	}
}

func TestPortalCaptures(t *testing.T) {
	for _, c := range []struct {
		mode        Mode
		answer      string
		interactive bool
	}{
		{Region, dbustest.AnswerOK, true},
		{Window, dbustest.AnswerOK, true},
		{Screen, dbustest.AnswerOK, false},
		{Region, dbustest.AnswerOldAPI, true},
	} {
		t.Run(string(c.mode)+"-"+c.answer, func(t *testing.T) {
			addr := portalEnv(t)
			pictures := t.TempDir()
			p := dbustest.StartPortal(t, addr, c.answer, pictures, true)
			if got, err := Which(t.Context(), c.mode); err != nil || got != "the desktop's screenshot portal" {
				t.Errorf("Which = %q, %v", got, err)
			}
			dir := filepath.Join(t.TempDir(), "new", "Upshot")
			shot, err := Take(t.Context(), c.mode, Options{Dir: dir, Timeout: hangGuard})
			if err != nil {
				t.Fatal(err)
			}
			if shot.Tool != "portal" {
				t.Errorf("Tool = %q, want portal", shot.Tool)
			}
			checkSaved(t, shot, dir, dbustest.PortalPicture)
			checkEmpty(t, pictures)
			if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("the new folder: %v, %v; want 0700", fi.Mode(), err)
			}
			opts := p.NextCall(t)
			if v, ok := opts["interactive"].Value().(bool); !ok || v != c.interactive {
				t.Errorf("interactive = %v, want %v", opts["interactive"], c.interactive)
			}
			if v, ok := opts["modal"].Value().(bool); !ok || !v {
				t.Errorf("modal = %v, want true", opts["modal"])
			}
			if v, _ := opts["handle_token"].Value().(string); v == "" {
				t.Errorf("no handle_token in %v", opts)
			}
		})
	}
}

// The portal's file is moved, not copied, also from another file system.
func TestPortalFileFromAnotherFileSystem(t *testing.T) {
	dir := t.TempDir()
	var shm, tmp syscall.Stat_t
	if syscall.Stat("/dev/shm", &shm) != nil || syscall.Stat(dir, &tmp) != nil || shm.Dev == tmp.Dev {
		t.Skip("/dev/shm is not a file system of its own here")
	}
	pictures, err := os.MkdirTemp("/dev/shm", "pictures")
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { os.RemoveAll(pictures) })
	addr := portalEnv(t)
	dbustest.StartPortal(t, addr, dbustest.AnswerOK, pictures, true)
	shot, err := Take(t.Context(), Screen, Options{Dir: dir, Timeout: hangGuard})
	if err != nil {
		t.Fatal(err)
	}
	checkSaved(t, shot, dir, dbustest.PortalPicture)
	checkEmpty(t, pictures)
}

func TestPortalCancelled(t *testing.T) {
	addr := portalEnv(t)
	dbustest.StartPortal(t, addr, dbustest.AnswerCancel, t.TempDir(), true)
	dir := t.TempDir()
	_, err := Take(t.Context(), Region, Options{Dir: dir, Timeout: hangGuard})
	if !errors.Is(err, ErrCancelled) {
		t.Fatalf("error %v, want ErrCancelled", err)
	}
	checkEmpty(t, dir)
}

func TestPortalNoAnswer(t *testing.T) {
	addr := portalEnv(t)
	p := dbustest.StartPortal(t, addr, dbustest.AnswerNever, t.TempDir(), true)
	dir := t.TempDir()
	_, err := Take(t.Context(), Region, Options{Dir: dir, Timeout: 300 * time.Millisecond})
	if err == nil || errors.Is(err, ErrCancelled) || !strings.Contains(err.Error(), "portal did not answer within 300ms") {
		t.Fatalf("error %v, want one saying the portal did not answer within 300ms", err)
	}
	for _, hint := range []string{"xdg-desktop-portal", "restart"} {
		if !strings.Contains(err.Error(), hint) {
			t.Errorf("error %q does not suggest %s", err, hint)
		}
	}
	opts := p.NextCall(t)
	token, _ := opts["handle_token"].Value().(string)
	if got := p.NextClose(t); !strings.HasSuffix(string(got), "/"+token) {
		t.Errorf("closed %s, want the request with token %s", got, token)
	}
	checkEmpty(t, dir)
}

func TestPortalContextCancelled(t *testing.T) {
	addr := portalEnv(t)
	p := dbustest.StartPortal(t, addr, dbustest.AnswerNever, t.TempDir(), true)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		// Cancel once the portal has the request (or never hangs).
		select {
		case <-p.Called():
		case <-time.After(hangGuard):
		}
		cancel()
	}()
	dir := t.TempDir()
	_, err := Take(ctx, Window, Options{Dir: dir, Timeout: hangGuard})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	p.NextClose(t)
	checkEmpty(t, dir)
}

// A portal without a screenshot backend is passed over for the programs.
func TestPortalWithoutScreenshot(t *testing.T) {
	addr := portalEnv(t)
	dbustest.StartPortal(t, addr, dbustest.AnswerOK, t.TempDir(), false)
	t.Setenv("DISPLAY", ":9")
	_, err := Which(t.Context(), Screen)
	var u *UnavailableError
	if !errors.As(err, &u) || !strings.Contains(u.Reason, "scrot") {
		t.Fatalf("Which: %v, want an *UnavailableError naming the programs", err)
	}
	dir := filepath.Join(t.TempDir(), "Upshot")
	if _, err := Take(t.Context(), Screen, Options{Dir: dir}); !errors.As(err, &u) {
		t.Fatalf("Take: %v, want an *UnavailableError", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the folder was created: %v", err)
	}
}

// With no portal and no display, there is nothing to capture with.
func TestNoDisplay(t *testing.T) {
	portalEnv(t)
	for _, mode := range []Mode{Region, Screen} {
		_, err := Take(t.Context(), mode, Options{Dir: t.TempDir()})
		var u *UnavailableError
		if !errors.As(err, &u) || !strings.Contains(u.Reason, "no display") || !strings.Contains(u.Reason, "WAYLAND_DISPLAY") {
			t.Errorf("%s: %v, want an *UnavailableError about the display", mode, err)
		}
	}
}
