package watcher

import (
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitLimit bounds every wait on the Events channel.
const waitLimit = 15 * time.Second

// got is an event plus what the file held at the moment it arrived.
type got struct {
	Event
	sum  [sha1.Size]byte
	size int
	err  error
}

type harness struct {
	t       testing.TB
	w       *Watcher
	dir     string // the first watched folder
	outside string // a folder nobody watches
	errs    chan error
	count   map[string]int
	log     []got
	backlog []got // events expect did not want yet
	nbar    int
	barMod  time.Time
}

// start runs a Watcher on opts (a fresh watched folder if opts has none)
// and waits until the first folder is watched. tune runs before Run.
func start(t testing.TB, opts Options, tune ...func(*Watcher)) *harness {
	t.Helper()
	h := &harness{
		t:       t,
		outside: t.TempDir(),
		errs:    make(chan error, 100),
		count:   make(map[string]int),
		barMod:  time.Now().Add(-time.Minute),
	}
	if len(opts.Folders) == 0 {
		opts.Folders = []Folder{{Dir: t.TempDir()}}
	}
	h.dir = opts.Folders[0].Dir
	if opts.OnError == nil {
		opts.OnError = func(err error) {
			select {
			case h.errs <- err:
			default:
			}
		}
	}
	w, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tune {
		if f != nil {
			f(w)
		}
	}
	h.w = w
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-runErr:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
	})
	if !opts.Folders[0].Poll {
		h.sync()
	}
	return h
}

// next returns the next event and hashes its file at once.
func (h *harness) next(timeout time.Duration) (got, bool) {
	h.t.Helper()
	select {
	case ev, ok := <-h.w.Events():
		if !ok {
			return got{}, false
		}
		g := got{Event: ev}
		data, err := os.ReadFile(ev.Path)
		g.sum, g.size, g.err = sha1.Sum(data), len(data), err
		h.count[ev.Path]++
		h.log = append(h.log, g)
		return g, true
	case <-time.After(timeout):
		return got{}, false
	}
}

// expect waits for an event for each path and checks that the file was
// complete (want's content) when the event arrived.
func (h *harness) expect(want map[string][]byte) map[string]got {
	h.t.Helper()
	res := make(map[string]got)
	deadline := time.Now().Add(waitLimit)
	take := func(g got) bool {
		content, ok := want[g.Path]
		if !ok {
			return false
		}
		if _, dup := res[g.Path]; dup {
			h.t.Errorf("second event for %s (cause %s)", g.Path, g.Cause)
			return true
		}
		res[g.Path] = g
		switch {
		case g.err != nil:
			h.t.Errorf("%s: %v", g.Path, g.err)
		case g.sum != sha1.Sum(content) || g.size != len(content):
			h.t.Errorf("%s: incomplete at event time (%d of %d bytes, cause %s)", g.Path, g.size, len(content), g.Cause)
		case g.Size != int64(len(content)):
			h.t.Errorf("%s: event size %d, want %d", g.Path, g.Size, len(content))
		}
		return true
	}
	rest := h.backlog[:0]
	for _, g := range h.backlog {
		if !take(g) {
			rest = append(rest, g)
		}
	}
	h.backlog = rest
	for len(res) < len(want) {
		g, ok := h.next(time.Until(deadline))
		if !ok {
			var missing []string
			for p := range want {
				if _, ok := res[p]; !ok {
					missing = append(missing, p)
				}
			}
			h.t.Fatalf("timed out; no event for %d files, e.g. %v", len(missing), missing[:min(3, len(missing))])
		}
		if !take(g) {
			h.backlog = append(h.backlog, g)
		}
	}
	return res
}

func (h *harness) expectOne(path string, content []byte) got {
	h.t.Helper()
	return h.expect(map[string][]byte{path: content})[path]
}

// barrier syncs, then checks that no file is left waiting: with no late
// event in flight and nothing waiting, no duplicate can come later.
func (h *harness) barrier() {
	h.t.Helper()
	h.sync()
	if n := h.pending(); n != 0 {
		h.t.Errorf("%d files still waiting after the barrier", n)
	}
}

