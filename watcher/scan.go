package watcher

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

type opKind int

const (
	opFull   opKind = iota // catch-up scan of every event folder
	opTree                 // a new subfolder: watch it and emit its files
	opForget               // a path was removed or renamed: unwatch it if it was a folder
)

type op struct {
	kind opKind
	path string
}

// queue is the scanner's unbounded work list. The loop pushes without ever
// blocking; full scans waiting in the queue are merged into one.
type queue struct {
	mu    sync.Mutex
	items []op
	full  bool // an opFull is waiting
	wake  chan struct{}
}

func (q *queue) push(o op) {
	q.mu.Lock()
	if o.kind == opFull {
		if q.full {
			q.mu.Unlock()
			return
		}
		q.full = true
	}
	q.items = append(q.items, o)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *queue) pop() (op, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return op{}, false
	}
	o := q.items[0]
	q.items[0] = op{}
	q.items = q.items[1:]
	if o.kind == opFull {
		q.full = false
	}
	return o, true
}

// scanLoop runs the scanner until ctx ends.
func (r *run) scanLoop(ctx context.Context) {
	var (
		ticker *time.Ticker
		tick   <-chan time.Time
	)
	defer func() {
		if ticker != nil {
			ticker.Stop()
		}
	}()
	for {
		for {
			o, ok := r.w.ops.pop()
			if !ok || ctx.Err() != nil {
				break
			}
			switch o.kind {
			case opFull:
				r.fullScan(ctx)
			case opTree:
				if f := r.w.folderOf(o.path); f != nil && !f.Poll {
					r.walk(ctx, f, o.path, false)
				}
			case opForget:
				r.forget(ctx, o.path)
			}
		}
		switch {
		case len(r.missing) > 0 && ticker == nil:
			ticker = time.NewTicker(reviveEvery)
			tick = ticker.C
		case len(r.missing) == 0 && ticker != nil:
			ticker.Stop()
			ticker, tick = nil, nil
		}
		select {
		case <-ctx.Done():
			return
		case <-r.w.ops.wake:
		case <-tick:
			r.revive(ctx)
		}
	}
}

// fullScan drops watches on folders that are gone (a rename lost in an
// overflow), then walks every event folder, watching folders and emitting
// files newer than the watermark that the consumer does not know.
func (r *run) fullScan(ctx context.Context) {
	for d := range r.dirs {
		if fi, err := os.Lstat(d); err != nil || !fi.IsDir() {
			r.unwatch(d)
		}
	}
	for _, f := range r.w.folders {
		if !f.Poll && !r.missing[f] {
			r.walk(ctx, f, f.Dir, true)
		}
	}
}

// revive looks for vanished folders and resumes those that are back.
func (r *run) revive(ctx context.Context) {
	for f := range r.missing {
		if fi, err := os.Stat(f.Dir); err == nil && fi.IsDir() {
			delete(r.missing, f)
			r.resolved("gone:" + f.Dir)
			r.walk(ctx, f, f.Dir, true)
		}
	}
}

// forget handles a removed or renamed path. If it was a watched folder, its
// watches go; if a folder is at that path again (or the event was stale), it
// is watched and scanned afresh.
func (r *run) forget(ctx context.Context, path string) {
	f, ok := r.dirs[path]
	if !ok {
		return
	}
	r.unwatch(path)
	if fi, err := os.Lstat(path); err == nil && fi.IsDir() {
		r.walk(ctx, f, path, path == f.Dir)
		return
	}
	if path == f.Dir {
		r.lost(f, nil)
	}
}

