package core

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"upshot/internal/store"
	"upshot/uploader"
	"upshot/watcher"
)

// WatchFolders turns the config's [[watch]] entries into the watcher's
// folders, with "~" expanded and paths made absolute.
func WatchFolders(ws []uploader.Watch) []watcher.Folder {
	var out []watcher.Folder
	for _, w := range ws {
		out = append(out, watcher.Folder{Dir: ExpandHome(w.Dir), Include: w.Include, Poll: w.Poll})
	}
	return out
}

// ExpandHome resolves a leading "~" and makes the path absolute.
func ExpandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[1:])
		}
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// StripRule is QueueOptions.StripMetadata for a config: a job's photo loses its
// metadata unless that is turned off globally or for the watched folder the
// file is in. cfg is called per job, so a caller whose settings change
// (the window) hands over the current ones.
func StripRule(cfg func() *uploader.Config) func(store.Job) bool {
	return func(job store.Job) bool {
		c := cfg()
		if c == nil {
			return true
		}
		if !c.Privacy.Strips() {
			return false
		}
		for _, w := range c.Watch {
			rel, err := filepath.Rel(ExpandHome(w.Dir), job.Path)
			if w.KeepMetadata && err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return false
			}
		}
		return true
	}
}

// Watch watches folders and queues every file that becomes complete, until
// ctx ends. Its scans skip files the queue has already seen, and a folder
// watched for the first time is watched from now on: its older files are
// not uploaded behind the user's back. File times come from the kernel's
// coarse clock, which can lag time.Now by a few milliseconds, so "now" has
// a second of slack and a file saved right at start-up is not taken as old.
// onError receives problems the watcher meets later (a folder removed, no
// permission); an invalid folder is an error at once.
func (s *Service) Watch(ctx context.Context, folders []watcher.Folder, onError func(error)) (wait func(), err error) {
	for _, f := range folders {
		if wm, err := s.st.Watermark(ctx, f.Dir); err == nil && wm.IsZero() {
			_ = s.st.SetWatermark(ctx, f.Dir, s.opts.Now().Add(-time.Second))
		}
	}
	w, err := watcher.New(watcher.Options{
		Folders: folders,
		Known: func(path string, size int64, mod time.Time) bool {
			seen, err := s.st.SeenFile(ctx, path, size, mod)
			return err == nil && seen
		},
		Watermark: func(dir string) time.Time {
			wm, _ := s.st.Watermark(ctx, dir)
			return wm
		},
		OnError: onError,
	})
	if err != nil {
		return nil, fmt.Errorf("watch folders: %w", err)
	}
	// A file the store could not take is found again by a catch-up scan
	// once the store works again: it is neither known nor behind the
	// watermark.
	s.mu.Lock()
	s.onRecover = append(s.onRecover, w.Rescan)
	s.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() { _ = w.Run(ctx) })
	wg.Go(func() {
		// Run closes Events when it returns.
		for ev := range w.Events() {
			if _, err := s.Add(ctx, ev.Path, store.SourceWatch, ev.Ready); err != nil && ctx.Err() == nil {
				w.Retry(ev.Path)
				s.storeResult(ctx, err)
			}
		}
	})
	return wg.Wait, nil
}
