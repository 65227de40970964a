package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// command is one child process to time.
type command struct {
	path string
	args []string
	env  []string // added to baseEnv
}

// String is the command line, for error messages.
func (c command) String() string {
	return strings.Join(append([]string{filepath.Base(c.path)}, c.args...), " ")
}

// sample is one timed run of a command.
type sample struct {
	wall   time.Duration // from start to exit
	link   time.Duration // from start to the first line on stdout; 0 if none
	rss    int64         // peak resident set size in bytes; 0 if unknown
	cpu    time.Duration // the process's CPU time, user+system
	srvCPU time.Duration // the server's CPU time meanwhile (10 ms ticks)
	stdout string
}

// waitDelay bounds how long a killed child may hold its pipes open.
const waitDelay = 5 * time.Second

// exec runs c to completion and times it. A non-zero exit is an error that
// carries the end of the child's stderr.
func (b *bench) exec(ctx context.Context, c command) (sample, error) {
	cmd, resultFile := b.prepare(ctx, c)
	out := &lineClock{}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &stderr

	srvBefore := processCPU(b.srvPID)
	out.start = time.Now()
	if err := cmd.Start(); err != nil {
		return sample{}, fmt.Errorf("start %s: %w", c, err)
	}
	err := cmd.Wait()
	s := sample{wall: time.Since(out.start), srvCPU: processCPU(b.srvPID) - srvBefore}
	if err != nil {
		if ctx.Err() != nil {
			return sample{}, context.Cause(ctx)
		}
		return sample{}, fmt.Errorf("%s: %w\n%s", c, err, tail(stderr.String(), 2000))
	}
	var firstMono int64
	s.link, firstMono, s.stdout = out.result()
	if resultFile == "" {
		s.rss = peakRSS(cmd.ProcessState)
		s.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		return s, nil
	}
	w, err := readWrapperResult(resultFile)
	if err != nil {
		return sample{}, err
	}
	s.rss, s.wall, s.cpu = w.rss, time.Duration(w.end-w.start), w.cpu
	if firstMono != 0 {
		s.link = time.Duration(firstMono - w.start)
	}
	return s, nil
}

// prepare makes the exec.Cmd for c: through the RSS wrapper when there is
// one, in which case resultFile is where the wrapper writes its figures.
func (b *bench) prepare(ctx context.Context, c command) (cmd *exec.Cmd, resultFile string) {
	path, args := c.path, c.args
	if b.rsswrap != "" {
		b.runs++
		resultFile = filepath.Join(b.dir, "rss", fmt.Sprint(b.runs))
		path, args = b.rsswrap, append([]string{resultFile, c.path}, c.args...)
	}
	cmd = exec.CommandContext(ctx, path, args...)
	cmd.Env = append(baseEnv(), c.env...)
	cmd.Dir = b.dir
	cmd.WaitDelay = waitDelay
	return cmd, resultFile
}

// wrapperResult is what the RSS wrapper measured: peak RSS in bytes, the
// child's start and exit on CLOCK_MONOTONIC, and its CPU time.
type wrapperResult struct {
	rss, start, end int64
	cpu             time.Duration
}

// readWrapperResult reads and removes the RSS wrapper's result file.
func readWrapperResult(path string) (wrapperResult, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return wrapperResult{}, fmt.Errorf("read the RSS wrapper's result: %w", err)
	}
	os.Remove(path)
	var w wrapperResult
	var cpuMicros int64
	if _, err := fmt.Sscan(string(raw), &w.rss, &w.start, &w.end, &cpuMicros); err != nil {
		return wrapperResult{}, fmt.Errorf("the RSS wrapper wrote %q: %w", raw, err)
	}
	if w.end < w.start {
		return wrapperResult{}, fmt.Errorf("the RSS wrapper wrote %q: the end precedes the start", raw)
	}
	w.rss <<= 10
	w.cpu = time.Duration(cpuMicros) * time.Microsecond
	return w, nil
}

// lineClock is an io.Writer that keeps what a child prints and notes when
// its first complete line arrived. It is safe for concurrent use.
type lineClock struct {
	mu    sync.Mutex
	start time.Time
	first time.Duration
	// firstMono is the same moment on CLOCK_MONOTONIC, to compare with
	// the RSS wrapper's times.
	firstMono int64
	buf       bytes.Buffer
}

func (w *lineClock) Write(p []byte) (int, error) {
	now, mono := time.Now(), monoNow()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.first == 0 && bytes.IndexByte(p, '\n') >= 0 {
		w.first, w.firstMono = now.Sub(w.start), mono
	}
	return w.buf.Write(p)
}

// result returns when the first line arrived and everything printed.
func (w *lineClock) result() (time.Duration, int64, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.first, w.firstMono, w.buf.String()
}

// tail keeps the last n bytes of s.
func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}
