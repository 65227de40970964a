// Package store is Upshot's embedded database: the durable job queue, the
// upload history, and the little state that must survive restarts (folder
// watermarks, the paused flag). It knows nothing about S3.
//
// A file becomes a [Job] the moment it is seen, and the job is committed here
// before any upload starts. Jobs move
//
//	queued → uploading → done | failed (due again at NextAttempt) | rejected (final until Retry)
//
// and each move is one transaction. [Store.Claim] hands a due job to exactly
// one worker, across goroutines and across processes sharing the file.
// [Store.Complete] marks a job done and writes its history [Entry] in the same
// transaction, so history and queue never disagree. After a crash,
// [Store.Recover] returns every job left uploading to the queue.
//
// # Concurrency
//
// A *Store is safe for use by any number of goroutines, and several processes
// may open the same file. Writes are serialised: within a process by a
// semaphore that honours the caller's context, across processes by SQLite's
// write lock (every transaction begins IMMEDIATE; waits are bounded by a 10 s
// busy timeout). Reads run concurrently with writes (WAL mode) and see the
// last committed state. A transition whose context is cancelled does not
// happen; callers recording an outcome during shutdown should pass
// context.WithoutCancel(ctx).
//
// # Durability
//
// The database runs in WAL mode with synchronous=NORMAL. A commit is in the
// WAL before it returns, so a process crash (SIGKILL included) loses nothing
// that was committed. Only an OS crash or power cut can roll back the last
// few commits, and never leaves the file inconsistent; the flow tolerates
// that: a job that reverts to queued or uploading is uploaded again, and
// [Store.FindUploaded] plus the uploader's no-overwrite put make that
// idempotent, while a lost enqueue is found again by the watcher's catch-up
// scan, whose watermark rolls back with it. FULL would add an fsync to every
// commit for no gain in consistency.
//
// No credentials are stored here. [Store.Complete] refuses URLs that carry
// them (presigned query strings, user:password@): presigned links are made on
// demand and never written to history.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the cgo-free "sqlite" driver
)

// ErrNotFound is returned when a job or history entry does not exist.
var ErrNotFound = errors.New("not found")

// ErrWrongState is returned when a transition does not apply to a job's
// current state, such as completing a job that is no longer uploading.
var ErrWrongState = errors.New("wrong state")

// busyTimeout bounds how long a statement waits for another process's lock.
const busyTimeout = 10 * time.Second

// Store is an open Upshot database. See the package documentation for its
// concurrency rules.
type Store struct {
	db   *sql.DB
	path string
	// writer is a one-slot semaphore that serialises this process's write
	// transactions, so in-process writers queue in Go (and can give up when
	// their context ends) instead of polling SQLite's busy handler.
	writer chan struct{}
	stmts  statements
}

// Open opens the database at path, creating it and its parent directory
// (mode 0700) when missing, and applies any pending migrations in one
// transaction. The file is made private (0600) to its owner; SQLite gives its
// -wal and -shm companions the same mode. path must name a file on a local
// disk: WAL mode needs shared memory, which network file systems lack.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("open store: empty path")
	}
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("open store %s: the path must not contain '?'", path)
	}
	if err := prepareFile(path); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	dsn := path + "?_txlock=immediate" +
		fmt.Sprintf("&_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()) +
		"&_pragma=foreign_keys(1)" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// Writers hold one connection at a time (see Store.writer); the rest
	// serve concurrent readers.
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	s := &Store{db: db, path: path, writer: make(chan struct{}, 1)}
	if err := s.init(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open store %s: %w", path, err), db.Close())
	}
	return s, nil
}

// prepareFile creates path's directory (0700) and the file itself (0600), so
// that SQLite, which copies the database's mode to its -wal and -shm files,
// never creates anything readable by others. An existing file that others
// can read is tightened.
func prepareFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if runtime.GOOS == "windows" {
		return nil // modes mean little there; the user profile is private
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}

// init checks the connection settings and migrates the schema.
func (s *Store) init(ctx context.Context) error {
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, not WAL (is the data directory on a network drive? keep it on a local disk)", mode)
	}
	return s.migrate(ctx)
}

// Close closes the database. Jobs still uploading stay so until the next
// [Store.Recover] or a transition.
func (s *Store) Close() error {
	s.stmts.close()
	return s.db.Close()
}

// inTx runs fn in one write transaction (BEGIN IMMEDIATE) and commits it. On
// an error from fn it rolls back and returns fn's error joined with any
// rollback error; on a panic it rolls back and panics again. fn must use only
// tx, never s.db.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	select {
	case s.writer <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.writer }()

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		// ErrTxDone: database/sql already rolled back for a dead context.
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("rollback: %w", rbErr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// toDB turns a time into the stored form: Unix nanoseconds, 0 for the zero
// time. Nanoseconds keep file modification times exact.
func toDB(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromDB is the inverse of toDB.
func fromDB(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}
