package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"upshot/uploader"
)

// watchProc is a running folder watcher, `upshot watch --json` or the
// inotifywait | rclone pipeline, in its own process group. Its stdout lines
// (one per finished upload) are timed as they arrive; its stderr says when
// the watch is established and keeps the last lines for error messages.
type watchProc struct {
	name    string
	dir     string // the watched folder
	src     string // a folder beside it on the same filesystem, for files to rename in
	prefix  string // key prefix its uploads go to
	cmd     *exec.Cmd
	started time.Time     // just before exec
	readyAt time.Time     // when the ready line arrived
	lines   chan outLine  // every stdout line, in order
	ready   chan struct{} // closed on the ready line
	exited  chan struct{} // closed once the process has been waited for
	done    chan struct{} // closed by stop: readers give up sending
	waitErr error         // set before exited is closed
	errTail *tailLines

	stopOnce sync.Once
	stopErr  error
	stray    int // lines for files nobody was waiting for
}

// outLine is one upload a watcher reported.
type outLine struct {
	at           time.Time
	name         string  // the file's base name
	ownMS        float64 // upshot's own latency_ms; -1 for the baseline
	deduplicated bool
}

// upshotWatchLine is the part of an `upshot watch --json` line we read.
type upshotWatchLine struct {
	File         string   `json:"file"`
	LatencyMS    *float64 `json:"latency_ms"`
	Deduplicated bool     `json:"deduplicated"`
}

func parseUpshotLine(s string) (outLine, error) {
	var l upshotWatchLine
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return outLine{}, fmt.Errorf("not JSON: %q", s)
	}
	if l.File == "" || l.LatencyMS == nil {
		return outLine{}, fmt.Errorf("no file or latency_ms in %q", s)
	}
	return outLine{name: filepath.Base(l.File), ownMS: *l.LatencyMS, deduplicated: l.Deduplicated}, nil
}

func parsePathLine(s string) (outLine, error) {
	return outLine{name: filepath.Base(s), ownMS: -1}, nil
}

// watcherSpec says how to start one watcher.
type watcherSpec struct {
	name      string
	path      string
	args      []string
	env       []string // added to baseEnv
	readyMark string   // a stderr line containing this means "watching"
	parse     func(string) (outLine, error)
}

// startWatcher starts spec watching dir and waits until it says it is
// watching. On error nothing is left running.
func (b *bench) startWatcher(ctx context.Context, spec watcherSpec, dir, src, prefix string) (_ *watchProc, err error) {
	for _, d := range []string{dir, src} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("make %s: %w", d, err)
		}
	}
	cmd := exec.Command(spec.path, spec.args...)
	cmd.Env = append(baseEnv(), spec.env...)
	cmd.Dir = b.dir
	inGroup(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	p := &watchProc{
		name: spec.name, dir: dir, src: src, prefix: prefix, cmd: cmd,
		lines:   make(chan outLine, 1<<14),
		ready:   make(chan struct{}),
		exited:  make(chan struct{}),
		done:    make(chan struct{}),
		errTail: &tailLines{max: 40},
	}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.name, err)
	}
	var readers sync.WaitGroup
	readers.Go(func() { p.readStdout(stdout, spec.parse) })
	readers.Go(func() { p.readStderr(stderr, spec.readyMark) })
	go func() {
		readers.Wait()
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	defer func() {
		if err != nil {
			err = errors.Join(err, p.stop())
		}
	}()
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	select {
	case <-p.ready:
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("%s exited before watching: %v\n%s", spec.name, p.waitErr, p.errTail)
	case <-t.C:
		return nil, fmt.Errorf("%s did not say it was watching within 30 s\n%s", spec.name, p.errTail)
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

func (p *watchProc) readStdout(r io.Reader, parse func(string) (outLine, error)) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		s, err := br.ReadString('\n')
		at := time.Now()
		if s = strings.TrimSpace(s); s != "" {
			l, perr := parse(s)
			if perr != nil {
				p.errTail.add("benchtool: bad output line: " + perr.Error())
			} else {
				l.at = at
				select {
				case p.lines <- l:
				case <-p.done: // stopping: nobody reads lines any more
				}
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *watchProc) readStderr(r io.Reader, mark string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	readied := false
	for sc.Scan() {
		line := sc.Text()
		if !readied && strings.Contains(line, mark) {
			readied = true
			p.readyAt = time.Now()
			close(p.ready)
		}
		p.errTail.add(line)
	}
	_, _ = io.Copy(io.Discard, r) // a line too long for the scanner
}

// pid is the watcher's process (and process group) id.
func (p *watchProc) pid() int { return p.cmd.Process.Pid }

// stop ends the whole process group: SIGTERM (Upshot finishes in-flight
// uploads), then SIGKILL after waitDelay. It is safe to call more than
// once.
func (p *watchProc) stop() error {
	p.stopOnce.Do(func() {
		close(p.done)
		_ = signalGroup(p.cmd, syscall.SIGTERM)
		t := time.NewTimer(waitDelay)
		defer t.Stop()
		select {
		case <-p.exited:
			// The leader is gone; make sure nothing it started lingers.
			_ = signalGroup(p.cmd, syscall.SIGKILL)
		case <-t.C:
			_ = signalGroup(p.cmd, syscall.SIGKILL)
			<-p.exited
			p.stopErr = fmt.Errorf("%s did not stop within %v of SIGTERM; killed", p.name, waitDelay)
		}
	})
	return p.stopErr
}

// errTimeout means a watcher did not report a file in time.
var errTimeout = errors.New("not reported in time")

// await waits for the line reporting the file named name. Lines for other
// files (late reports of files given up on) are counted as strays.
func (p *watchProc) await(ctx context.Context, name string, timeout time.Duration) (outLine, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case l := <-p.lines:
			if l.name == name {
				return l, nil
			}
			p.stray++
		case <-p.exited:
			return outLine{}, fmt.Errorf("%s exited: %v\n%s", p.name, p.waitErr, p.errTail)
		case <-t.C:
			return outLine{}, fmt.Errorf("%s: %s %w (%v)", p.name, name, errTimeout, timeout)
		case <-ctx.Done():
			return outLine{}, context.Cause(ctx)
		}
	}
}

// tailLines keeps the last max lines written to it; safe for concurrent use.
type tailLines struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (t *tailLines) add(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, s)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
}

