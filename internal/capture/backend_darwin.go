package capture

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// screencapture is macOS's own screenshot program.
type screencapture struct{ path string }

func pick(context.Context, Mode) (backend, error) {
	exists := func(p string) bool {
		_, err := os.Stat(p)
		return err == nil
	}
	p, err := findScreencapture(exists, exec.LookPath)
	if err != nil {
		return nil, err
	}
	return screencapture{p}, nil
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
	if err := screencaptureOutcome(mode, file, firstLine(r.stderr), r.err); err != nil {
		return "", name, err
	}
	return file, name, nil
}
