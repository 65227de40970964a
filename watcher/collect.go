package watcher

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
)

// Files lists the files in f that a watcher would emit, by the same rules:
// recursively, skipping hidden subfolders, hidden and temporary files, and
// names outside f.Include. It is what a folder dropped on the window
// uploads. Unreadable subfolders are reported in the error, after the
// files that could be listed.
func Files(ctx context.Context, f Folder) ([]string, error) {
	fo, err := newFolder(f)
	if err != nil {
		return nil, err
	}
	var files []string
	var errs []error
	err = filepath.WalkDir(fo.Dir, func(path string, d fs.DirEntry, err error) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("list %s: %w", path, err))
			return nil
		}
		switch {
		case d.IsDir():
			if path != fo.Dir && skipDir(d.Name()) {
				return filepath.SkipDir
			}
		case d.Type().IsRegular() && fo.accept(d.Name()):
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return files, errors.Join(errs...)
}