// sync moves a folder holding an old file into the watched folder and waits
// for that file: then the folder is watched, and every fsnotify event from
// before the move has been handled.
func (h *harness) sync() {
	h.t.Helper()
	h.nbar++
	name := fmt.Sprintf("zz-barrier-%d", h.nbar)
	src := filepath.Join(h.outside, name)
	must(h.t, os.Mkdir(src, 0o755))
	file := filepath.Join(src, "mark.png")
	must(h.t, os.WriteFile(file, []byte(name), 0o644))
	must(h.t, os.Chtimes(file, h.barMod, h.barMod))
	must(h.t, os.Rename(src, filepath.Join(h.dir, name)))
	h.expectOne(filepath.Join(h.dir, name, "mark.png"), []byte(name))
}

// pending asks the loop how many files wait for completion.
func (h *harness) pending() int {
	reply := make(chan int)
	select {
	case h.w.probe <- reply:
		return <-reply
	case <-time.After(waitLimit):
		h.t.Fatal("loop does not answer")
		return 0
	}
}

// once checks that each path had exactly one event and ignored paths none.
func (h *harness) once(paths ...string) {
	h.t.Helper()
	for _, p := range paths {
		if n := h.count[p]; n != 1 {
			h.t.Errorf("%s: %d events, want 1", p, n)
		}
	}
}

