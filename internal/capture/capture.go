// Package capture takes a screenshot with the desktop's own means and saves
// it as a PNG file; queueing and uploading it is the caller's business. It
// needs no cgo.
//
// The backend depends on the system:
//
//   - Linux and the BSDs: the xdg-desktop-portal Screenshot interface on the
//     D-Bus session bus when the portal runs there (or can be started), else
//     the first screenshot program found on PATH: gnome-screenshot,
//     spectacle, grim and slurp, maim, scrot, flameshot, ImageMagick's
//     import. On a Wayland session grim comes first (unless the desktop is
//     GNOME or KDE), and the X11-only programs (maim, scrot, import) count
//     only when DISPLAY is set as well (XWayland).
//   - macOS: screencapture.
//   - Windows: the Snipping Tool (ms-screenclip:) for a region or a window,
//     whose picture is read from the clipboard; GDI for the whole screen.
//
// A capture the user abandons (Esc in the tool, Cancel in the portal's
// dialog) is reported as [ErrCancelled]; a machine that cannot capture at
// all as an [*UnavailableError] that says what to install.
//
// # Concurrency
//
// Every function is safe for concurrent use; captures share no state. The
// user can only answer one capture at a time, though, so callers normally
// run one after the other.
package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Mode says what a capture takes.
type Mode string

// The capture modes.
const (
	// Region lets the user drag a rectangle (most tools also let them click a
	// window).
	Region Mode = "region"
	// Window takes a window: the user picks it, or the tool takes the active
	// one.
	Window Mode = "window"
	// Screen takes the whole screen (all monitors where the system can)
	// without asking.
	Screen Mode = "screen"
)

// interactive reports a mode in which the user chooses what to take, so a
// tool that ends without a picture means the user cancelled.
func (m Mode) interactive() bool { return m != Screen }

// ParseMode reads a mode as given on the command line or in the settings,
// ignoring case and surrounding blanks; "" means [Region].
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case "":
		return Region, nil
	case Region, Window, Screen:
		return m, nil
	}
	return "", fmt.Errorf("unknown capture mode %q: use region, window or screen", s)
}

// ErrCancelled is returned (possibly wrapped, with a note) when the user
// abandoned the capture: Esc in the tool or Cancel in the portal's dialog.
var ErrCancelled = errors.New("capture cancelled")

// UnavailableError means this machine cannot capture right now: no display,
// or no screenshot tool. Reason says what is missing and what to install.
type UnavailableError struct{ Reason string }

// Error returns the reason.
func (e *UnavailableError) Error() string { return e.Reason }

// Options tune [Take]. The zero value is ready to use.
type Options struct {
	// Dir is the folder the capture is saved in, created (0700) when
	// missing. Empty means [DefaultDir].
	Dir string
	// Delay is how long to wait before capturing; the context cancels the
	// wait.
	Delay time.Duration
	// Timeout is how long to wait for the user to finish the capture or for
	// the portal to answer. 0 means 2 minutes.
	Timeout time.Duration
}

// defaultTimeout applies when Options.Timeout is 0.
const defaultTimeout = 2 * time.Minute

// Shot is a capture saved on disk.
type Shot struct {
	// Path is the saved image in Options.Dir, named by [Name] (with " (2)"
	// and so on when that name was taken).
	Path string
	// Tool says what took the picture: "portal", "gnome-screenshot",
	// "spectacle", "grim", "maim", "scrot", "flameshot", "import",
	// "screencapture", "Snipping Tool" or "GDI".
	Tool string
	// ToolTime is the time spent in the tool, with the user, without the
	// delay; for benchmarks and logs.
	ToolTime time.Duration
}

// backend is one way of taking a picture on this system.
type backend interface {
	// describe names the backend for Which.
	describe(mode Mode) string
	// capture takes the picture. It returns the file that holds it, either
	// inside scratch (an empty private folder inside the destination folder)
	// or somewhere else (the file is then moved), and the tool that took
	// it. timeout bounds the wait for the user or the service.
	capture(ctx context.Context, mode Mode, scratch string, timeout time.Duration) (file, tool string, err error)
}

