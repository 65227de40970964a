package clipboard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// toolBackend drives command-line clipboard tools. Its fields are set once
// by a constructor and only read afterwards.
type toolBackend struct {
	label   string   // the backend's name
	write   []string // reads the text on stdin and puts it on the clipboard
	forks   bool     // write leaves a server behind and may exit before it owns the clipboard
	read    []string // prints the clipboard's text
	targets []string // lists the offered types, one a line; nil: no image support
	image   []string // prints the clipboard's image/png data
	putImg  []string // reads a PNG on stdin and puts it on the clipboard; nil: no image support
	env     []string // added to the environment
}

func xclipTool(path string) *toolBackend {
	sel := []string{path, "-selection", "clipboard"}
	return &toolBackend{
		label:   "xclip",
		write:   append(sel[:3:3], "-in"),
		forks:   true,
		read:    append(sel[:3:3], "-out"),
		targets: append(sel[:3:3], "-out", "-target", "TARGETS"),
		image:   append(sel[:3:3], "-out", "-target", "image/png"),
		putImg:  append(sel[:3:3], "-in", "-target", "image/png"),
	}
}

func xselTool(path string) *toolBackend {
	return &toolBackend{
		label: "xsel",
		write: []string{path, "--clipboard", "--input"},
		forks: true,
		read:  []string{path, "--clipboard", "--output"},
	}
}

func wlTools(copyPath, pastePath string) *toolBackend {
	return &toolBackend{
		label:   "wl-copy",
		write:   []string{copyPath, "--type", "text/plain;charset=utf-8"},
		forks:   true,
		read:    []string{pastePath, "--no-newline"},
		targets: []string{pastePath, "--list-types"},
		image:   []string{pastePath, "--no-newline", "--type", "image/png"},
		putImg:  []string{copyPath, "--type", "image/png"},
	}
}

func pbTools(copyPath, pastePath string) *toolBackend {
	return &toolBackend{
		label: "pbcopy",
		write: []string{copyPath},
		read:  []string{pastePath},
		env:   []string{"LANG=en_US.UTF-8"}, // else pbcopy and pbpaste mangle non-ASCII text
	}
}

func (t *toolBackend) name() string { return t.label }

// writeText puts text on the clipboard. The tools that fork keep serving
// it after this process exits, whether or not persist is set.
func (t *toolBackend) writeText(ctx context.Context, text string, _ bool) error {
	if err := t.spawnWrite(ctx, text); err != nil {
		return err
	}
	if !t.forks || text == "" {
		return nil
	}
	// The tool's foreground process exits before its forked server has
	// claimed the clipboard (xclip flushes the claim only when its server
	// first waits for events), and without an X11 library there is no
	// event to wait for: read the text back until it is there.
	ok := poll(ctx, takeoverTimeout, func(ctx context.Context) bool {
		out, err := t.run(ctx, t.read, "")
		return err == nil && string(out) == text
	})
	if !ok {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("waiting for %s to take the clipboard: %w", t.label, err)
		}
		return fmt.Errorf("%s exited, but the clipboard did not hold the text within %v", t.label, takeoverTimeout)
	}
	return nil
}

func (t *toolBackend) readText(ctx context.Context) (string, error) {
	out, err := t.run(ctx, t.read, "")
	return string(out), err
}

func (t *toolBackend) readImage(ctx context.Context) ([]byte, error) {
	if t.targets == nil {
		return nil, fmt.Errorf("%s cannot read images (install xclip, or wl-clipboard on Wayland): %w", t.label, errors.ErrUnsupported)
	}
	// Ask for the offered types first: xclip, as the owner, answers any
	// request with its data, so asking for image/png alone could return text.
	list, err := t.run(ctx, t.targets, "")
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrNoImage, err)
	}
	if !hasLine(list, "image/png") {
		return nil, ErrNoImage
	}
	img, err := t.run(ctx, t.image, "")
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrNoImage, err)
	}
	return img, nil
}

func hasLine(list []byte, want string) bool {
	for line := range strings.Lines(string(list)) {
		if strings.TrimSpace(line) == want {
			return true
		}
	}
	return false
}

// run runs a tool that exits when done and returns its standard output.
func (t *toolBackend) run(ctx context.Context, argv []string, stdin string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = t.environ()
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, toolError(ctx, argv, err, stderr.Bytes())
	}
	return out, nil
}

// writeImage puts a PNG image on the clipboard, and returns once the
// clipboard offers it.
func (t *toolBackend) writeImage(ctx context.Context, png []byte, _ bool) error {
	if t.putImg == nil {
		return fmt.Errorf("%s cannot put images on the clipboard (install xclip, or wl-clipboard on Wayland): %w", t.label, errors.ErrUnsupported)
	}
	if err := t.spawn(ctx, t.putImg, string(png)); err != nil {
		return err
	}
	ok := poll(ctx, takeoverTimeout, func(ctx context.Context) bool {
		list, err := t.run(ctx, t.targets, "")
		return err == nil && hasLine(list, "image/png")
	})
	if !ok {
		return fmt.Errorf("%s exited, but the clipboard did not offer the image within %v", t.label, takeoverTimeout)
	}
	return nil
}

// spawnWrite runs t.write with text on stdin and waits for its foreground
// process only. The forked server inherits stdout and stderr, so they
// must be files rather than pipes that os/exec copies from: its Wait would
// wait for the server to exit. Stderr is a pipe of our own, read only when
// the tool fails (it failed before forking, so the pipe is at EOF then) and
// closed otherwise; the servers write nothing while they work.
func (t *toolBackend) spawnWrite(ctx context.Context, text string) error {
	return t.spawn(ctx, t.write, text)
}

// spawn runs argv, a writing tool that forks, as spawnWrite describes.
func (t *toolBackend) spawn(ctx context.Context, argv []string, text string) error {
	ctx, cancel := context.WithTimeout(ctx, toolTimeout)
	defer cancel()
	pr, pw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("%s: %w", t.label, err)
	}
	defer pr.Close()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = t.environ()
	cmd.Stdin = strings.NewReader(text)
	cmd.Stderr = pw
	err = cmd.Start()
	pw.Close()
	if err != nil {
		return toolError(ctx, argv, err, nil)
	}
	if err := cmd.Wait(); err != nil {
		_ = pr.SetReadDeadline(time.Now().Add(time.Second))
		msg, _ := io.ReadAll(io.LimitReader(pr, 4096))
		return toolError(ctx, argv, err, msg)
	}
	return nil
}

func (t *toolBackend) environ() []string {
	if len(t.env) == 0 {
		return nil // inherit
	}
	return append(os.Environ(), t.env...)
}

// toolError names the command that failed and quotes its complaint.
func toolError(ctx context.Context, argv []string, err error, stderr []byte) error {
	if cerr := ctx.Err(); cerr != nil {
		err = fmt.Errorf("%w (%w)", cerr, err)
	}
	cmd := strings.Join(append([]string{filepath.Base(argv[0])}, argv[1:]...), " ")
	if msg := strings.TrimSpace(string(stderr)); msg != "" {
		return fmt.Errorf("%s: %w: %s", cmd, err, msg)
	}
	return fmt.Errorf("%s: %w", cmd, err)
}

// poll calls check until it reports true, backing off from 1 ms to 50 ms,
// for at most limit. It reports whether check succeeded.
func poll(ctx context.Context, limit time.Duration, check func(context.Context) bool) bool {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	delay := time.Millisecond
	for {
		if check(ctx) {
			return true
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		delay = min(2*delay, 50*time.Millisecond)
	}
}
