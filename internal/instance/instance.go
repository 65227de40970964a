// Package instance makes sure only one Upshot process at a time runs the
// upload queue (the window or "upshot watch"): the queue's crash recovery
// puts every interrupted upload back, which is only right when no other
// process is uploading.
package instance

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrRunning means another process holds the lock.
var ErrRunning = errors.New("another Upshot is already running the upload queue")

// Lock is a held instance lock.
type Lock struct{ f *os.File }

// Acquire takes the lock file queue.lock in dir, without waiting. The
// operating system releases it when the process ends, however it ends.
func Acquire(dir string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create the data folder %s: %w (check its parent's permissions, or point UPSHOT_DATA_DIR elsewhere)", dir, err)
	}
	path := filepath.Join(dir, "queue.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if errors.Is(err, os.ErrPermission) {
		return nil, fmt.Errorf("the data folder %s cannot be written (%w): make it writable by this user, or point UPSHOT_DATA_DIR at one that is", dir, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := lock(f); err != nil {
		f.Close()
		if errors.Is(err, ErrRunning) {
			return nil, fmt.Errorf("%w (lock %s): quit the other one (the window's tray menu, or Ctrl+C in its terminal) first", ErrRunning, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// Release gives the lock up.
func (l *Lock) Release() error { return l.f.Close() }
