//go:build linux || freebsd || netbsd || openbsd || dragonfly

package capture

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// pick chooses the portal when it runs on the session bus, else a
// screenshot program.
func pick(ctx context.Context, mode Mode) (backend, error) {
	if p := findPortal(ctx); p != nil {
		return p, nil
	}
	return pickProgram(mode)
}

// pickProgram chooses the screenshot program for mode from PATH and the
// session's environment.
func pickProgram(mode Mode) (backend, error) {
	s := session{
		x11:     os.Getenv("DISPLAY") != "",
		wayland: os.Getenv("WAYLAND_DISPLAY") != "",
		desktop: os.Getenv("XDG_CURRENT_DESKTOP"),
	}
	c, err := pickTool(s, mode, func(prog string) bool {
		_, err := exec.LookPath(prog)
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	return program{c}, nil
}

// program is a screenshot program run as a child process.
type program struct{ choice }

func (p program) describe(Mode) string { return p.choice.describe() }

func (p program) capture(ctx context.Context, mode Mode, scratch string, timeout time.Duration) (string, string, error) {
	t := p.tool
	file := filepath.Join(scratch, "capture.png")
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	prev := ""
	var r ran
	for i, st := range p.steps {
		line := st.commandLine(file, prev)
		r = run(runCtx, line[0], line[1:]...)
		if err := ctx.Err(); err != nil {
			return "", t.name, err
		}
		if runCtx.Err() != nil {
			return "", t.name, fmt.Errorf("%s did not finish within %s; the capture was abandoned", st.prog, timeout)
		}
		if i < len(p.steps)-1 {
			prev = strings.TrimSpace(string(r.stdout))
			if r.err == nil && prev != "" {
				continue
			}
			if st.picks && mode.interactive() {
				return "", t.name, ErrCancelled
			}
			return "", t.name, toolFailed(st.prog, r)
		}
		if t.stdout && len(r.stdout) > 0 {
			if err := os.WriteFile(file, r.stdout, 0o600); err != nil {
				return "", t.name, fmt.Errorf("save %s's picture: %w", t.name, err)
			}
		}
	}
	if fi, err := os.Stat(file); err == nil && fi.Size() > 0 {
		return file, t.name, nil
	}
	if mode.interactive() {
		// The user pressed Esc (or closed the tool) instead of choosing.
		return "", t.name, ErrCancelled
	}
	return "", t.name, toolFailed(p.steps[len(p.steps)-1].prog, r)
}

// toolFailed describes a step that produced nothing, with the first line
// of its error output.
func toolFailed(prog string, r ran) error {
	msg := prog + " took no screenshot"
	var exit *exec.ExitError
	switch {
	case errors.As(r.err, &exit):
		msg += " (" + exit.ProcessState.String() + ")"
	case r.err != nil:
		msg += ": " + r.err.Error()
	}
	if line := firstLine(r.stderr); line != "" {
		msg += ": " + line
	}
	return errors.New(msg)
}
