package watcher

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// polled is what a poller remembers about one file.
type polled struct {
	stamp   stamp  // at the last poll
	done    stamp  // the stamp last emitted or skipped
	catchUp bool   // present at the first poll and unchanged since: subject to the watermark
	seen    uint64 // the last poll that saw it
}

// poll scans a Poll folder every PollInterval until ctx ends. A file is
// emitted when two polls in a row see the same size and mtime, and again
// after each change that two polls see settle.
func (r *run) poll(ctx context.Context, f *folder) {
	files := make(map[string]*polled)
	t := time.NewTicker(f.PollInterval)
	defer t.Stop()
	first := true
	for gen := uint64(1); ; gen++ {
		if r.pollOnce(ctx, f, files, gen, first) {
			first = false
		} else {
			first = true // when it comes back, its files are a catch-up
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pollOnce runs one poll; it reports false if the folder is gone.
func (r *run) pollOnce(ctx context.Context, f *folder, files map[string]*polled, gen uint64, first bool) bool {
	if fi, err := os.Stat(f.Dir); err != nil || !fi.IsDir() {
		if err == nil {
			err = errors.New("not a folder")
		}
		r.report("gone:"+f.Dir, goneError(f.Dir, err))
		clear(files)
		return false
	}
	r.resolved("gone:" + f.Dir)

	var (
		mark       time.Time
		markLoaded bool
	)
	_ = filepath.WalkDir(f.Dir, func(p string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			return filepath.SkipAll
		}
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				r.report("dir:"+p, fmt.Errorf("watcher: cannot read folder %s: %w; %s", p, err, advice(err)))
			}
			return nil
		}
		if d.IsDir() {
			if p != f.Dir && (skipDir(d.Name()) || r.w.roots[p] != nil) {
				return filepath.SkipDir
			}
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
		e := files[p]
		if e == nil {
			files[p] = &polled{stamp: s, catchUp: first, seen: gen}
			return nil
		}
		e.seen = gen
		if e.stamp != s {
			e.stamp, e.catchUp = s, false
			return nil
		}
		if e.done == s || s.size == 0 {
			return nil
		}
		if open, known := openForWriting(p); known && open {
			// A writer that stalls for longer than the poll interval
			// still has the file open: not complete yet.
			return nil
		}
		e.done = s
		if e.catchUp {
			if !markLoaded && r.w.watermark != nil {
				mark = r.w.watermark(f.Dir)
			}
			markLoaded = true
			if fi.ModTime().Before(mark) {
				return nil
			}
		}
		if r.w.known != nil && r.w.known(p, s.size, fi.ModTime()) {
			return nil
		}
		ev := Event{Path: p, Size: s.size, ModTime: fi.ModTime(), Ready: time.Now(), Cause: CausePoll}
		select {
		case r.w.out <- ev:
		case <-ctx.Done():
			return filepath.SkipAll
		}
		return nil
	})
	for p, e := range files {
		if e.seen != gen {
			delete(files, p)
		}
	}
	return true
}