func (h *harness) none(paths ...string) {
	h.t.Helper()
	for _, p := range paths {
		if n := h.count[p]; n != 0 {
			h.t.Errorf("%s: %d events, want none", p, n)
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// content returns n bytes that differ per seed.
func content(seed string, n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%s:%d\n", seed, i)
	}
	return b.Bytes()[:n]
}

func TestCp(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("cp"); err != nil {
		t.Skip("no cp")
	}
	h := start(t, Options{})
	src := filepath.Join(h.outside, "a.png")
	data := content("cp", 3<<20)
	must(t, os.WriteFile(src, data, 0o644))
	dst := filepath.Join(h.dir, "a.png")
	if out, err := exec.Command("cp", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	g := h.expectOne(dst, data)
	if runtime.GOOS == "linux" && g.Cause != CauseCloseWrite {
		t.Errorf("cause %q, want %q", g.Cause, CauseCloseWrite)
	}
	h.barrier()
	h.once(dst)
}

// slowWrite writes data in 10 chunks with 300ms pauses (about 3s).
func slowWrite(t *testing.T, path string, data []byte) time.Time {
	f, err := os.Create(path)
	must(t, err)
	chunk := len(data) / 10
	for i := 0; i < 10; i++ {
		end := (i + 1) * chunk
		if i == 9 {
			end = len(data)
		}
		if _, err := f.Write(data[i*chunk : end]); err != nil {
			t.Error(err)
		}
		if i < 9 {
			time.Sleep(300 * time.Millisecond) // the writer is slow; not synchronisation
		}
	}
	closed := time.Now()
	must(t, f.Close())
	return closed
}

func testSlowWriter(t *testing.T, tune func(*Watcher), cause string) {
	h := start(t, Options{}, tune)
	path := filepath.Join(h.dir, "slow.png")
	data := content("slow", 1<<20)
	closed := make(chan time.Time, 1)
	go func() { closed <- slowWrite(t, path, data) }()
	g := h.expectOne(path, data)
	if g.Cause != cause {
		t.Errorf("cause %q, want %q", g.Cause, cause)
	}
	if c := <-closed; g.Ready.Before(c) && cause == CauseCloseWrite {
		t.Errorf("ready %v before the writer closed at %v", g.Ready, c)
	}
	h.barrier()
	h.once(path)
}

func TestSlowWriterCloseWrite(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("close-write is Linux only")
	}
	testSlowWriter(t, nil, CauseCloseWrite)
}

// TestSlowWriterQuiet runs the path other systems take: no close-write.
func TestSlowWriterQuiet(t *testing.T) {
	t.Parallel()
	testSlowWriter(t, func(w *Watcher) { w.noCloseWrite = true }, CauseQuiet)
}

func TestTempThenRename(t *testing.T) {
	t.Parallel()
	for _, tmp := range []string{"shot.png.tmp", ".shot.png.XYZ", "shot.png.part", "shot.png.crdownload", "~shot.png"} {
		t.Run(tmp, func(t *testing.T) {
			t.Parallel()
			h := start(t, Options{})
			data := content(tmp, 200<<10)
			tp := filepath.Join(h.dir, tmp)
			must(t, os.WriteFile(tp, data, 0o644))
			final := filepath.Join(h.dir, "shot.png")
			must(t, os.Rename(tp, final))
			g := h.expectOne(final, data)
			if runtime.GOOS == "linux" && g.Cause != CauseRename {
				t.Errorf("cause %q, want %q", g.Cause, CauseRename)
			}
			h.barrier()
			h.once(final)
			h.none(tp)
		})
	}
}

func TestMoveFromOtherFolder(t *testing.T) {
	t.Parallel()
	h := start(t, Options{})
	src := filepath.Join(h.outside, "moved.png")
	data := content("mv", 500<<10)
	must(t, os.WriteFile(src, data, 0o644))
	dst := filepath.Join(h.dir, "moved.png")
	if _, err := exec.LookPath("mv"); err == nil {
		if out, err := exec.Command("mv", src, dst).CombinedOutput(); err != nil {
			t.Fatalf("mv: %v %s", err, out)
		}
	} else {
		must(t, os.Rename(src, dst))
	}
	g := h.expectOne(dst, data)
	if runtime.GOOS == "linux" && g.Cause != CauseRename {
		t.Errorf("cause %q, want %q", g.Cause, CauseRename)
	}
	h.barrier()
	h.once(dst)
}

func TestNewSubfolder(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	h := start(t, Options{})
	src := filepath.Join(h.outside, "a.png")
	data := content("sub", 300<<10)
	must(t, os.WriteFile(src, data, 0o644))
	// mkdir and cp race the new folder's watch.
	cmd := exec.Command("sh", "-c", `mkdir sub && cp "$1" sub/a.png && mkdir -p sub/x/y && cp "$1" sub/x/y/b.png`, "sh", src)
	cmd.Dir = h.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	a, b := filepath.Join(h.dir, "sub", "a.png"), filepath.Join(h.dir, "sub", "x", "y", "b.png")
	h.expect(map[string][]byte{a: data, b: data})
	// Live events work in the new folders.
	c := filepath.Join(h.dir, "sub", "x", "y", "c.png")
	must(t, os.WriteFile(c, data[:1000], 0o644))
	h.expectOne(c, data[:1000])
	h.barrier()
	h.once(a, b, c)
}

func TestFolderMovedIn(t *testing.T) {
	t.Parallel()
	h := start(t, Options{})
	src := filepath.Join(h.outside, "album")
	must(t, os.MkdirAll(filepath.Join(src, "deep"), 0o755))
	want := make(map[string][]byte)
	for i, rel := range []string{"1.png", "2.jpg", filepath.Join("deep", "3.png")} {
		data := content(rel, 10<<10+i)
		must(t, os.WriteFile(filepath.Join(src, rel), data, 0o644))
		want[filepath.Join(h.dir, "album", rel)] = data
	}
	must(t, os.Rename(src, filepath.Join(h.dir, "album")))
	h.expect(want)
	// A folder renamed inside the tree keeps working under its new name.
	must(t, os.Rename(filepath.Join(h.dir, "album"), filepath.Join(h.dir, "album2")))
	p := filepath.Join(h.dir, "album2", "deep", "4.png")
	must(t, os.WriteFile(p, []byte("four"), 0o644))
	h.expectOne(p, []byte("four"))
	h.barrier()
	for p := range want {
		h.once(p)
	}
}

func TestIgnoreRules(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := start(t, Options{Folders: []Folder{{Dir: dir, Include: []string{"*.png", "mark.*"}}}})
	var ignored []string
	for _, name := range []string{".hidden.png", "a.png.tmp", "b.PART", "c.png.crdownload", "~d.png", "e.txt", "f.jpg"} {
		p := filepath.Join(dir, name)
		must(t, os.WriteFile(p, []byte(name), 0o644))
		ignored = append(ignored, p)
	}
	must(t, os.Mkdir(filepath.Join(dir, "g.png"), 0o755))
	must(t, os.Mkdir(filepath.Join(dir, ".cache"), 0o755))
	hp := filepath.Join(dir, ".cache", "h.png")
	must(t, os.WriteFile(hp, []byte("h"), 0o644))
	ignored = append(ignored, filepath.Join(dir, "g.png"), hp)
	empty := filepath.Join(dir, "empty.png")
	must(t, os.WriteFile(empty, nil, 0o644))
	ignored = append(ignored, empty)
	// The sentinel: included case-insensitively, emitted after the rest.
	sentinel := filepath.Join(dir, "Z.PNG")
	must(t, os.WriteFile(sentinel, []byte("z"), 0o644))
	h.expectOne(sentinel, []byte("z"))
	h.barrier()
	h.none(ignored...)
	h.once(sentinel)
}

func TestBurst(t *testing.T) {
	t.Parallel()
	const n = 2000
	h := start(t, Options{})
	want := make(map[string][]byte, n)
	for i := range n {
		want[filepath.Join(h.dir, "burst-"+strconv.Itoa(i)+".png")] = []byte("burst " + strconv.Itoa(i))
	}
	begin := time.Now()
	go func() {
		for p, data := range want {
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	h.expect(want)
	t.Logf("%d files in %v", n, time.Since(begin))
	h.barrier()
	for p := range want {
		h.once(p)
	}
}

func TestCatchUp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	must(t, os.Mkdir(sub, 0o755))
	mark := time.Now().Add(-time.Hour)
	write := func(p string, mod time.Time) {
		must(t, os.WriteFile(p, []byte(p), 0o644))
		must(t, os.Chtimes(p, mod, mod))
	}
	old := filepath.Join(dir, "old.png")
	write(old, mark.Add(-time.Minute))
	known := filepath.Join(dir, "known.png")
	write(known, mark.Add(time.Minute))
	fresh := filepath.Join(dir, "new.png")
	write(fresh, mark.Add(time.Minute))
	deep := filepath.Join(sub, "deep.png")
	write(deep, time.Now()) // written just now: emitted once quiet
	var calls sync.Map
	h := start(t, Options{
		Folders: []Folder{{Dir: dir}},
		Known: func(p string, size int64, mod time.Time) bool {
			calls.Store(p, true)
			return p == known
		},
		Watermark: func(d string) time.Time {
			if d != dir {
				t.Errorf("watermark asked for %s, want %s", d, dir)
			}
			return mark
		},
	})
	res := h.expect(map[string][]byte{fresh: []byte(fresh), deep: []byte(deep)})
	for p, g := range res {
		if g.Cause != CauseScan {
			t.Errorf("%s: cause %q, want scan", p, g.Cause)
		}
	}
	if _, ok := calls.Load(known); !ok {
		t.Error("Known was not asked about known.png")
	}
	h.barrier()
	h.none(old, known)
	h.once(fresh, deep)
}

func TestRescan(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "a.png")
	must(t, os.WriteFile(p, []byte("a"), 0o644))
	old := time.Now().Add(-time.Minute)
	must(t, os.Chtimes(p, old, old))
	var handled sync.Map
	handled.Store(p, true)
	h := start(t, Options{
		Folders: []Folder{{Dir: dir}},
		Known:   func(p string, _ int64, _ time.Time) bool { _, ok := handled.Load(p); return ok },
	})
	h.barrier()
	h.none(p)
	handled.Delete(p) // the consumer lost it
	h.w.Rescan()
	if g := h.expectOne(p, []byte("a")); g.Cause != CauseScan {
		t.Errorf("cause %q, want scan", g.Cause)
	}
}

// TestOverflow overflows the kernel's event queues for real: the consumer
// stops reading, the watcher stalls, inotify drops events, and the rescan
// must still deliver every file exactly once.
func TestOverflow(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("inotify only")
	}
	q := 16384
	if b, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events"); err == nil {
		if v, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			q = v
		}
	}
	if q > 100000 {
		t.Skipf("max_queued_events is %d; too many files to overflow it", q)
	}
	n := q + 2*eventBuffer + 2000
	h := start(t, Options{Quiet: 100 * time.Millisecond})
	want := make(map[string][]byte, n)
	begin := time.Now()
	for i := range n {
		p := filepath.Join(h.dir, fmt.Sprintf("of-%05d.png", i))
		data := []byte(p)
		must(t, os.WriteFile(p, data, 0o644))
		want[p] = data
	}
	t.Logf("wrote %d files in %v without reading", n, time.Since(begin))
	res := h.expect(want)
	causes := make(map[string]int)
	for _, g := range res {
		causes[g.Cause]++
	}
	t.Logf("all %d files in %v; causes %v", n, time.Since(begin), causes)
	if causes[CauseScan] == 0 {
		t.Error("no file came from a rescan; did the queue overflow?")
	}
	h.barrier()
	for p := range want {
		h.once(p)
	}
}

