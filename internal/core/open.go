package core

import (
	"context"
	"path/filepath"

	"upshot/internal/store"
)

// DBName is the database's file name in the data folder.
const DBName = "upshot.db"

// OpenStore opens the queue and history in dataDir without taking the
// queue. A failure is a *store.Trouble that says what to do, unless ctx
// ended.
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
