// Package clipboard puts links on the system clipboard and reads text and
// images from it, for Upshot's long-running GUI and its short-lived CLI alike.
//
// It wraps golang.design/x/clipboard, which needs cgo on Linux and macOS and
// may panic when called after a failed Init, and falls back to command-line
// tools (wl-copy/wl-paste, xclip, xsel, pbcopy/pbpaste). The adapter never
// panics: without any usable clipboard every call returns an error wrapping
// [ErrUnavailable], which says what is missing. Callers print that once as a
// warning and carry on; the link still goes to stdout, history and the window.
//
// The backend is chosen lazily, once per [Clipboard], on its first use:
//
//   - Linux and the BSDs: wl-copy/wl-paste when WAYLAND_DISPLAY is set and
//     both are installed; else, with DISPLAY set, golang.design's X11 code
//     (cgo builds, Init succeeded), else xclip, else xsel. Nothing else
//     counts: no display means ErrUnavailable.
//   - macOS: golang.design with cgo, else pbcopy/pbpaste (text only).
//   - Windows: golang.design, which needs no cgo there.
//
// # Persistence
//
// An X11 selection belongs to a live client: when the process that wrote it
// exits, the clipboard is empty again. [Options.Persist] asks for content
// that outlives the caller (the CLI prints a link, copies it and exits). On
// X11 such a write goes to xclip or xsel, which fork a server that keeps
// answering paste requests; without either tool, the package re-executes the
// running program (os.Executable) as a detached helper that owns the
// selection. A program that sets Persist must therefore route [HoldCommand]
// to [Hold] at the top of main:
//
//	if len(os.Args) > 1 && os.Args[1] == clipboard.HoldCommand {
//		os.Exit(clipboard.Hold(os.Stdin))
//	}
//
// WriteText returns only once the new owner holds the selection, so the
// caller may exit right away. The macOS pasteboard and the Windows
// clipboard keep content after the writer exits without any of this.
//
// # Concurrency
//
// A [Clipboard] is safe for concurrent use by multiple goroutines; writes
// are serialised, reads are not. Every method honours its context, and
// external tools run with a timeout of their own as well.
package clipboard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"time"
)

// ErrUnavailable is wrapped by every error that means no clipboard can be
// used at all: no display, no usable X11 library, no helper tool. The
// wrapping error's message names what is missing and how to fix it. The
// condition is decided once per [Clipboard] and does not change afterwards.
var ErrUnavailable = errors.New("clipboard unavailable")

// ErrNoImage is wrapped by [Clipboard.ReadImage] when the clipboard holds no
// PNG image (it is empty, or holds only text).
var ErrNoImage = errors.New("clipboard holds no PNG image")

// Timeouts, each also bounded by the caller's context.
const (
	toolTimeout      = 5 * time.Second  // one run of an external tool
	libTimeout       = 5 * time.Second  // one golang.design call
	takeoverTimeout  = 2 * time.Second  // a forking tool taking over the selection
	holdReadyTimeout = 10 * time.Second // the re-executed holder taking the selection
)

// pngMagic starts every PNG file.
var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// Options configure a [Clipboard].
type Options struct {
	// Persist says that the caller may exit right after WriteText returns,
	// so written content must outlive the process. It matters on X11 only;
	// see the package documentation for how it is kept alive.
	Persist bool
}

// Clipboard is the system clipboard as seen through one backend, chosen
// lazily on first use. The zero value is not usable; call [New].
// A Clipboard is safe for concurrent use.
type Clipboard struct {
	opts Options

	once sync.Once
	b    backend

	writeMu sync.Mutex // serialises writes, so the last WriteText to return wins
}

// New returns a Clipboard. It does no I/O: the backend is chosen on the
// first call of any method, so New is cheap on headless machines.
func New(opts Options) *Clipboard {
	return &Clipboard{opts: opts}
}

// backend is one way of reaching a clipboard.
type backend interface {
	name() string
	writeText(ctx context.Context, text string, persist bool) error
	readText(ctx context.Context) (string, error)
	readImage(ctx context.Context) ([]byte, error)
	writeImage(ctx context.Context, png []byte, persist bool) error
}

func (c *Clipboard) backend() backend {
	c.once.Do(func() { c.b = choose() })
	return c.b
}

// WriteText replaces the clipboard's content with text. When it returns
// nil the text is on the clipboard; with [Options.Persist] it stays there
// after the process exits. Errors wrap [ErrUnavailable] when there is no
// clipboard, and otherwise name the tool or library that failed.
func (c *Clipboard) WriteText(ctx context.Context, text string) error {
	b := c.backend()
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := b.writeText(ctx, text, c.opts.Persist); err != nil {
		return fmt.Errorf("write clipboard: %w", err)
	}
	return nil
}

// ReadText returns the clipboard's text. Where the backend can tell, an
// empty clipboard reads as ""; the command-line tools report it as an error
// that quotes the tool.
func (c *Clipboard) ReadText(ctx context.Context) (string, error) {
	s, err := c.backend().readText(ctx)
	if err != nil {
		return "", fmt.Errorf("read clipboard: %w", err)
	}
	return s, nil
}