func TestPoll(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	before := filepath.Join(dir, "before.png")
	must(t, os.WriteFile(before, []byte("before"), 0o644))
	h := start(t, Options{Folders: []Folder{{Dir: dir, Poll: true, PollInterval: 50 * time.Millisecond}}})
	h.expectOne(before, []byte("before"))
	after := filepath.Join(dir, "sub", "after.png")
	must(t, os.Mkdir(filepath.Dir(after), 0o755))
	go slowWriteN(t, after, content("poll", 64<<10), 4, 20*time.Millisecond)
	h.expectOne(after, content("poll", 64<<10))
	ign := filepath.Join(dir, ".x.png")
	must(t, os.WriteFile(ign, []byte("x"), 0o644))
	sentinel := filepath.Join(dir, "z.png")
	must(t, os.WriteFile(sentinel, []byte("z"), 0o644))
	h.expectOne(sentinel, []byte("z"))
	for _, g := range h.log {
		if g.Cause != CausePoll {
			t.Errorf("%s: cause %q, want poll (no events on a Poll folder)", g.Path, g.Cause)
		}
	}
	h.none(ign)
	h.once(before, after, sentinel)
}

func slowWriteN(t *testing.T, path string, data []byte, parts int, pause time.Duration) {
	f, err := os.Create(path)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	chunk := len(data) / parts
	for i := range parts {
		end := (i + 1) * chunk
		if i == parts-1 {
			end = len(data)
		}
		if _, err := f.Write(data[i*chunk : end]); err != nil {
			t.Error(err)
		}
		time.Sleep(pause) // a slow writer
	}
}

