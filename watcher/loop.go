package watcher

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"upshot/internal/winname"
)

// run is the state of one Run. Three kinds of goroutine share it:
//
//   - the loop (Run's own goroutine) reads fsnotify and close-write events,
//     timer fires and scan candidates, and owns pend and emitted. It never
//     adds or removes watches: fsnotify's reader can hold its lock while it
//     waits for the loop to take an error, so Add from the loop could
//     deadlock.
//   - the scanner (scanLoop) owns dirs and missing, adds and removes all
//     watches, and walks folders, sending what it finds to the loop.
//   - one poller per Poll folder, which sends straight to Events.
type run struct {
	w     *Watcher
	fsw   *fsnotify.Watcher
	cw    *closeWatcher // nil without close-write events
	fire  chan string   // timer → loop: a path's timer is due
	found chan candidate
	done  chan struct{} // closed when the loop has ended

	// Loop-owned.
	pend      map[string]*pending
	emitted   map[string]record
	lastPrune time.Time

	// Scanner-owned.
	dirs    map[string]*folder // watched directories
	missing map[*folder]bool   // roots that vanished

	repMu    sync.Mutex
	reported map[string]bool
}

type kind int

const (
	kindWrite  kind = iota // created or written: wait for close-write or quiet
	kindRename             // moved in: settle
	kindScan               // found by a scan: quiet
)

// pending is a file that may be complete soon.
type pending struct {
	kind    kind
	stamp   stamp     // at the last event or check
	cw      bool      // a close-write will come (its folder has a close-write watch)
	due     time.Time // when to check, pushed back by each event
	timerAt time.Time // when the timer fires; the timer is re-armed if due is later
	timer   *time.Timer
}

// record is an emitted completion.
type record struct {
	stamp stamp
	at    time.Time
}

// candidate is a file found by a scan.
type candidate struct {
	path  string
	stamp stamp
}

// rawEvent comes from the close-write watcher.
type rawEvent struct {
	path     string
	moved    bool // IN_MOVED_TO; otherwise IN_CLOSE_WRITE
	overflow bool // IN_Q_OVERFLOW: events were lost
	err      error
}

func (r *run) loop(ctx context.Context) {
	var (
		fsEvents <-chan fsnotify.Event
		fsErrors <-chan error
	)
	if r.fsw != nil {
		fsEvents, fsErrors = r.fsw.Events, r.fsw.Errors
	}
	raw := r.cw.events()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-fsEvents:
			if !ok {
				fsEvents = nil
				continue
			}
			r.onFS(ctx, ev)
		case err, ok := <-fsErrors:
			if !ok {
				fsErrors = nil
				continue
			}
			r.onFSError(err)
		case ev := <-raw:
			r.onRaw(ctx, ev)
		case p := <-r.fire:
			r.onFire(ctx, p)
		case c := <-r.found:
			r.onFound(ctx, c)
		case reply := <-r.w.probe:
			reply <- len(r.pend)
		}
	}
}

// fileIn returns the folder of a file path and its stamp if it is a regular
// file that folder accepts.
func (r *run) fileIn(path string) (*folder, os.FileInfo, bool) {
	f := r.w.folderOf(filepath.Dir(path))
	if f == nil || f.Poll {
		return nil, nil, false
	}
	if problem := winname.Check(path); problem != "" {
		// Looking closer would open a device: say so, once.
		r.report("name:"+path, fmt.Errorf("%s %s: rename it to upload it", path, problem))
		return f, nil, false
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return f, nil, false
	}
	return f, fi, true
}

func (r *run) onFS(ctx context.Context, ev fsnotify.Event) {
	path := ev.Name
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		r.drop(path)
		delete(r.emitted, path)
		r.w.ops.push(op{kind: opForget, path: path}) // a no-op unless it is a watched folder
	}
	if !ev.Has(fsnotify.Create) && !ev.Has(fsnotify.Write) {
		return
	}
	f, fi, ok := r.fileIn(path)
	if f == nil {
		return
	}
	if !ok {
		r.drop(path)
		return
	}
	name := filepath.Base(path)
	if fi.IsDir() {
		if ev.Has(fsnotify.Create) && !skipDir(name) {
			r.w.ops.push(op{kind: opTree, path: path})
		}
		return
	}
	if !fi.Mode().IsRegular() || !f.accept(name) {
		return
	}
	s := stampOf(fi)
	st := r.pend[path]
	switch {
	case st == nil:
		if rec, ok := r.emitted[path]; ok && rec.stamp == s {
			return // a late event of a completion already emitted
		}
		st = &pending{kind: kindWrite}
		r.pend[path] = st
	case st.kind == kindRename && !ev.Has(fsnotify.Write):
		return // fsnotify's Create for the move itself
	default:
		st.kind = kindWrite
	}
	st.stamp = s
	st.cw = r.cw.watching(filepath.Dir(path))
	r.arm(path, st, r.window(st))
}

func (r *run) onFSError(err error) {
	if !errors.Is(err, fsnotify.ErrEventOverflow) {
		r.report("", fmt.Errorf("watcher: file events failed: %w; rescanning the watched folders", err))
	}
	r.w.ops.push(op{kind: opFull})
}

