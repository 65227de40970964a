// Package watcher finds new, complete files in watched folders and emits
// their paths on a channel. It knows nothing about uploads: the consumer reads
// [Watcher.Events], dedupes against its own store, and tells the watcher what
// it has already handled through [Options.Known] and [Options.Watermark].
//
// # When a file is complete
//
//   - Renamed or moved into a watched folder: complete at once. On Linux the
//     move is seen as inotify's IN_MOVED_TO, and the kernel says whether a
//     writer still has the file open (a read lease is granted only when
//     none does): a closed file is emitted at once, an open one when its
//     close-write comes. Where that cannot be told, the file is emitted as
//     soon as its mtime is 10ms old (a very short settle check). Cause
//     "rename".
//   - Closed by a writer: on Linux, IN_CLOSE_WRITE says so and the file is
//     emitted at once, cause "close-write". fsnotify keeps that event
//     unexported, so the watcher reads it from a second inotify instance
//     (golang.org/x/sys/unix) that watches the same folders for
//     IN_CLOSE_WRITE and IN_MOVED_TO only.
//   - Anything else (Create and Write events on other systems, writers that
//     keep a file open, files found by a scan): once the file is quiet, that
//     is, no events and size and mtime unchanged for [Options.Quiet], cause
//     "quiet" or "scan". On Linux a file that was opened for writing waits
//     for its close-write; the quiet rule applies to it only after 10s
//     without events, in case the close never comes.
//   - Polled folders ([Folder.Poll]): once a file's size and mtime are the
//     same in two polls in a row and, where the system can tell (Linux, on
//     local file systems), no process has it open for writing, cause
//     "poll".
//
// Empty files are never emitted (writers often create the name first and
// fill it later; the filled file is emitted when it completes). Hidden and
// temporary files (".*", "~*", "*.tmp", "*.part", "*.crdownload"),
// directories, and names that match none of the folder's include globs are
// ignored. Folders are watched recursively, except hidden subfolders; new
// subfolders are watched as they appear and the files already in them are
// emitted.
//
// Each completed file is emitted once per completion: a file rewritten later
// may be emitted again, and the consumer dedupes by content.
//
// # Scans
//
// Run starts with a catch-up scan that emits files with an mtime at or after
// the folder's watermark that the consumer does not already know. The same
// scan runs again after an event overflow (fsnotify.ErrEventOverflow,
// IN_Q_OVERFLOW), after other watch errors, and on [Watcher.Rescan].
//
// # Concurrency
//
// New, Events and Rescan may be called from any goroutine; Run must be called
// once. The callbacks in [Options] are called from the watcher's own
// goroutines, possibly at the same time as each other and as the consumer's
// code, so they must be safe for that. They should return quickly: Known and
// Watermark hold up scans and polls, and OnError may hold up event handling.
// They must not wait for the Events channel to be read.
//
// # Limits
//
// On Linux each watched folder and subfolder takes two inotify watches (one
// for fsnotify, one for close-write) against fs.inotify.max_user_watches. On
// macOS and the BSDs fsnotify's kqueue backend opens a file descriptor for
// every file in a watched folder; use Poll for very large folders there.
// Network drives give no events: use Poll.
package watcher

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Causes of an [Event]: how the watcher knew the file was complete.
const (
	CauseCloseWrite = "close-write" // a writer closed it (Linux)
	CauseRename     = "rename"      // it was renamed or moved in (Linux)
	CauseQuiet      = "quiet"       // no events and a stable size and mtime for Options.Quiet
	CauseScan       = "scan"        // found by a catch-up scan or in a new subfolder
	CausePoll       = "poll"        // stable across two polls of a Poll folder
)

// Defaults for [Options.Quiet] and [Folder.PollInterval].
const (
	// DefaultQuiet is longer than the 300ms pauses of a slow writer (a
	// browser, a network copy), so that on systems without a close-write
	// event such a file is not emitted between two writes. Renamed and
	// closed files on Linux never wait for it.
	DefaultQuiet = 500 * time.Millisecond

	// DefaultPollInterval is the period of a Poll folder's scan.
	DefaultPollInterval = 2 * time.Second
)

const (
	// settle is how old a renamed file's mtime must be before it is emitted:
	// the "very short" stability check for renames.
	settle = 10 * time.Millisecond

	// closeWriteWait is how long a file opened for writing waits for its
	// close-write, counted from its last event.
	closeWriteWait = 10 * time.Second

	// eventBuffer is the capacity of the Events channel: a burst of files
	// does not stall the watcher while the consumer writes its jobs.
	eventBuffer = 1024

	// emittedTTL is how long the watcher remembers what it emitted, to drop
	// late duplicate events and scan hits for the same completion.
	emittedTTL = time.Minute

	// reviveEvery is how often a vanished folder is looked for.
	reviveEvery = time.Second
)