func TestFolderRemoved(t *testing.T) {
	t.Parallel()
	keep, gone := t.TempDir(), filepath.Join(t.TempDir(), "gone")
	must(t, os.MkdirAll(filepath.Join(gone, "sub"), 0o755))
	h := start(t, Options{Folders: []Folder{{Dir: keep}, {Dir: gone}}})
	must(t, os.RemoveAll(gone))
	select {
	case err := <-h.errs:
		t.Logf("OnError: %v", err)
		if !strings.Contains(err.Error(), gone) || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error %q does not name %s", err, gone)
		}
	case <-time.After(waitLimit):
		t.Fatal("no error for the removed folder")
	}
	p := filepath.Join(keep, "still.png")
	must(t, os.WriteFile(p, []byte("still"), 0o644))
	h.expectOne(p, []byte("still"))
	// It comes back: watching resumes.
	must(t, os.Mkdir(gone, 0o755))
	back := filepath.Join(gone, "back.png")
	must(t, os.WriteFile(back, []byte("back"), 0o644))
	h.expectOne(back, []byte("back"))
	select {
	case err := <-h.errs:
		t.Errorf("unexpected error: %v", err)
	default:
	}
}

func TestPermissionDenied(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" || os.Geteuid() == 0 {
		t.Skip("needs a non-root Unix user")
	}
	dir := t.TempDir()
	locked := filepath.Join(dir, "locked")
	must(t, os.Mkdir(locked, 0o000))
	t.Cleanup(func() { os.Chmod(locked, 0o755) })
	h := start(t, Options{Folders: []Folder{{Dir: dir}}})
	select {
	case err := <-h.errs:
		t.Logf("OnError: %v", err)
		if !strings.Contains(err.Error(), locked) || !errors.Is(err, fs.ErrPermission) {
			t.Errorf("error %q does not name %s", err, locked)
		}
	case <-time.After(waitLimit):
		t.Fatal("no error for the unreadable folder")
	}
}

// TestKeptOpen: a writer that never closes is emitted after the close-write
// wait; its late close is not a second completion.
func TestKeptOpen(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("close-write is Linux only")
	}
	h := start(t, Options{}, func(w *Watcher) { w.closeWait = 300 * time.Millisecond })
	p := filepath.Join(h.dir, "open.png")
	f, err := os.Create(p)
	must(t, err)
	data := content("open", 100<<10)
	_, err = f.Write(data)
	must(t, err)
	if g := h.expectOne(p, data); g.Cause != CauseQuiet {
		t.Errorf("cause %q, want quiet", g.Cause)
	}
	must(t, f.Close())
	h.barrier()
	h.once(p)
}

