package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Entry is one upload in the history.
type Entry struct {
	ID    int64
	JobID int64  // the job that made it; 0 if that job is gone
	File  string // the local file's path
	Key   string // the object key
	URL   string // the public link, never a presigned one
	// SHA1 (lower-case hex) and Size describe the uploaded content.
	SHA1 string
	Size int64
	// OriginalSHA1 and OriginalSize describe the local file, which differs
	// from the uploaded content when metadata was stripped.
	OriginalSHA1 string
	OriginalSize int64
	ContentType  string
	Source       Source
	Time         time.Time // when the upload was confirmed
	// Deduplicated is set when an existing object was reused instead of
	// uploading the content again.
	Deduplicated bool
	// LinkStatus is free text about the link, such as "link verified".
	LinkStatus string
	// DeletedAt is when the object was deleted from the bucket; zero if not.
	DeletedAt time.Time
}

// Query selects a page of history.
type Query struct {
	// Search, if not empty, keeps entries whose file name, key or URL
	// contains it, ignoring case.
	Search string
	// Limit caps the number of entries (≤ 0: no cap); Offset skips that many
	// first.
	Limit, Offset int
	// IncludeDeleted also returns entries whose object was deleted.
	IncludeDeleted bool
}

const entryColumns = `id, job_id, file, key, url, sha1, size, original_sha1, original_size,
	content_type, source, time, deduplicated, link_status, deleted_at`

func scanEntry(r scanner) (Entry, error) {
	var (
		e              Entry
		jobID, deleted sql.NullInt64
		t              int64
	)
	err := r.Scan(&e.ID, &jobID, &e.File, &e.Key, &e.URL, &e.SHA1, &e.Size, &e.OriginalSHA1, &e.OriginalSize,
		&e.ContentType, &e.Source, &t, &e.Deduplicated, &e.LinkStatus, &deleted)
	e.JobID = jobID.Int64
	e.Time = fromDB(t)
	e.DeletedAt = fromDB(deleted.Int64)
	return e, err
}

// searchText is what Query.Search looks in: the file's name, the key and
// the URL, lower-cased here because SQLite's own lower() knows only ASCII.
func searchText(e Entry) string {
	return strings.ToLower(filepath.Base(e.File) + "\n" + e.Key + "\n" + e.URL)
}

// History returns entries matching q, newest first.
func (s *Store) History(ctx context.Context, q Query) ([]Entry, error) {
	var (
		where []string
		args  []any
	)
	if !q.IncludeDeleted {
		where = append(where, "deleted_at IS NULL")
	}
	if q.Search != "" {
		// instr, unlike LIKE, has no wildcards to escape.
		where = append(where, "instr(search, ?) > 0")
		args = append(args, strings.ToLower(q.Search))
	}
	query := `SELECT ` + entryColumns + ` FROM history`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = -1
	}
	query += ` ORDER BY time DESC, id DESC LIMIT ? OFFSET ?`
	args = append(args, limit, max(q.Offset, 0))
	return s.entries(ctx, "history", query, args...)
}

func (s *Store) entries(ctx context.Context, what, query string, args ...any) ([]Entry, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var es []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return es, nil
}

// FindUploaded returns the newest live (not deleted) entry from source whose
// uploaded or original content has this SHA1 and size: the same content from
// the same source is done already and need not be uploaded again.
func (s *Store) FindUploaded(ctx context.Context, sha1 string, size int64, source Source) (Entry, bool, error) {
	return s.findOne(ctx, "find uploaded "+sha1,
		`source = ?1 AND ((sha1 = ?2 AND size = ?3) OR (original_sha1 = ?2 AND original_size = ?3))`,
		source, strings.ToLower(sha1), size)
}

// FindByContent is [Store.FindUploaded] for any source, preferring
// entries from source prefer ("" for none): an object with this content
// exists and its key and link can be reused. One query answers both
// questions an upload asks.
func (s *Store) FindByContent(ctx context.Context, sha1 string, size int64, prefer Source) (Entry, bool, error) {
	return s.findOrdered(ctx, "find by content "+sha1,
		`(sha1 = ?1 AND size = ?2) OR (original_sha1 = ?1 AND original_size = ?2)`, `source = ?3 DESC, `,
		strings.ToLower(sha1), size, prefer)
}

// FindByKey returns the newest live entry whose object has this key.
func (s *Store) FindByKey(ctx context.Context, key string) (Entry, bool, error) {
	return s.findOne(ctx, "find key "+key, `key = ?`, key)
}

func (s *Store) findOne(ctx context.Context, what, cond string, args ...any) (Entry, bool, error) {
	return s.findOrdered(ctx, what, cond, "", args...)
}

// findOrdered is findOne with first ordering terms before the newest-first
// order.
func (s *Store) findOrdered(ctx context.Context, what, cond, order string, args ...any) (Entry, bool, error) {
	e, err := scanEntry(s.queryRow(ctx, nil, `SELECT `+entryColumns+` FROM history
		WHERE deleted_at IS NULL AND (`+cond+`)
		ORDER BY `+order+`time DESC, id DESC LIMIT 1`, args...))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Entry{}, false, nil
	case err != nil:
		return Entry{}, false, fmt.Errorf("%s: %w", what, err)
	}
	return e, true, nil
}

// MarkDeleted records that the object of entry entryID was deleted from the
// bucket at at (zero: now). Every live entry with the same key is marked
// too, since deduplicated entries share the object; it reports how many
// entries were marked. Marked entries leave History (unless asked for) and
// are never offered for reuse.
func (s *Store) MarkDeleted(ctx context.Context, entryID int64, at time.Time) (int, error) {
	if at.IsZero() {
		at = time.Now()
	}
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var key string
		err := tx.QueryRowContext(ctx, `SELECT key FROM history WHERE id = ?`, entryID).Scan(&key)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE history SET deleted_at = ?
			WHERE deleted_at IS NULL AND (id = ? OR key = ?)`, toDB(at), entryID, key)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("mark entry %d deleted: %w", entryID, err)
	}
	return int(n), nil
}

// SetLinkStatus sets the LinkStatus of entry entryID.
func (s *Store) SetLinkStatus(ctx context.Context, entryID int64, status string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE history SET link_status = ? WHERE id = ?`, status, entryID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		return ErrNotFound
	})
	if err != nil {
		return fmt.Errorf("set link status of entry %d: %w", entryID, err)
	}
	return nil
}

// checkURL refuses a URL that carries credentials: a password in its user
// information, or a presigned query string. The error does not repeat the
// URL, which would leak what it refuses to store.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("the URL does not parse")
	}
	if _, ok := u.User.Password(); ok {
		return errors.New("the URL carries a password: store the plain public link")
	}
	for k := range u.Query() {
		switch strings.ToLower(k) {
		case "x-amz-signature", "x-amz-credential", "x-amz-security-token",
			"signature", "awsaccesskeyid", "authorization":
			return errors.New("the URL is presigned: store the plain public link; presigned links are made on demand")
		}
	}
	return nil
}