// Folder is one watched folder.
type Folder struct {
	// Dir is the folder. It must exist when New is called; New makes it
	// absolute.
	Dir string

	// Include holds glob patterns (filepath.Match syntax) matched against a
	// file's base name, ignoring case. Empty means every file.
	Include []string

	// Poll scans the folder every PollInterval instead of using file events,
	// for network drives (SMB, NFS) that send none.
	Poll bool

	// PollInterval is the period of the scan in Poll mode; zero means
	// DefaultPollInterval.
	PollInterval time.Duration
}

// Options configures a [Watcher].
type Options struct {
	// Folders to watch. Nested folders are allowed: a file belongs to the
	// deepest folder that holds it.
	Folders []Folder

	// Quiet is how long a file without a close-write must stay unchanged
	// before it is emitted; zero means DefaultQuiet.
	Quiet time.Duration

	// Known reports whether the consumer already handled the file, so that
	// scans (catch-up, rescan, new subfolders) and polls skip it. Files seen
	// through live events are emitted without asking. Nil means nothing is
	// known.
	Known func(path string, size int64, mod time.Time) bool

	// Watermark returns, for a folder's Dir, the time before which files are
	// old news: catch-up scans and the first poll skip files with an earlier
	// mtime. Files that arrive while the watcher runs are emitted whatever
	// their mtime. Nil means the zero time.
	Watermark func(dir string) time.Time

	// OnError receives problems a user should see: a folder removed, a
	// permission denied, a watch limit reached. Each error names the folder
	// and says what to do. The watcher keeps running. Nil discards them.
	OnError func(err error)
}

// Event is one complete file.
type Event struct {
	Path    string    // absolute path
	Size    int64     // size when it was known complete
	ModTime time.Time // mtime when it was known complete
	Ready   time.Time // when it was known complete (for latency measurement)
	Cause   string    // one of the Cause constants
}

// Watcher watches folders and emits complete files. Create it with New and
// start it with Run, once. Its methods are safe for concurrent use.
type Watcher struct {
	folders   []*folder
	roots     map[string]*folder // Dir → folder
	quiet     time.Duration
	known     func(string, int64, time.Time) bool
	watermark func(string) time.Time
	onError   func(error)

	out     chan Event
	ops     queue
	probe   chan chan int // tests: number of files waiting for completion
	started atomic.Bool

	retryMu sync.Mutex
	retry   map[string]bool // emitted paths the consumer could not take

	// Test knobs, set before Run.
	noCloseWrite bool          // behave as on systems without close-write
	closeWait    time.Duration // closeWriteWait
}

type folder struct {
	Folder
	include []string // lower-case patterns
}

// New checks the options and returns a Watcher. Every folder must exist and
// be a directory, and every include pattern must be valid; the error names
// the folder.
func New(opts Options) (*Watcher, error) {
	if len(opts.Folders) == 0 {
		return nil, errors.New("watcher: no folders to watch; add one to the watch list")
	}
	if opts.Quiet < 0 {
		return nil, fmt.Errorf("watcher: negative quiet window %v", opts.Quiet)
	}
	w := &Watcher{
		roots:     make(map[string]*folder),
		quiet:     opts.Quiet,
		known:     opts.Known,
		watermark: opts.Watermark,
		onError:   opts.OnError,
		out:       make(chan Event, eventBuffer),
		probe:     make(chan chan int),
		closeWait: closeWriteWait,
	}
	w.ops.wake = make(chan struct{}, 1)
	if w.quiet == 0 {
		w.quiet = DefaultQuiet
	}
	for _, fo := range opts.Folders {
		f, err := newFolder(fo)
		if err != nil {
			return nil, err
		}
		if _, dup := w.roots[f.Dir]; dup {
			return nil, fmt.Errorf("watcher: folder %s is listed twice; remove one", f.Dir)
		}
		w.roots[f.Dir] = f
		w.folders = append(w.folders, f)
	}
	return w, nil
}