// TestRewrite: each completion of the same path is emitted.
func TestRewrite(t *testing.T) {
	t.Parallel()
	h := start(t, Options{})
	p := filepath.Join(h.dir, "again.png")
	for i := range 3 {
		data := content("again"+strconv.Itoa(i), 1000+i)
		must(t, os.WriteFile(p, data, 0o644))
		h.expectOne(p, data)
		delete(h.count, p)
	}
	h.barrier()
	h.none(p)
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	must(t, os.WriteFile(file, nil, 0o644))
	missing := filepath.Join(dir, "missing")
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{}, "no folders"},
		{Options{Folders: []Folder{{Dir: missing}}}, missing},
		{Options{Folders: []Folder{{Dir: file}}}, file},
		{Options{Folders: []Folder{{Dir: dir, Include: []string{"[x"}}}}, dir},
		{Options{Folders: []Folder{{Dir: dir}, {Dir: dir + "/"}}}, "twice"},
		{Options{Folders: []Folder{{Dir: dir, PollInterval: -1}}}, dir},
	} {
		_, err := New(tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error naming %q", tc.opts, err, tc.want)
		}
	}
}

func TestIgnoredName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"a.png": false, ".a.png": true, "a.TMP": true, "a.part": true, "a.crdownload": true,
		"~a.png": true, "a.png~": false, ".shot.png.XYZ": true, "partial.png": false,
	} {
		if got := ignoredName(name); got != want {
			t.Errorf("ignoredName(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestNoLeaks: Run stops every goroutine and timer it started, with files
// still waiting for completion and a poller running, and closes Events.
func TestNoLeaks(t *testing.T) {
	base := runtime.NumGoroutine()
	dir, pdir := t.TempDir(), t.TempDir()
	w, err := New(Options{Folders: []Folder{{Dir: dir}, {Dir: pdir, Poll: true, PollInterval: 10 * time.Millisecond}}})
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	h := &harness{t: t, w: w, dir: dir, outside: t.TempDir(), count: map[string]int{}, barMod: time.Now().Add(-time.Minute)}
	h.barrier() // watching
	p := filepath.Join(dir, "a.png")
	must(t, os.WriteFile(p, []byte("a"), 0o644))
	h.expectOne(p, []byte("a"))
	f, err := os.Create(filepath.Join(dir, "open.png")) // waits for its close
	must(t, err)
	defer f.Close()
	_, err = f.Write([]byte("open"))
	must(t, err)
	must(t, os.WriteFile(filepath.Join(pdir, "p.png"), []byte("p"), 0o644))
	for h.pending() == 0 {
		runtime.Gosched()
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Run did not return after cancel")
	}
	for range w.Events() { // must be closed
	}

	// Goroutines end a moment after Run returns (timer callbacks, runtime
	// bookkeeping); allow that, like goleak does.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before, %d after Run returned:\n%s", base, n, buf[:runtime.Stack(buf, true)])
	}

	// Run on a context that is already done returns at once.
	w2, err := New(Options{Folders: []Folder{{Dir: dir}}})
	must(t, err)
	if err := w2.Run(ctx); err != nil {
		t.Errorf("Run on a done context: %v", err)
	}
	if _, ok := <-w2.Events(); ok {
		t.Error("Events not closed")
	}
	if err := w2.Run(context.Background()); err == nil {
		t.Error("second Run did not fail")
	}
}

// TestFutureMtime: a file moved in with an mtime ahead of the clock (a
// camera or a network drive with a skewed clock) is not held back.
func TestFutureMtime(t *testing.T) {
	t.Parallel()
	h := start(t, Options{})
	src := filepath.Join(h.outside, "future.png")
	must(t, os.WriteFile(src, []byte("future"), 0o644))
	ahead := time.Now().Add(time.Hour)
	must(t, os.Chtimes(src, ahead, ahead))
	dst := filepath.Join(h.dir, "future.png")
	must(t, os.Rename(src, dst))
	g := h.expectOne(dst, []byte("future"))
	// Not held back until the clock reaches the mtime, an hour away.
	if d := g.Ready.Sub(ahead.Add(-time.Hour)); d > 30*time.Minute {
		t.Errorf("emitted %v after the move", d)
	}
	h.barrier()
	h.once(dst)
}
