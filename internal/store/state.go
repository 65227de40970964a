package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// Watermark returns the newest file modification time the watcher has
// handed over for dir (zero if none), so its catch-up scan after a restart
// or an overflow can skip older files.
func (s *Store) Watermark(ctx context.Context, dir string) (time.Time, error) {
	var ns int64
	err := s.db.QueryRowContext(ctx, `SELECT time FROM watermarks WHERE dir = ?`, filepath.Clean(dir)).Scan(&ns)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return time.Time{}, nil
	case err != nil:
		return time.Time{}, fmt.Errorf("watermark of %s: %w", dir, err)
	}
	return fromDB(ns), nil
}

// SetWatermark advances dir's watermark to t. It never moves it back, so
// workers finishing out of order cannot lose ground.
func (s *Store) SetWatermark(ctx context.Context, dir string, t time.Time) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO watermarks (dir, time) VALUES (?, ?)
			ON CONFLICT (dir) DO UPDATE SET time = max(time, excluded.time)`, filepath.Clean(dir), toDB(t))
		return err
	})
	if err != nil {
		return fmt.Errorf("set watermark of %s: %w", dir, err)
	}
	return nil
}

// settingPaused is the settings key of the paused flag.
const settingPaused = "paused"

// Paused reports whether the user paused uploads. The flag is shared by
// every process using the database; workers check it before they claim.
func (s *Store) Paused(ctx context.Context) (bool, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, settingPaused).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read paused flag: %w", err)
	}
	return v == "1", nil
}

// SetPaused pauses or resumes uploads.
func (s *Store) SetPaused(ctx context.Context, paused bool) error {
	v := "0"
	if paused {
		v = "1"
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, settingPaused, v)
		return err
	})
	if err != nil {
		return fmt.Errorf("set paused flag: %w", err)
	}
	return nil
}
