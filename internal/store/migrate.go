package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are the schema, one step per version: migrations[i] takes the
// database from user_version i to i+1. Append new steps; never edit a
// released one.
//
// Times are INTEGER Unix nanoseconds (0 or NULL: none). Every table is
// STRICT, so a wrong type is an error rather than a silent coercion.
var migrations = []migration{
	// 1: jobs, history, watermarks, settings.
	sqlSteps(
		`CREATE TABLE jobs (
			id           INTEGER PRIMARY KEY,
			path         TEXT    NOT NULL,
			source       TEXT    NOT NULL CHECK (source IN ('watch', 'drop', 'clipboard', 'cli')),
			state        TEXT    NOT NULL CHECK (state IN ('queued', 'uploading', 'done', 'failed', 'rejected')),
			size         INTEGER NOT NULL CHECK (size >= 0),
			mod_time     INTEGER NOT NULL,
			attempts     INTEGER NOT NULL DEFAULT 0,
			next_attempt INTEGER NOT NULL,
			last_error   TEXT    NOT NULL DEFAULT '',
			dismissed    INTEGER NOT NULL DEFAULT 0 CHECK (dismissed IN (0, 1)),
			created      INTEGER NOT NULL,
			updated      INTEGER NOT NULL
		) STRICT`,
		// Claim: the oldest due job, queued or failed.
		`CREATE INDEX jobs_due ON jobs (next_attempt, id) WHERE state IN ('queued', 'failed')`,
		// Counts, lists by state, Recover.
		`CREATE INDEX jobs_state ON jobs (state, id)`,
		// SeenFile and Enqueue's duplicate check.
		`CREATE INDEX jobs_file ON jobs (path, size, mod_time)`,

		`CREATE TABLE history (
			id            INTEGER PRIMARY KEY,
			job_id        INTEGER REFERENCES jobs (id) ON DELETE SET NULL,
			file          TEXT    NOT NULL,
			key           TEXT    NOT NULL,
			url           TEXT    NOT NULL,
			sha1          TEXT    NOT NULL,
			size          INTEGER NOT NULL,
			original_sha1 TEXT    NOT NULL,
			original_size INTEGER NOT NULL,
			content_type  TEXT    NOT NULL,
			source        TEXT    NOT NULL CHECK (source IN ('watch', 'drop', 'clipboard', 'cli')),
			time          INTEGER NOT NULL,
			deduplicated  INTEGER NOT NULL DEFAULT 0 CHECK (deduplicated IN (0, 1)),
			link_status   TEXT    NOT NULL DEFAULT '',
			deleted_at    INTEGER,
			search        TEXT    NOT NULL
		) STRICT`,
		// History pages, newest first (scanned backwards).
		`CREATE INDEX history_time ON history (time, id)`,
		// FindUploaded and FindByContent, by uploaded or by original content.
		`CREATE INDEX history_sha1 ON history (sha1, size)`,
		`CREATE INDEX history_original ON history (original_sha1, original_size)`,
		`CREATE INDEX history_key ON history (key)`,
		// One entry per job; also the foreign key's child index.
		`CREATE UNIQUE INDEX history_job ON history (job_id)`,

		`CREATE TABLE watermarks (
			dir  TEXT    PRIMARY KEY,
			time INTEGER NOT NULL
		) STRICT, WITHOUT ROWID`,
		`CREATE TABLE settings (
			key   TEXT PRIMARY KEY,
			value TEXT NOT NULL
		) STRICT, WITHOUT ROWID`,
	),
	// 2: the phone inbox's source, 'phone'.
	loosenChecks(`'cli')`, `'cli', 'phone')`, "jobs", "history"),
	// 3: captures Upshot takes itself, 'capture'.
	loosenChecks(`'phone')`, `'phone', 'capture')`, "jobs", "history"),
}

// migration is one step of the schema.
type migration func(ctx context.Context, tx *sql.Tx) error

// sqlSteps is a step of plain SQL statements.
func sqlSteps(stmts ...string) migration {
	return func(ctx context.Context, tx *sql.Tx) error {
		for _, stmt := range stmts {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
		return nil
	}
}

// loosenChecks replaces old with new in the CREATE TABLE text of tables,
// to widen a CHECK constraint: rows that passed the old check pass the new
// one, so SQLite's documented way of changing constraints in place
// applies (writable_schema, then a new schema_version so that every
// connection reads the schema again), without copying the tables, whose
// rows (and history's links to jobs) stay as they are.
func loosenChecks(old, new string, tables ...string) migration {
	return func(ctx context.Context, tx *sql.Tx) error {
		var version int
		if err := tx.QueryRowContext(ctx, "PRAGMA schema_version").Scan(&version); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "PRAGMA writable_schema = ON"); err != nil {
			return err
		}
		for _, table := range tables {
			res, err := tx.ExecContext(ctx, `UPDATE sqlite_schema SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = ?`, old, new, table)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return fmt.Errorf("widen the checks of table %s: %d rows changed (%v)", table, n, err)
			}
		}
		// PRAGMA takes no bound parameters; the value is SQLite's own integer.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA schema_version = %d", version+1)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "PRAGMA writable_schema = OFF")
		return err
	}
}

// migrate brings the schema to the newest version in one transaction.
// PRAGMA user_version, kept in the database header, records the version and
// changes atomically with the schema; BEGIN IMMEDIATE makes a second process
// opening the same file wait and then find nothing left to do.
func (s *Store) migrate(ctx context.Context) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var v int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if v > len(migrations) {
			return fmt.Errorf("schema version %d is newer than this Upshot knows (%d): upgrade Upshot", v, len(migrations))
		}
		for i := v; i < len(migrations); i++ {
			if err := migrations[i](ctx, tx); err != nil {
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
		}
		if v == len(migrations) {
			return nil
		}
		// PRAGMA takes no bound parameters; the value is our own integer.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
			return fmt.Errorf("write schema version: %w", err)
		}
		return nil
	})
}

// schemaVersion reports the database's schema version (its user_version).
func (s *Store) schemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}
