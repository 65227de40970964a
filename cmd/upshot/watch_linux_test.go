package main

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"upshot/uploader/s3test"
)

// watchEnv is a server behind a recording proxy, a watched folder, and a
// data dir that survives restarts of the watcher.
type watchEnv struct {
	srv    *s3test.Server
	proxy  *s3test.Proxy
	dir    string
	config string
	env    []string
}

func newWatchEnv(t *testing.T, extra string) *watchEnv {
	t.Helper()
	w := &watchEnv{dir: t.TempDir()}
	w.srv = s3test.Start(t, s3test.Options{})
	w.proxy = s3test.NewProxy(t, w.srv, s3test.ProxyOptions{})
	w.config = filepath.Join(t.TempDir(), "config.toml")
	body := fmt.Sprintf("[target]\nendpoint = %q\nbucket = %q\npath_template = \"{name}{ext}\"\n[transfer]\nconcurrency = 8\n%s", w.proxy.URL, w.srv.Bucket, extra)
	os.WriteFile(w.config, []byte(body), 0o644)
	w.env = []string{"UPSHOT_DATA_DIR=" + t.TempDir(), "B2_APPLICATION_KEY_ID=" + w.srv.AccessKey, "B2_APPLICATION_KEY=" + w.srv.SecretKey,
		"DISPLAY=", "WAYLAND_DISPLAY=", "GORACE=atexit_sleep_ms=0"}
	return w
}

// watcherProc is a running "upshot watch --json".
type watcherProc struct {
	cmd     *exec.Cmd
	lines   chan watchLine
	errs    chan string   // stderr lines
	done    chan struct{} // stdout has ended
	errDone chan struct{} // stderr has ended and been logged
}

func (w *watchEnv) start(t *testing.T, args ...string) *watcherProc {
	t.Helper()
	cmd := exec.Command(upshotBin, append([]string{"watch", "--config", w.config, "--json", "--no-clipboard"}, args...)...)
	cmd.Env = append(os.Environ(), w.env...)
	return startWatch(t, cmd)
}

// startWatch starts cmd, an "upshot watch --json" (or upshot.exe's under
// Wine), and returns once it says it is watching, or has ended.
func startWatch(t *testing.T, cmd *exec.Cmd) *watcherProc {
	t.Helper()
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &watcherProc{cmd: cmd, lines: make(chan watchLine, 10000), errs: make(chan string, 1000), done: make(chan struct{}), errDone: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		defer close(p.errDone)
		sc := bufio.NewScanner(stderr)
		once := false
		for sc.Scan() {
			if !once && strings.Contains(sc.Text(), "watching") {
				once = true
				close(ready)
			}
			t.Logf("watch stderr: %s", sc.Text())
			select {
			case p.errs <- sc.Text():
			default:
			}
		}
		if !once {
			close(ready)
		}
	}()
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var l watchLine
			if err := json.Unmarshal(sc.Bytes(), &l); err == nil {
				p.lines <- l
			}
		}
	}()
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	<-ready
	return p
}

// dump makes the watch print its goroutines (SIGQUIT), which the test's
// log then shows, and waits for it to exit.
func (p *watcherProc) dump() {
	_ = p.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-p.errDone:
	case <-time.After(time.Minute):
	}
}

// expectErr waits for a stderr line containing every one of parts.
func (p *watcherProc) expectErr(t *testing.T, parts ...string) string {
	t.Helper()
	deadline := time.After(5 * time.Minute) // a hang guard
	for {
		select {
		case l := <-p.errs:
			ok := true
			for _, part := range parts {
				ok = ok && strings.Contains(l, part)
			}
			if ok {
				return l
			}
		case <-deadline:
			p.dump()
			t.Fatalf("upshot watch never said %q", parts)
		}
	}
}

// collect reads upload lines until every name in want has one, failing on
// a second line for any file.
func (p *watcherProc) collect(t *testing.T, want map[string]bool, timeout time.Duration) map[string]watchLine {
	t.Helper()
	got := map[string]watchLine{}
	// A guard against a hang, not a measure: under the race detector on a
	// busy 2-core machine everything is slower.
	deadline := time.After(max(timeout, 5*time.Minute))
	for len(got) < len(want) {
		select {
		case l := <-p.lines:
			name := filepath.Base(l.File)
			if _, dup := got[name]; dup {
				t.Fatalf("%s reported twice", name)
			}
			if !want[name] {
				t.Fatalf("unexpected upload %s", l.File)
			}
			got[name] = l
		case <-deadline:
			t.Fatalf("%d of %d files uploaded in %v", len(got), len(want), timeout)
		case <-p.done:
			t.Fatalf("upshot watch exited after %d of %d files", len(got), len(want))
		}
	}
	return got
}

