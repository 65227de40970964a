//go:build !windows

package capture

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"time"
)

// ran is the outcome of one program run.
type ran struct {
	stdout []byte
	stderr string
	err    error
}

// maxStderr bounds the error output kept from a tool.
const maxStderr = 64 << 10

// run runs prog with args until it exits or ctx ends (then it is killed),
// with no input, and collects its output.
func run(ctx context.Context, prog string, args ...string) ran {
	var out bytes.Buffer
	errs := &limitedBuffer{max: maxStderr}
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Stdout, cmd.Stderr = &out, errs
	// A helper the tool leaves running must not hold up the capture.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	return ran{stdout: out.Bytes(), stderr: errs.String(), err: err}
}

// firstLine is the first non-blank line of a tool's error output.
func firstLine(s string) string {
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	return ""
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	buf bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string { return b.buf.String() }