func newFolder(fo Folder) (*folder, error) {
	if fo.Dir == "" {
		return nil, errors.New("watcher: a watched folder has an empty path")
	}
	dir, err := filepath.Abs(fo.Dir)
	if err != nil {
		return nil, fmt.Errorf("watcher: folder %s: %w", fo.Dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("watcher: folder %s: %w (create it or fix the path)", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("watcher: %s is not a folder; watch the folder that holds it", dir)
	}
	if fo.PollInterval < 0 {
		return nil, fmt.Errorf("watcher: folder %s: negative poll interval %v", dir, fo.PollInterval)
	}
	if fo.PollInterval == 0 {
		fo.PollInterval = DefaultPollInterval
	}
	fo.Dir = dir
	fo.Include = append([]string(nil), fo.Include...)
	f := &folder{Folder: fo}
	for _, p := range fo.Include {
		lp := strings.ToLower(p)
		if _, err := filepath.Match(lp, ""); err != nil {
			return nil, fmt.Errorf("watcher: folder %s: include pattern %q: %w", dir, p, err)
		}
		f.include = append(f.include, lp)
	}
	return f, nil
}

// Events returns the channel of complete files. It is buffered; the consumer
// must keep reading, or the watcher stalls and, after the kernel's event queue
// overflows, recovers only through a rescan. Run closes it when it returns.
func (w *Watcher) Events() <-chan Event { return w.out }

// Retry says that the consumer could not take the event for path (its
// queue could not be written, say): the next scan that finds the file
// emits it again, even though it was emitted before. Pair it with Rescan
// once the consumer can take events again. Safe for concurrent use.
func (w *Watcher) Retry(path string) {
	w.retryMu.Lock()
	defer w.retryMu.Unlock()
	if w.retry == nil {
		w.retry = map[string]bool{}
	}
	w.retry[path] = true
}

// takeRetry reports, once, whether path was handed to Retry.
func (w *Watcher) takeRetry(path string) bool {
	w.retryMu.Lock()
	defer w.retryMu.Unlock()
	if !w.retry[path] {
		return false
	}
	delete(w.retry, path)
	return true
}

// Rescan asks for a catch-up scan of the event-driven folders as soon as
// possible, for example after the consumer resumes. It does not block;
// requests made while a scan is waiting are merged. Poll folders are scanned
// on their own schedule anyway.
func (w *Watcher) Rescan() { w.ops.push(op{kind: opFull}) }

// Run watches until ctx ends, then stops every goroutine it started, closes
// the Events channel and returns nil. It returns an error only if watching
// cannot start at all (for example, the system's limit on inotify instances
// is reached); problems with single folders go to Options.OnError.
func (w *Watcher) Run(ctx context.Context) error {
	if !w.started.CompareAndSwap(false, true) {
		return errors.New("watcher: Run called twice; create a new Watcher")
	}
	defer close(w.out)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	r := &run{
		w:        w,
		fire:     make(chan string, 256),
		found:    make(chan candidate, 256),
		done:     make(chan struct{}),
		pend:     make(map[string]*pending),
		emitted:  make(map[string]record),
		dirs:     make(map[string]*folder),
		missing:  make(map[*folder]bool),
		reported: make(map[string]bool),
	}
	events := false
	for _, f := range w.folders {
		events = events || !f.Poll
	}
	if events {
		fsw, err := fsnotify.NewWatcher()
		if err != nil {
			return fmt.Errorf("watcher: start file events: %w (%s)", err, advice(err))
		}
		r.fsw = fsw
		if !w.noCloseWrite {
			cw, err := newCloseWatcher()
			if err != nil {
				r.report("closewrite", fmt.Errorf("watcher: close-write events unavailable, files are emitted after %v of quiet instead: %w (%s)", w.quiet, err, advice(err)))
			}
			r.cw = cw
		}
		w.ops.push(op{kind: opFull})
	}

	var wg sync.WaitGroup
	if events {
		wg.Go(func() { r.scanLoop(ctx) })
	}
	for _, f := range w.folders {
		if f.Poll {
			wg.Go(func() { r.poll(ctx, f) })
		}
	}
	r.loop(ctx)

	cancel()
	close(r.done)
	for _, st := range r.pend {
		if st.timer != nil {
			st.timer.Stop()
		}
	}
	if r.fsw != nil {
		// Close unblocks fsnotify's reader, which a concurrent Add may be
		// waiting for.
		r.fsw.Close()
	}
	r.cw.close()
	wg.Wait()
	return nil
}

// folderOf returns the deepest folder holding dir (dir itself included).
func (w *Watcher) folderOf(dir string) *folder {
	for {
		if f, ok := w.roots[dir]; ok {
			return f
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
}

// accept reports whether a file with this base name is one to emit.
func (f *folder) accept(name string) bool {
	if ignoredName(name) {
		return false
	}
	if len(f.include) == 0 {
		return true
	}
	lower := strings.ToLower(name)
	for _, p := range f.include {
		if ok, _ := filepath.Match(p, lower); ok {
			return true
		}
	}
	return false
}

// ignoredName reports hidden and temporary files.
func ignoredName(name string) bool {
	if name == "" || name[0] == '.' || name[0] == '~' {
		return true
	}
	lower := strings.ToLower(name)
	for _, s := range [...]string{".tmp", ".part", ".crdownload"} {
		if strings.HasSuffix(lower, s) {
			return true
		}
	}
	return false
}

// skipDir reports subfolders that are not watched: hidden ones.
func skipDir(name string) bool { return strings.HasPrefix(name, ".") }

// stamp is what "unchanged" compares: size and mtime.
type stamp struct {
	size int64
	mod  int64 // UnixNano
}

func stampOf(fi os.FileInfo) stamp { return stamp{fi.Size(), fi.ModTime().UnixNano()} }

func (s stamp) modTime() time.Time { return time.Unix(0, s.mod) }