func (r *run) onRaw(ctx context.Context, ev rawEvent) {
	if ev.overflow || ev.err != nil {
		if ev.err != nil {
			r.report("", fmt.Errorf("watcher: close-write events failed: %w; files are emitted after %v of quiet instead", ev.err, r.w.quiet))
		}
		// Close-writes may be lost: whoever waits for one falls back to the
		// quiet window, and a rescan finds what was missed.
		for p, st := range r.pend {
			if st.kind == kindWrite && st.cw {
				st.cw = false
				r.arm(p, st, r.w.quiet)
			}
		}
		r.w.ops.push(op{kind: opFull})
		return
	}
	f, fi, ok := r.fileIn(ev.path)
	if !ok || !fi.Mode().IsRegular() || !f.accept(filepath.Base(ev.path)) {
		return
	}
	s := stampOf(fi)
	st := r.pend[ev.path]
	if !ev.moved { // IN_CLOSE_WRITE
		if st == nil {
			if rec, ok := r.emitted[ev.path]; ok && rec.stamp == s {
				return // closed again without a change
			}
			if time.Since(s.modTime()) > r.w.closeWait {
				return // opened for writing but not written: nothing new
			}
		}
		r.emit(ctx, ev.path, s, CauseCloseWrite)
		return
	}
	if st == nil {
		st = &pending{}
		r.pend[ev.path] = st
	}
	st.kind, st.stamp = kindRename, s
	// Where the kernel tells whether a writer still has the file open, a
	// closed file goes at once, and an open one waits for its close-write.
	// Elsewhere its mtime must be a little old first.
	switch open, known := openForWriting(ev.path); {
	case known && !open:
		r.emit(ctx, ev.path, s, CauseRename)
		return
	case known && open && r.cw.watching(filepath.Dir(ev.path)):
		st.kind, st.cw = kindWrite, true
		r.arm(ev.path, st, r.window(st))
		return
	}
	age := max(time.Since(s.modTime()), 0) // an mtime in the future counts as new
	if age >= settle {
		r.emit(ctx, ev.path, s, CauseRename)
		return
	}
	r.arm(ev.path, st, settle-age)
}

func (r *run) onFound(ctx context.Context, c candidate) {
	if _, ok := r.pend[c.path]; ok {
		return // live events own it
	}
	f, fi, ok := r.fileIn(c.path)
	if !ok || !fi.Mode().IsRegular() || !f.accept(filepath.Base(c.path)) {
		return
	}
	s := stampOf(fi)
	if rec, ok := r.emitted[c.path]; ok && rec.stamp == s && !r.w.takeRetry(c.path) {
		return
	}
	if s == c.stamp && time.Since(s.modTime()) >= r.w.quiet {
		r.emit(ctx, c.path, s, CauseScan)
		return
	}
	st := &pending{kind: kindScan, stamp: s}
	r.pend[c.path] = st
	r.arm(c.path, st, r.w.quiet)
}

func (r *run) onFire(ctx context.Context, path string) {
	st := r.pend[path]
	if st == nil {
		return
	}
	now := time.Now()
	if now.Before(st.due) {
		st.timerAt = st.due
		st.timer.Reset(st.due.Sub(now))
		return
	}
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() {
		r.drop(path)
		return
	}
	if s := stampOf(fi); s != st.stamp {
		st.stamp = s
		r.arm(path, st, r.window(st))
		return
	}
	cause := CauseQuiet
	switch st.kind {
	case kindRename:
		cause = CauseRename
	case kindScan:
		cause = CauseScan
	}
	r.emit(ctx, path, st.stamp, cause)
}

// window is how long a pending file must stay unchanged.
func (r *run) window(st *pending) time.Duration {
	switch {
	case st.kind == kindRename:
		return settle
	case st.kind == kindWrite && st.cw:
		return r.w.closeWait
	default:
		return r.w.quiet
	}
}

// arm makes the path's timer fire d from now. Events that only push the
// deadline back leave the timer alone; onFire re-arms it.
func (r *run) arm(path string, st *pending, d time.Duration) {
	now := time.Now()
	st.due = now.Add(d)
	if st.timer == nil {
		st.timerAt = st.due
		st.timer = time.AfterFunc(d, func() {
			select {
			case r.fire <- path:
			case <-r.done:
			}
		})
		return
	}
	if st.due.Before(st.timerAt) || !st.timerAt.After(now) {
		st.timerAt = st.due
		st.timer.Reset(d)
	}
}

func (r *run) drop(path string) {
	if st := r.pend[path]; st != nil {
		if st.timer != nil {
			st.timer.Stop()
		}
		delete(r.pend, path)
	}
}

// emit sends a complete file, unless it is empty.
func (r *run) emit(ctx context.Context, path string, s stamp, cause string) {
	if s.size > 0 && lockedByWriter(path) {
		// Windows: the writer still holds the file locked, so it is not
		// complete and could not be read. Look again after a quiet spell.
		st := r.pend[path]
		if st == nil {
			st = &pending{}
			r.pend[path] = st
		}
		st.kind, st.stamp, st.cw = kindWrite, s, false
		r.arm(path, st, r.w.quiet)
		return
	}
	r.drop(path)
	now := time.Now()
	// An empty file is recorded but not sent, so that late events for it do
	// not make it wait again.
	r.emitted[path] = record{stamp: s, at: now}
	if now.Sub(r.lastPrune) > emittedTTL/2 {
		r.lastPrune = now
		for p, rec := range r.emitted {
			if now.Sub(rec.at) > emittedTTL {
				delete(r.emitted, p)
			}
		}
	}
	if s.size == 0 {
		return
	}
	ev := Event{Path: path, Size: s.size, ModTime: s.modTime(), Ready: now, Cause: cause}
	select {
	case r.w.out <- ev:
	case <-ctx.Done():
	}
}

// report passes err to OnError, once per key until resolved (no key: always).
func (r *run) report(key string, err error) {
	if key != "" {
		r.repMu.Lock()
		seen := r.reported[key]
		r.reported[key] = true
		r.repMu.Unlock()
		if seen {
			return
		}
	}
	if r.w.onError != nil {
		r.w.onError(err)
	}
}

// resolved lets the error under key be reported again.
func (r *run) resolved(key string) {
	r.repMu.Lock()
	delete(r.reported, key)
	r.repMu.Unlock()
}