// Take captures in mode and saves the image under opts.Dir. It returns
// [ErrCancelled] when the user abandons the capture, an [*UnavailableError]
// when this machine has no way to capture, and the context's error when
// ctx ends first. Nothing is left in opts.Dir unless a capture is saved.
// Take is safe for concurrent use, but callers normally run one at a time.
func Take(ctx context.Context, mode Mode, opts Options) (Shot, error) {
	mode, err := ParseMode(string(mode))
	if err != nil {
		return Shot{}, err
	}
	dir := opts.Dir
	if dir == "" {
		dir = DefaultDir()
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	b, err := pick(ctx, mode)
	if ctxErr := ctx.Err(); ctxErr != nil {
		return Shot{}, ctxErr
	}
	if err != nil {
		return Shot{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Shot{}, fmt.Errorf("create the screenshot folder: %w", err)
	}
	if opts.Delay > 0 {
		t := time.NewTimer(opts.Delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return Shot{}, ctx.Err()
		case <-t.C:
		}
	}
	// Hidden, so that a folder watch on dir ignores the tool's work in
	// progress; inside dir, so that the finished file only has to be renamed.
	scratch, err := os.MkdirTemp(dir, ".capture-")
	if err != nil {
		return Shot{}, fmt.Errorf("create a work folder in the screenshot folder: %w", err)
	}
	defer os.RemoveAll(scratch)
	start := time.Now()
	file, tool, err := b.capture(ctx, mode, scratch, timeout)
	took := time.Since(start)
	if err != nil {
		return Shot{}, err
	}
	path, err := save(dir, time.Now(), file)
	if err != nil {
		return Shot{}, err
	}
	return Shot{Path: path, Tool: tool, ToolTime: took}, nil
}

// Which says which backend [Take] would use now for mode, without
// capturing: for example "the desktop's screenshot portal" or "scrot". When
// there is none it returns the [*UnavailableError] that Take would.
func Which(ctx context.Context, mode Mode) (string, error) {
	mode, err := ParseMode(string(mode))
	if err != nil {
		return "", err
	}
	b, err := pick(ctx, mode)
	if err != nil {
		return "", err
	}
	return b.describe(mode), nil
}

// Name is the file name of a capture taken at t, in t's time zone:
// "Screenshot 2026-11-29 at 09.18.05.png". [Take] adds " (2)", " (3)"… before
// the extension when that name is taken.
func Name(t time.Time) string {
	return "Screenshot " + t.Format("2006-01-02 at 15.04.05") + ".png"
}

// maxSameName bounds the " (n)" suffixes tried for one second's name.
const maxSameName = 10000

// save moves the captured file src into dir under Name(t), or the first
// free " (n)" variant of it, keeping src's extension, and makes it 0600. The
// name is claimed with O_EXCL, so concurrent saves never share one.
func save(dir string, t time.Time, src string) (string, error) {
	ext := strings.ToLower(filepath.Ext(src))
	if ext == "" {
		ext = ".png"
	}
	base := strings.TrimSuffix(Name(t), ".png")
	for n := 1; n <= maxSameName; n++ {
		name := base
		if n > 1 {
			name = fmt.Sprintf("%s (%d)", base, n)
		}
		path := filepath.Join(dir, name+ext)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("save the screenshot in %s: %w", dir, err)
		}
		f.Close()
		if err := moveInto(src, path); err != nil {
			os.Remove(path)
			return "", fmt.Errorf("save the screenshot in %s: %w", dir, err)
		}
		return path, nil
	}
	return "", fmt.Errorf("save the screenshot in %s: %d files are already named %q and its variants; move some away", dir, maxSameName, base+ext)
}

// moveInto moves src onto dst, which exists: a rename, or where that fails
// (another file system: EXDEV), a copy into dst and the removal of src.
func moveInto(src, dst string) error {
	if err := os.Rename(src, dst); err == nil {
		return os.Chmod(dst, 0o600)
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	in.Close()
	// The copy is saved either way; a source that cannot be removed only
	// stays behind.
	_ = os.Remove(src)
	return nil
}