// stop sends SIGTERM and waits for a clean exit.
func (p *watcherProc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("upshot watch did not stop cleanly on SIGTERM: %v", err)
	}
}

// historyFiles lists the base names of the files in the watcher's history.
func historyFiles(t *testing.T, w *watchEnv) map[string]bool {
	t.Helper()
	code, out, errs, _ := runBin(t, nil, w.env, "history", "--json", "--limit", "0")
	if code != 0 {
		t.Fatalf("upshot history: %s", errs)
	}
	files := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var e struct{ File string }
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(e.File)] = true
	}
	return files
}

// successfulPuts counts, per object key, the PUTs the server accepted.
func successfulPuts(p *s3test.Proxy) map[string]int {
	n := map[string]int{}
	for _, r := range p.Requests() {
		if r.Method == http.MethodPut && r.Status == 200 && r.BodyBytes > 0 && !strings.Contains(r.RawQuery, "partNumber") {
			key := r.Path[strings.Index(r.Path[1:], "/")+2:]
			n[key]++
		}
	}
	return n
}

func (w *watchEnv) objectSHA1(t *testing.T, key string) string { return objectSHA1(t, w.srv, key) }

// objectSHA1 returns the hex SHA1 of the object at key, straight from srv.
func objectSHA1(t *testing.T, srv *s3test.Server, key string) string {
	t.Helper()
	out, err := srv.Client().GetObject(context.Background(), &s3.GetObjectInput{Bucket: &srv.Bucket, Key: &key})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	h := sha1.New()
	if _, err := io.Copy(h, out.Body); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func fileSHA1(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

func TestWatchEveryWriterOnce(t *testing.T) {
	w := newWatchEnv(t, "")
	p := w.start(t, w.dir)
	other := t.TempDir()
	data := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*7 + n)
		}
		return b
	}
	writers := map[string]func(){
		"cp.png": func() {
			src := filepath.Join(other, "src.png")
			os.WriteFile(src, data(300_000), 0o644)
			exec.Command("cp", src, filepath.Join(w.dir, "cp.png")).Run()
		},
		"slow.png": func() {
			f, _ := os.Create(filepath.Join(w.dir, "slow.png"))
			for i := range 10 { // 10 chunks over ~3 s, with pauses
				f.Write(data(50_000 + i))
				time.Sleep(300 * time.Millisecond)
			}
			f.Close()
		},
		"tmp-rename.png": func() {
			os.WriteFile(filepath.Join(w.dir, "tmp-rename.png.tmp"), data(120_000), 0o644)
			os.Rename(filepath.Join(w.dir, "tmp-rename.png.tmp"), filepath.Join(w.dir, "tmp-rename.png"))
		},
		"hidden-rename.png": func() {
			os.WriteFile(filepath.Join(w.dir, ".hidden-rename.png.Xa1"), data(130_000), 0o644)
			os.Rename(filepath.Join(w.dir, ".hidden-rename.png.Xa1"), filepath.Join(w.dir, "hidden-rename.png"))
		},
		"moved.png": func() {
			os.WriteFile(filepath.Join(other, "moved.png"), data(140_000), 0o644)
			exec.Command("mv", filepath.Join(other, "moved.png"), filepath.Join(w.dir, "moved.png")).Run()
		},
		"in-subfolder.png": func() {
			sub := filepath.Join(w.dir, "new", "deeper")
			os.MkdirAll(sub, 0o755)
			os.WriteFile(filepath.Join(sub, "in-subfolder.png"), data(150_000), 0o644)
		},
	}
	want := map[string]bool{}
	for name, write := range writers {
		want[name] = true
		go write()
	}
	got := p.collect(t, want, 60*time.Second)
	puts := successfulPuts(w.proxy)
	for name, l := range got {
		if puts[l.Key] != 1 {
			t.Errorf("%s: %d PUTs, want exactly 1", name, puts[l.Key])
		}
		if w.objectSHA1(t, l.Key) != fileSHA1(t, l.File) || l.SHA1 != fileSHA1(t, l.File) {
			t.Errorf("%s: the stored object is not the final file", name)
		}
		t.Logf("%s: latency %.1f ms", name, l.LatencyMS)
	}
	p.stop(t)
}

func writeBurst(t *testing.T, dir, prefix string, n int) map[string]bool {
	t.Helper()
	want := map[string]bool{}
	for i := range n {
		name := fmt.Sprintf("%s%04d.png", prefix, i)
		b := make([]byte, 2048)
		copy(b, name)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		want[name] = true
	}
	return want
}