// unwatch removes the watches on path and every folder below it. Other
// watched roots below it are checked again.
func (r *run) unwatch(path string) {
	var nested []*folder
	prefix := path + string(filepath.Separator)
	for d, f := range r.dirs {
		if d != path && !strings.HasPrefix(d, prefix) {
			continue
		}
		if r.fsw != nil {
			_ = r.fsw.Remove(d) // fails when fsnotify already dropped it
		}
		r.cw.remove(d)
		delete(r.dirs, d)
		if d != path && d == f.Dir {
			nested = append(nested, f)
		}
	}
	for _, f := range nested {
		if fi, err := os.Stat(f.Dir); err != nil || !fi.IsDir() {
			r.lost(f, err)
		} else {
			r.w.ops.push(op{kind: opTree, path: f.Dir})
		}
	}
}

// lost marks a root folder as gone and tells the user, once.
func (r *run) lost(f *folder, err error) {
	if r.missing[f] {
		return
	}
	r.missing[f] = true
	r.unwatch(f.Dir)
	if err == nil {
		err = fs.ErrNotExist
	}
	r.report("gone:"+f.Dir, goneError(f.Dir, err))
}

func goneError(dir string, err error) error {
	return fmt.Errorf("watcher: watched folder %s is gone (removed, renamed or unmounted): %w; watching resumes when it is back, or remove it from the watch list", dir, err)
}

// walk watches top and the folders below it and sends their files to the
// loop. A catch-up walk skips files older than the watermark; every walk
// skips files the consumer knows.
func (r *run) walk(ctx context.Context, f *folder, top string, catchUp bool) {
	var mark time.Time
	if catchUp && r.w.watermark != nil {
		mark = r.w.watermark(f.Dir)
	}
	_ = filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			return filepath.SkipAll
		}
		if err != nil {
			switch {
			case errors.Is(err, fs.ErrNotExist):
				if p == f.Dir {
					r.lost(f, err)
				}
			default:
				r.report("dir:"+p, fmt.Errorf("watcher: cannot read folder %s: %w; %s", p, err, advice(err)))
			}
			return nil
		}
		if d.IsDir() {
			if p != f.Dir && (skipDir(d.Name()) || r.w.roots[p] != nil) {
				return filepath.SkipDir
			}
			r.watchDir(f, p)
			return nil
		}
		if !d.Type().IsRegular() || !f.accept(d.Name()) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		s := stampOf(fi)
		if s.size == 0 || (catchUp && fi.ModTime().Before(mark)) {
			return nil
		}
		if r.w.known != nil && r.w.known(p, s.size, fi.ModTime()) {
			return nil
		}
		select {
		case r.found <- candidate{path: p, stamp: s}:
		case <-ctx.Done():
			return filepath.SkipAll
		}
		return nil
	})
}

// watchDir adds the event and close-write watches for one folder; it must
// run before the folder is listed, so that no file falls between the two.
func (r *run) watchDir(f *folder, dir string) {
	if _, ok := r.dirs[dir]; ok {
		return
	}
	if err := r.fsw.Add(dir); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			r.report(watchKey(dir, err), fmt.Errorf("watcher: cannot watch folder %s: %w; %s", dir, err, advice(err)))
		}
		return
	}
	r.dirs[dir] = f
	if err := r.cw.add(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		r.report(watchKey(dir, err), fmt.Errorf("watcher: cannot watch folder %s for closed files: %w; files in it are emitted after %v of quiet instead (%s)", dir, err, r.w.quiet, advice(err)))
	}
}

// watchKey reports a system limit once, and other errors once per folder.
func watchKey(dir string, err error) string {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EMFILE) {
		return "limit"
	}
	return "dir:" + dir
}

// advice says what a user can do about err.
func advice(err error) string {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return "give Upshot read access to it, or remove it from the watch list"
	case errors.Is(err, syscall.ENOSPC):
		return "the system's limit on watched folders is reached: raise it (Linux: sudo sysctl fs.inotify.max_user_watches=524288), watch fewer subfolders, or set poll = true for this folder"
	case errors.Is(err, syscall.EMFILE):
		return "too many open files or inotify instances: raise the limit (Linux: sudo sysctl fs.inotify.max_user_instances=512, or ulimit -n), or set poll = true for this folder"
	default:
		return "files in it are picked up by the next rescan"
	}
}