func (t *tailLines) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

// upshotWatcher is `upshot watch --json --no-clipboard DIR` with its own
// config (keys under prefix, the given concurrency) and a fresh data dir,
// no display, and credentials in the environment.
func (b *bench) upshotWatcher(tag, dir, prefix string, concurrency int) (watcherSpec, error) {
	cfg, err := b.upshotConfig("watch-"+tag, b.srv.Endpoint, prefix+"/{name}{ext}", concurrency)
	if err != nil {
		return watcherSpec{}, err
	}
	data := filepath.Join(b.dir, "watch", tag, "data")
	return watcherSpec{
		name: fmt.Sprintf("upshot watch (concurrency %d)", concurrency),
		path: b.upshot,
		args: []string{"watch", "--config", cfg, "--json", "--no-clipboard", dir},
		env: []string{
			uploader.EnvKeyID + "=" + b.srv.AccessKey,
			uploader.EnvKey + "=" + b.srv.SecretKey,
			uploader.EnvDataDir + "=" + data,
			"DISPLAY=", "WAYLAND_DISPLAY=",
		},
		readyMark: "watching",
		parse:     parseUpshotLine,
	}, nil
}

// baselineName names the baseline in the report (no pipe character, which
// would end a Markdown table cell).
const baselineName = "inotifywait → rclone copyto"

// baselineScript is the common Linux recipe: inotifywait for closed and
// moved-in files, piped into one `rclone copyto` per file. The echo after
// each copy is the moment the link could be printed; it is what benchtool
// times.
const baselineScript = `inotifywait -m -e close_write -e moved_to --format '%w%f' "$BENCH_DIR" |
while IFS= read -r f; do
  "$BENCH_RCLONE" copyto --config "$BENCH_RCCONF" -q --s3-no-check-bucket "$f" "$BENCH_REMOTE${f##*/}" && printf '%s\n' "$f"
done`

// baselineWatcher runs baselineScript under bash, uploading under prefix.
// inotifywait says "Watches established." on stderr when it is ready.
func (b *bench) baselineWatcher(bash, dir, prefix string) watcherSpec {
	return watcherSpec{
		name: baselineName,
		path: bash,
		args: []string{"-c", baselineScript},
		env: []string{
			"BENCH_DIR=" + dir,
			"BENCH_RCLONE=" + b.rclone,
			"BENCH_RCCONF=" + b.rcConf,
			"BENCH_REMOTE=" + b.rcloneRemote(b.srv.Endpoint, prefix+"/"),
		},
		readyMark: "Watches established",
		parse:     parsePathLine,
	}
}
