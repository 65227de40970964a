package capture

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// screencapturePath is where macOS keeps screencapture.
const screencapturePath = "/usr/sbin/screencapture"

// screenRecordingHint is what to do when macOS refuses to capture.
const screenRecordingHint = "allow Upshot in System Settings → Privacy & Security → Screen Recording"

// screencapture is macOS's own screenshot program.
type screencapture struct{ path string }

func pick(context.Context, Mode) (backend, error) {
	if _, err := os.Stat(screencapturePath); err == nil {
		return screencapture{screencapturePath}, nil
	}
	if p, err := exec.LookPath("screencapture"); err == nil {
		return screencapture{p}, nil
	}
	return nil, &UnavailableError{Reason: "no screencapture: " + screencapturePath + " is part of macOS; reinstall or update macOS"}
}

func (screencapture) describe(Mode) string { return "screencapture" }

func (s screencapture) capture(ctx context.Context, mode Mode, scratch string, timeout time.Duration) (string, string, error) {
	const name = "screencapture"
	file := filepath.Join(scratch, "capture.png")
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r := run(runCtx, s.path, screencaptureArgs(mode, file)...)
	if err := ctx.Err(); err != nil {
		return "", name, err
	}
	if runCtx.Err() != nil {
		return "", name, fmt.Errorf("screencapture did not finish within %s; the capture was abandoned", timeout)
	}
	if fi, err := os.Stat(file); err == nil && fi.Size() > 0 {
		return file, name, nil
	}
	line := firstLine(r.stderr)
	if mode.interactive() && line == "" {
		// Esc: screencapture saves nothing and says nothing.
		return "", name, ErrCancelled
	}
	msg := "screencapture took no screenshot"
	if r.err != nil {
		msg += " (" + r.err.Error() + ")"
	}
	if line != "" {
		msg += ": " + line
	}
	return "", name, fmt.Errorf("%s; %s", msg, screenRecordingHint)
}