// ReadImage returns the clipboard's image as PNG bytes. When the clipboard
// holds no PNG image the error wraps [ErrNoImage]; backends that cannot read
// images at all (xsel, pbpaste) return an error wrapping
// [errors.ErrUnsupported].
func (c *Clipboard) ReadImage(ctx context.Context) ([]byte, error) {
	img, err := c.backend().readImage(ctx)
	if err != nil {
		return nil, fmt.Errorf("read clipboard image: %w", err)
	}
	if !bytes.HasPrefix(img, pngMagic) {
		return nil, fmt.Errorf("read clipboard image: %w (the image/png data is not a PNG file)", ErrNoImage)
	}
	return img, nil
}

// WriteImage replaces the clipboard's content with a PNG image. With
// [Options.Persist] on X11 the image goes to xclip, which keeps it after
// the process exits; backends that cannot write images (xsel, pbcopy, an
// X11 without xclip for a persistent write) return an error wrapping
// [errors.ErrUnsupported].
func (c *Clipboard) WriteImage(ctx context.Context, png []byte) error {
	if !bytes.HasPrefix(png, pngMagic) {
		return errors.New("write clipboard image: the data is not a PNG file")
	}
	b := c.backend()
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := b.writeImage(ctx, png, c.opts.Persist); err != nil {
		return fmt.Errorf("write clipboard image: %w", err)
	}
	return nil
}

// Backend names the backend in use: "x11", "wl-copy", "xclip", "xsel",
// "macos", "pbcopy", "windows", or "none" when no clipboard is available.
// The first call chooses the backend, as any other method would.
func (c *Clipboard) Backend() string {
	return c.backend().name()
}

// choose picks the backend for this process's environment.
func choose() backend {
	switch runtime.GOOS {
	case "windows":
		return chooseLib("windows")
	case "darwin":
		if libAvailable {
			return chooseLib("macos")
		}
		return choosePasteboard()
	case "android", "ios", "js", "wasip1", "plan9":
		return unavailable{fmt.Errorf("%w: no clipboard support on %s", ErrUnavailable, runtime.GOOS)}
	}
	return chooseUnix()
}

// choosePasteboard uses macOS's pbcopy and pbpaste, found on PATH, where
// golang.design is not built in.
func choosePasteboard() backend {
	copyPath, err1 := exec.LookPath("pbcopy")
	pastePath, err2 := exec.LookPath("pbpaste")
	if err1 != nil || err2 != nil {
		return unavailable{fmt.Errorf("%w: pbcopy/pbpaste not found in PATH (they ship with macOS; or build Upshot with cgo)", ErrUnavailable)}
	}
	return pbTools(copyPath, pastePath)
}

// chooseLib uses golang.design on systems where it needs no display
// server and no separate persistence.
func chooseLib(name string) backend {
	if err := libInit(); err != nil {
		return unavailable{fmt.Errorf("%w: %s clipboard: %v", ErrUnavailable, name, err)}
	}
	return &libBackend{label: name}
}

// chooseUnix handles Wayland and X11.
func chooseUnix() backend {
	wayland, display := os.Getenv("WAYLAND_DISPLAY"), os.Getenv("DISPLAY")
	if wayland != "" {
		copyPath, err1 := exec.LookPath("wl-copy")
		pastePath, err2 := exec.LookPath("wl-paste")
		if err1 == nil && err2 == nil {
			return wlTools(copyPath, pastePath)
		}
		if display == "" {
			return unavailable{fmt.Errorf("%w: Wayland session (WAYLAND_DISPLAY=%s) without wl-copy/wl-paste: install wl-clipboard", ErrUnavailable, wayland)}
		}
		// XWayland: go on with X11.
	}
	if display == "" {
		return unavailable{fmt.Errorf("%w: no display: DISPLAY and WAYLAND_DISPLAY are unset (run inside a desktop session, or set DISPLAY, e.g. to an Xvfb server)", ErrUnavailable)}
	}
	var xclip, xsel *toolBackend
	if p, err := exec.LookPath("xclip"); err == nil {
		xclip = xclipTool(p)
	}
	if p, err := exec.LookPath("xsel"); err == nil {
		xsel = xselTool(p)
	}
	if libAvailable {
		err := libInit()
		if err == nil {
			b := &libBackend{label: "x11", x11: true, images: xclip, persistTool: xclip}
			if b.persistTool == nil {
				b.persistTool = xsel
			}
			return b
		}
		// Never call golang.design again: after a failed Init it may panic.
		if xclip != nil {
			return xclip
		}
		if xsel != nil {
			return xsel
		}
		return unavailable{fmt.Errorf("%w: cannot open X display %q through libX11.so (is the X server running? libX11.so comes with libx11-dev), and neither xclip nor xsel is installed: install xclip", ErrUnavailable, display)}
	}
	if xclip != nil {
		return xclip
	}
	if xsel != nil {
		return xsel
	}
	return unavailable{fmt.Errorf("%w: DISPLAY=%s is set, but this build has no cgo X11 support and neither xclip nor xsel is installed: install xclip", ErrUnavailable, display)}
}

// unavailable is the backend when there is no clipboard: every call fails
// with the same error, which wraps ErrUnavailable.
type unavailable struct{ err error }

func (unavailable) name() string                                     { return "none" }
func (u unavailable) writeText(context.Context, string, bool) error  { return u.err }
func (u unavailable) readText(context.Context) (string, error)       { return "", u.err }
func (u unavailable) readImage(context.Context) ([]byte, error)      { return nil, u.err }
func (u unavailable) writeImage(context.Context, []byte, bool) error { return u.err }
