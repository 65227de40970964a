package capture

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"upshot/internal/devtools/dbustest"
	"upshot/internal/devtools/xvfbtest"
)

// programEnv gives the test a private bus without a portal and a PATH of
// its own (the returned folder, empty), on an X11 display that scripts
// need not open.
func programEnv(t *testing.T) (bin string) {
	t.Helper()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", dbustest.Start(t))
	bin = t.TempDir()
	t.Setenv("PATH", bin)
	t.Setenv("DISPLAY", ":9")
	t.Setenv("WAYLAND_DISPLAY", "")
	t.Setenv("XDG_CURRENT_DESKTOP", "")
	return bin
}

// lookTool finds a program the test needs, before PATH is restricted.
func lookTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv(xvfbtest.RequireEnv) == "1" {
			t.Fatalf("%s is missing: install it (run make test): %v", name, err)
		}
		t.Skipf("%s is missing: %v", name, err)
	}
	return p
}

// script writes a shell script called name into bin that records its
// arguments (one a line) in the returned file, then runs body.
func script(t *testing.T, bin, name, body string) (argsFile string) {
	t.Helper()
	argsFile = filepath.Join(t.TempDir(), name+".args")
	text := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"$@\" > '%s'\n%s\n", argsFile, body)
	if err := os.WriteFile(filepath.Join(bin, name), []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
	return argsFile
}

// scriptArgs reads what a script recorded; nil when it did not run.
func scriptArgs(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// testPNG writes a w×h PNG and returns its path.
func testPNG(t *testing.T, w, h int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "source.png")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return p
}

// ImageMagick's import, the only program on PATH, takes the whole screen of
// a private X server.
func TestImportTakesTheScreen(t *testing.T) {
	importPath := lookTool(t, "import")
	display := xvfbtest.Start(t, 333, 222)
	bin := programEnv(t)
	t.Setenv("DISPLAY", display)
	if err := os.Symlink(importPath, filepath.Join(bin, "import")); err != nil {
		t.Fatal(err)
	}
	if got, err := Which(t.Context(), Screen); err != nil || got != "ImageMagick (import)" {
		t.Errorf("Which = %q, %v", got, err)
	}
	dir := t.TempDir()
	shot, err := Take(t.Context(), Screen, Options{Dir: dir, Timeout: hangGuard})
	if err != nil {
		t.Fatal(err)
	}
	if shot.Tool != "import" {
		t.Errorf("Tool = %q, want import", shot.Tool)
	}
	checkSaved(t, shot, dir, image.Rect(0, 0, 333, 222))
}

// A tool that exits without a picture: in an interactive mode that is the
// user pressing Esc; for the whole screen, a failure worth its message.
func TestToolWithoutPicture(t *testing.T) {
	bin := programEnv(t)
	args := script(t, bin, "scrot", "echo 'scrot: giving up on the screen' >&2\necho 'second line' >&2\nexit 2")
	dir := t.TempDir()

	_, err := Take(t.Context(), Region, Options{Dir: dir, Timeout: hangGuard})
	if !errors.Is(err, ErrCancelled) {
		t.Errorf("region: %v, want ErrCancelled", err)
	}
	got := scriptArgs(t, args)
	if len(got) != 2 || got[0] != "-s" || filepath.Base(got[1]) != "capture.png" || !strings.HasPrefix(got[1], dir+string(filepath.Separator)+".") {
		t.Errorf("scrot got %q, want -s and a file in a hidden folder of %s", got, dir)
	}
	checkEmpty(t, dir)

	_, err = Take(t.Context(), Screen, Options{Dir: dir, Timeout: hangGuard})
	if err == nil || errors.Is(err, ErrCancelled) || !strings.Contains(err.Error(), "scrot: giving up on the screen") || strings.Contains(err.Error(), "second line") {
		t.Errorf("screen: %v, want an error with the first line of scrot's errors", err)
	}
	if got := scriptArgs(t, args); len(got) != 1 {
		t.Errorf("scrot got %q for the screen, want only the file", got)
	}
	checkEmpty(t, dir)
}

