package core

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"upshot/internal/instance"
	"upshot/internal/store"
)

// Queue is the queue and history opened for running: this process holds
// the instance lock, so it alone works the queue, and jobs an earlier run
// left uploading are queued again. Close it when done.
type Queue struct {
	Store *store.Store
	// Recovered is how many interrupted uploads were queued again.
	Recovered int
	lock      *instance.Lock
}

// DBName is the database's file name in the data folder.
const DBName = "upshot.db"

// OpenStore opens the queue and history in dataDir without taking the
// queue, for reading the history and for one-off work. A failure is a
// *store.Trouble that says what to do, unless ctx ended.
func OpenStore(ctx context.Context, dataDir string) (*store.Store, error) {
	path := filepath.Join(dataDir, DBName)
	st, err := store.Open(ctx, path)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, store.Diagnose(err, path)
	}
	return st, nil
}

// OpenQueue takes the instance lock in dataDir (failing with
// instance.ErrRunning when the window or "upshot watch" holds it), opens
// the store, and queues again the jobs an earlier run left uploading. Both
// front ends start this way.
func OpenQueue(ctx context.Context, dataDir string) (*Queue, error) {
	lock, err := instance.Acquire(dataDir)
	if err != nil {
		return nil, err
	}
	st, err := OpenStore(ctx, dataDir)
	if err != nil {
		return nil, errors.Join(err, lock.Release())
	}
	n, err := st.Recover(ctx)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("queue interrupted uploads again: %w", store.Diagnose(err, st.Path())), st.Close(), lock.Release())
	}
	return &Queue{Store: st, Recovered: n, lock: lock}, nil
}

// Close closes the store and gives the queue up.
func (q *Queue) Close() error {
	return errors.Join(q.Store.Close(), q.lock.Release())
}