func TestWatchBurst(t *testing.T) {
	w := newWatchEnv(t, "")
	p := w.start(t, w.dir)
	start := time.Now()
	want := writeBurst(t, w.dir, "burst", 2000)
	got := p.collect(t, want, 5*time.Minute)
	t.Logf("2,000 files in %v", time.Since(start).Round(time.Millisecond))
	puts := successfulPuts(w.proxy)
	for name, l := range got {
		if puts[l.Key] != 1 {
			t.Fatalf("%s: %d PUTs", name, puts[l.Key])
		}
	}
	p.stop(t)
}

func TestWatchSurvivesSIGKILL(t *testing.T) {
	w := newWatchEnv(t, "")
	p := w.start(t, w.dir)
	want := writeBurst(t, w.dir, "kill", 500)
	// Kill it hard once some uploads are through, mid-burst.
	seen := map[string]bool{}
	for len(seen) < 100 {
		l := <-p.lines
		seen[filepath.Base(l.File)] = true
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
	<-p.done
	// What is done is what the history holds: an upload may have completed
	// in the instant before the kill without its line being printed.
	done := historyFiles(t, w)
	rest := map[string]bool{}
	for name := range want {
		if !done[name] {
			rest[name] = true
		}
	}
	if len(done) < len(seen) {
		t.Fatalf("history holds %d uploads, fewer than the %d reported", len(done), len(seen))
	}
	p2 := w.start(t, w.dir)
	p2.collect(t, rest, 3*time.Minute)
	// Uploaded once: never two accepted PUTs for one file, and the object
	// holds the file. (A PUT the server stored just as the process died
	// has no answer on record; the restart then meets its own object and
	// reuses it.)
	puts := successfulPuts(w.proxy)
	for name := range want {
		if puts[name] > 1 {
			t.Fatalf("%s: %d accepted PUTs, want at most 1", name, puts[name])
		}
		if w.objectSHA1(t, name) != fileSHA1(t, filepath.Join(w.dir, name)) {
			t.Fatalf("%s: the stored object is not the file", name)
		}
	}
	p2.stop(t)
	// No job is left stuck: history shows each file once, the queue is empty.
	code, out, errs, _ := runBin(t, nil, w.env, "history", "--json", "--limit", "0")
	if code != 0 {
		t.Fatal(errs)
	}
	if n := strings.Count(out, "\n"); n != len(want) {
		t.Fatalf("history has %d entries, want %d", n, len(want))
	}
}

func TestWatchOutage(t *testing.T) {
	w := newWatchEnv(t, "")
	p := w.start(t, w.dir)
	want := writeBurst(t, w.dir, "outage", 100)
	got := map[string]bool{}
	for len(got) < 20 {
		got[filepath.Base((<-p.lines).File)] = true
	}
	if err := w.srv.Stop(); err != nil {
		t.Fatal(err)
	}
	more := writeBurst(t, w.dir, "during", 50)
	for k := range more {
		want[k] = true
	}
	time.Sleep(30 * time.Second) // the outage itself
	if err := w.srv.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	rest := map[string]bool{}
	for name := range want {
		if !got[name] {
			rest[name] = true
		}
	}
	// Failed jobs back off; the longest first backoffs are a few seconds.
	p.collect(t, rest, 3*time.Minute)
	p.stop(t)
}

func TestWatchCatchUpAndPolling(t *testing.T) {
	w := newWatchEnv(t, "")
	// First run: the folder is new, so existing files are left alone.
	old := filepath.Join(w.dir, "old.png")
	os.WriteFile(old, []byte("old"), 0o644)
	hourAgo := time.Now().Add(-time.Hour)
	os.Chtimes(old, hourAgo, hourAgo)
	p := w.start(t, w.dir)
	os.WriteFile(filepath.Join(w.dir, "live.png"), []byte("live"), 0o644)
	p.collect(t, map[string]bool{"live.png": true}, 30*time.Second)
	p.stop(t)
	// While stopped: new files arrive. The next start uploads them.
	want := writeBurst(t, w.dir, "offline", 5)
	p2 := w.start(t, w.dir)
	p2.collect(t, want, 30*time.Second)
	p2.stop(t)
	if successfulPuts(w.proxy)["old.png"] != 0 {
		t.Fatal("a file that predates watching was uploaded")
	}

	// Polling mode, for folders without events.
	pollDir := t.TempDir()
	wp := newWatchEnv(t, fmt.Sprintf("[[watch]]\ndir = %q\npoll = true\n", pollDir))
	p3 := wp.start(t)
	want = writeBurst(t, pollDir, "polled", 3)
	p3.collect(t, want, 30*time.Second)
	p3.stop(t)
}
