package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"modernc.org/sqlite"
)

// Trouble is a store failure explained for the user: what is wrong with
// the database, what to do about it, and whether Upshot can carry on.
type Trouble struct {
	Err    error
	What   string
	Advice string
	// Unusable means the database cannot be used at all (damaged, or not
	// a database): nothing will get better by waiting.
	Unusable bool
}

func (t *Trouble) Error() string { return t.What + " (" + t.Advice + ")" }

func (t *Trouble) Unwrap() error { return t.Err }

// SQLite's primary result codes that Diagnose tells apart.
const (
	sqliteBusy     = 5
	sqliteLocked   = 6
	sqliteReadOnly = 8
	sqliteIOErr    = 10
	sqliteCorrupt  = 11
	sqliteFull     = 13
	sqliteCantOpen = 14
	sqliteNotADB   = 26
)

// Diagnose explains an error from the store at path (the database file),
// or returns nil for nil. It decides by SQLite's result code and the
// system's error number, never by message text.
func Diagnose(err error, path string) *Trouble {
	if err == nil {
		return nil
	}
	var t *Trouble
	if errors.As(err, &t) {
		return t
	}
	t = &Trouble{Err: err}
	code := -1
	var se *sqlite.Error
	if errors.As(err, &se) {
		code = se.Code() & 0xff
	}
	switch {
	case code == sqliteFull || errors.Is(err, syscall.ENOSPC):
		t.What = fmt.Sprintf("the disk holding the queue and history (%s) is full", path)
		t.Advice = "free some space: waiting files are kept and upload once there is room"
	case code == sqliteReadOnly || errors.Is(err, syscall.EROFS) || errors.Is(err, os.ErrPermission):
		t.What = fmt.Sprintf("the queue and history (%s) cannot be written", path)
		t.Advice = "make the data folder and its files writable by this user, or point UPSHOT_DATA_DIR at one that is"
	case code == sqliteBusy || code == sqliteLocked:
		t.What = fmt.Sprintf("another program holds the queue and history (%s) locked", path)
		t.Advice = "close the program that has it open (a database browser, a backup tool); Upshot carries on once it is free"
	case code == sqliteCorrupt || code == sqliteNotADB:
		t.What = fmt.Sprintf("the queue and history (%s) is damaged or not an Upshot database", path)
		t.Advice = "move the file aside and start Upshot again: a new one is made, and files in watched folders are found again"
		t.Unusable = true
	case code == sqliteIOErr || code == sqliteCantOpen:
		t.What = fmt.Sprintf("the queue and history (%s) cannot be read or written: %v", path, err)
		t.Advice = "check the disk and the data folder"
	default:
		t.What = fmt.Sprintf("the queue and history (%s) failed: %v", path, err)
		t.Advice = "check the disk and the data folder"
	}
	return t
}

// Path is the database file this store was opened on.
func (s *Store) Path() string { return s.path }

// settingChecked is the settings key Check writes.
const settingChecked = "checked"

// Check makes one small write, to learn whether the store takes writes
// again after a failure (a full disk, a read-only folder, a lock).
func (s *Store) Check(ctx context.Context) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, settingChecked, time.Now().UTC().Format(time.RFC3339Nano))
		return err
	})
}