// grim and slurp on Wayland: slurp's rectangle goes to grim; Esc in slurp
// cancels.
func TestGrimAndSlurp(t *testing.T) {
	cp := lookTool(t, "cp")
	bin := programEnv(t)
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "wayland-9")
	src := testPNG(t, 30, 40)
	slurpArgs := script(t, bin, "slurp", "echo '10,20 30x40'")
	grimArgs := script(t, bin, "grim", fmt.Sprintf(`eval last=\${$#}; %s '%s' "$last"`, cp, src))
	dir := t.TempDir()

	shot, err := Take(t.Context(), Region, Options{Dir: dir, Timeout: hangGuard})
	if err != nil {
		t.Fatal(err)
	}
	if shot.Tool != "grim" {
		t.Errorf("Tool = %q, want grim", shot.Tool)
	}
	checkSaved(t, shot, dir, image.Rect(0, 0, 30, 40))
	if got := scriptArgs(t, slurpArgs); len(got) != 1 || got[0] != "" {
		t.Errorf("slurp got %q, want no arguments", got)
	}
	if got := scriptArgs(t, grimArgs); len(got) != 3 || got[0] != "-g" || got[1] != "10,20 30x40" {
		t.Errorf("grim got %q, want -g, slurp's rectangle and the file", got)
	}
	if err := os.Remove(shot.Path); err != nil {
		t.Fatal(err)
	}

	os.Remove(grimArgs)
	script(t, bin, "slurp", "echo 'selection cancelled' >&2; exit 1")
	if _, err := Take(t.Context(), Window, Options{Dir: dir, Timeout: hangGuard}); !errors.Is(err, ErrCancelled) {
		t.Errorf("Esc in slurp: %v, want ErrCancelled", err)
	}
	if got := scriptArgs(t, grimArgs); got != nil {
		t.Errorf("grim ran after a cancelled slurp: %q", got)
	}
	checkEmpty(t, dir)
}

// flameshot hands the picture over on standard output.
func TestFlameshotStdout(t *testing.T) {
	cat := lookTool(t, "cat")
	bin := programEnv(t)
	src := testPNG(t, 17, 9)
	args := script(t, bin, "flameshot", fmt.Sprintf("%s '%s'", cat, src))
	dir := t.TempDir()
	shot, err := Take(t.Context(), Screen, Options{Dir: dir, Timeout: hangGuard})
	if err != nil {
		t.Fatal(err)
	}
	checkSaved(t, shot, dir, image.Rect(0, 0, 17, 9))
	if got, want := scriptArgs(t, args), []string{"full", "--raw"}; !slices.Equal(got, want) {
		t.Errorf("flameshot got %q, want %q", got, want)
	}
}

func TestNoProgram(t *testing.T) {
	programEnv(t)
	for _, mode := range []Mode{Region, Window, Screen} {
		_, err := Which(t.Context(), mode)
		var u *UnavailableError
		if !errors.As(err, &u) {
			t.Fatalf("%s: %v, want an *UnavailableError", mode, err)
		}
		for _, name := range []string{"gnome-screenshot", "spectacle", "maim", "scrot", "flameshot", "ImageMagick (import)"} {
			if !strings.Contains(u.Reason, name) {
				t.Errorf("%q does not name %s", u.Reason, name)
			}
		}
		if _, err := Take(t.Context(), mode, Options{Dir: t.TempDir()}); !errors.As(err, &u) {
			t.Errorf("Take %s: %v, want an *UnavailableError", mode, err)
		}
	}
}

// The context ends the delay before the tool runs.
func TestDelayCancelled(t *testing.T) {
	bin := programEnv(t)
	args := script(t, bin, "scrot", "exit 2")
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	dir := t.TempDir()
	_, err := Take(ctx, Screen, Options{Dir: dir, Delay: time.Hour})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the context's", err)
	}
	if got := scriptArgs(t, args); got != nil {
		t.Errorf("the tool ran: %q", got)
	}
	checkEmpty(t, dir)
}

// A tool the user leaves waiting is ended at the timeout.
func TestToolTimeout(t *testing.T) {
	sleep := lookTool(t, "sleep")
	bin := programEnv(t)
	script(t, bin, "scrot", "exec "+sleep+" 600")
	dir := t.TempDir()
	_, err := Take(t.Context(), Region, Options{Dir: dir, Timeout: 300 * time.Millisecond})
	if err == nil || errors.Is(err, ErrCancelled) || !strings.Contains(err.Error(), "scrot did not finish within 300ms") {
		t.Fatalf("error %v, want one saying scrot did not finish within 300ms", err)
	}
	checkEmpty(t, dir)
}
