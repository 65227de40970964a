package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
	"unicode/utf8"
)

// State is where a job stands.
type State string

// The job states. A job goes queued → uploading → done, failed or rejected.
// A failed job is due again at its NextAttempt; a rejected one waits for the
// user's [Store.Retry].
const (
	StateQueued    State = "queued"
	StateUploading State = "uploading"
	StateDone      State = "done"
	StateFailed    State = "failed"
	StateRejected  State = "rejected"
)

// States lists every state, in flow order.
var States = []State{StateQueued, StateUploading, StateDone, StateFailed, StateRejected}

// Source is how a file reached Upshot.
type Source string

// The sources of files.
const (
	SourceWatch     Source = "watch"     // a watched folder
	SourceDrop      Source = "drop"      // drag and drop onto the window
	SourceClipboard Source = "clipboard" // an image from the clipboard
	SourceCLI       Source = "cli"       // upshot upload FILE…, or the tray's file picker
	SourcePhone     Source = "phone"     // the phone inbox, straight to the bucket or relayed
	SourceCapture   Source = "capture"   // a screenshot Upshot took (upshot capture, the menus, a hotkey)
)

func (s Source) valid() bool {
	switch s {
	case SourceWatch, SourceDrop, SourceClipboard, SourceCLI, SourcePhone, SourceCapture:
		return true
	}
	return false
}

// Job is one file waiting for, going through, or done with an upload.
type Job struct {
	ID      int64
	Path    string // the local file
	Source  Source
	State   State
	Size    int64     // the file's size when it was seen
	ModTime time.Time // the file's modification time when it was seen; zero if none
	// Attempts counts claims: a job's first upload runs with Attempts 1.
	Attempts int
	// NextAttempt is when a queued or failed job is due.
	NextAttempt time.Time
	// LastError is the last failure's text, or the rejection reason.
	LastError string
	// Dismissed is set on a rejected job the user cleared from view.
	Dismissed bool
	Created   time.Time
	Updated   time.Time
}

const jobColumns = `id, path, source, state, size, mod_time, attempts, next_attempt, last_error, dismissed, created, updated`

func scanJob(r scanner) (Job, error) {
	var (
		j                           Job
		mod, next, created, updated int64
	)
	err := r.Scan(&j.ID, &j.Path, &j.Source, &j.State, &j.Size, &mod, &j.Attempts, &next, &j.LastError, &j.Dismissed, &created, &updated)
	j.ModTime, j.NextAttempt, j.Created, j.Updated = fromDB(mod), fromDB(next), fromDB(created), fromDB(updated)
	return j, err
}

// Begin records a new job for the file at path that is already being
// uploaded by the caller (the command line, which uploads at once rather
// than through the queue's workers): it starts in the uploading state with
// one attempt, and ends with Complete, Fail or Reject like any claimed job.
func (s *Store) Begin(ctx context.Context, path string, size int64, mod time.Time, src Source) (Job, error) {
	if err := checkNewJob("begin", path, size, src); err != nil {
		return Job{}, err
	}
	now := toDB(time.Now())
	var j Job
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		j, err = scanJob(s.queryRow(ctx, tx, `INSERT INTO jobs
			(path, source, state, size, mod_time, attempts, next_attempt, created, updated)
			VALUES (?, ?, 'uploading', ?, ?, 1, ?, ?, ?)
			RETURNING `+jobColumns, path, src, size, toDB(mod), now, now, now))
		return err
	})
	if err != nil {
		return Job{}, fmt.Errorf("begin %s: %w", path, err)
	}
	return j, nil
}

// checkNewJob refuses a job that could never be uploaded.
func checkNewJob(verb, path string, size int64, src Source) error {
	switch {
	case path == "":
		return errors.New(verb + ": empty path")
	case size < 0:
		return fmt.Errorf("%s %s: negative size %d", verb, path, size)
	case !src.valid():
		return fmt.Errorf("%s %s: unknown source %q", verb, path, src)
	}
	return nil
}

// Enqueue records a new queued job for the file at path, due now. If a job
// for the same path, size, modification time and source is still pending
// (queued, uploading or failed), Enqueue returns that job instead of adding
// another, so repeated events for one file make one job.
func (s *Store) Enqueue(ctx context.Context, path string, size int64, mod time.Time, src Source) (Job, error) {
	if err := checkNewJob("enqueue", path, size, src); err != nil {
		return Job{}, err
	}
	now := toDB(time.Now())
	var j Job
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		j, err = scanJob(s.queryRow(ctx, tx, `SELECT `+jobColumns+` FROM jobs
			WHERE path = ? AND size = ? AND mod_time = ? AND source = ?
			  AND state IN ('queued', 'uploading', 'failed')
			ORDER BY id LIMIT 1`, path, size, toDB(mod), src))
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		j, err = scanJob(s.queryRow(ctx, tx, `INSERT INTO jobs
			(path, source, state, size, mod_time, attempts, next_attempt, created, updated)
			VALUES (?, ?, 'queued', ?, ?, 0, ?, ?, ?)
			RETURNING `+jobColumns, path, src, size, toDB(mod), now, now, now))
		return err
	})
	if err != nil {
		return Job{}, fmt.Errorf("enqueue %s: %w", path, err)
	}
	return j, nil
}

// Claim atomically takes the oldest due job — queued, or failed with
// NextAttempt at or before now — marks it uploading, counts the attempt, and
// returns it. ok is false when nothing is due. Each due job goes to exactly
// one caller, whichever goroutine or process asks. Whether to claim while
// paused is the caller's decision (see [Store.Paused]).
func (s *Store) Claim(ctx context.Context, now time.Time) (job Job, ok bool, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		job, err = scanJob(s.queryRow(ctx, tx, `UPDATE jobs
			SET state = 'uploading', attempts = attempts + 1, updated = ?1
			WHERE id = (
				-- The planner prefers jobs_state and then sorts every
				-- pending job; the partial index is already in due order.
				SELECT id FROM jobs INDEXED BY jobs_due
				WHERE state IN ('queued', 'failed')
				  AND (state = 'queued' OR next_attempt <= ?1)
				ORDER BY next_attempt, id
				LIMIT 1)
			RETURNING `+jobColumns, toDB(now)))
		return err
	})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Job{}, false, nil
	case err != nil:
		return Job{}, false, fmt.Errorf("claim a job: %w", err)
	}
	return job, true, nil
}

// Complete records a finished upload: in one transaction the job, which must
// be uploading, becomes done and e is added to the history. Complete fills
// e's JobID and Source from the job, File from the job's path when empty,
// Time with now when zero, and OriginalSHA1 and OriginalSize from SHA1 and
// Size when OriginalSHA1 is empty. SHA1s are stored as lower-case hex. A URL
// carrying credentials is refused. It returns the stored entry, with its ID.
func (s *Store) Complete(ctx context.Context, jobID int64, e Entry) (Entry, error) {
	e.SHA1 = strings.ToLower(e.SHA1)
	e.OriginalSHA1 = strings.ToLower(e.OriginalSHA1)
	if e.OriginalSHA1 == "" {
		e.OriginalSHA1, e.OriginalSize = e.SHA1, e.Size
	}
	switch {
	case e.Key == "":
		return Entry{}, fmt.Errorf("complete job %d: empty key", jobID)
	case !isSHA1(e.SHA1) || !isSHA1(e.OriginalSHA1):
		return Entry{}, fmt.Errorf("complete job %d: SHA1 must be 40 hex digits", jobID)
	case e.Size < 0 || e.OriginalSize < 0:
		return Entry{}, fmt.Errorf("complete job %d: negative size", jobID)
	}
	if err := checkURL(e.URL); err != nil {
		return Entry{}, fmt.Errorf("complete job %d: %w", jobID, err)
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.DeletedAt = time.Time{}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var (
			state State
			path  string
		)
		err := s.queryRow(ctx, tx, `SELECT state, path, source FROM jobs WHERE id = ?`, jobID).
			Scan(&state, &path, &e.Source)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if state != StateUploading {
			return fmt.Errorf("%w: it is %s, not uploading", ErrWrongState, state)
		}
		e.JobID = jobID
		if e.File == "" {
			e.File = path
		}
		if err := s.queryRow(ctx, tx, `INSERT INTO history
			(job_id, file, key, url, sha1, size, original_sha1, original_size,
			 content_type, source, time, deduplicated, link_status, search)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			RETURNING id`,
			e.JobID, e.File, e.Key, e.URL, e.SHA1, e.Size, e.OriginalSHA1, e.OriginalSize,
			e.ContentType, e.Source, toDB(e.Time), e.Deduplicated, e.LinkStatus, searchText(e),
		).Scan(&e.ID); err != nil {
			return err
		}
		_, err = s.exec(ctx, tx, `UPDATE jobs SET state = 'done', updated = ? WHERE id = ?`, toDB(time.Now()), jobID)
		return err
	})
	if err != nil {
		return Entry{}, fmt.Errorf("complete job %d: %w", jobID, err)
	}
	return e, nil
}

// clip cuts s to at most 4 KiB on a UTF-8 boundary, so an error that quotes
// a whole response body cannot bloat the database.
func clip(s string) string {
	const limit = 4 << 10 // bytes
	if len(s) <= limit {
		return s
	}
	n := limit
	for n > 0 && !utf8.RuneStart(s[n]) { // s[n] is the first byte dropped
		n--
	}
	return s[:n] + "…"
}

// isSHA1 reports whether s is 40 lower-case hex digits.
func isSHA1(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Fail records a failed attempt of an uploading job: it becomes failed with
// errText (clipped to 4 KiB) as LastError and is due again at retryAt (see
// [Backoff]).
func (s *Store) Fail(ctx context.Context, jobID int64, errText string, retryAt time.Time) error {
	return s.move(ctx, "fail", jobID, []State{StateUploading},
		`state = 'failed', last_error = ?, next_attempt = ?, updated = ?`,
		clip(errText), toDB(retryAt), toDB(time.Now()))
}

// Reject makes a queued, uploading or failed job rejected, with reason
// (clipped to 4 KiB) as its LastError. It stays so until [Store.Retry].
func (s *Store) Reject(ctx context.Context, jobID int64, reason string) error {
	return s.move(ctx, "reject", jobID, []State{StateQueued, StateUploading, StateFailed},
		`state = 'rejected', last_error = ?, updated = ?`,
		clip(reason), toDB(time.Now()))
}

// Release puts an uploading job back in the queue without counting the
// attempt, for a worker that stops (shutdown, pause) before it finishes.
func (s *Store) Release(ctx context.Context, jobID int64) error {
	return s.move(ctx, "release", jobID, []State{StateUploading},
		`state = 'queued', attempts = max(attempts - 1, 0), updated = ?`,
		toDB(time.Now()))
}

// Retry makes a failed or rejected job queued and due now, keeping its
// attempt count and last error, and undoes a dismissal.
func (s *Store) Retry(ctx context.Context, jobID int64) error {
	now := toDB(time.Now())
	return s.move(ctx, "retry", jobID, []State{StateFailed, StateRejected},
		`state = 'queued', next_attempt = ?, dismissed = 0, updated = ?`,
		now, now)
}

// Dismiss hides a rejected job from [Store.Jobs] and [Store.Counts]. A
// dismissed job no longer counts for [Store.SeenFile], so the watcher may
// offer the same file again.
func (s *Store) Dismiss(ctx context.Context, jobID int64) error {
	return s.move(ctx, "dismiss", jobID, []State{StateRejected},
		`dismissed = 1, updated = ?`, toDB(time.Now()))
}

// move applies set to job id if its state is one of from, in one
// transaction; otherwise it says why not.
func (s *Store) move(ctx context.Context, op string, id int64, from []State, set string, args ...any) error {
	in := strings.Repeat("?, ", len(from)-1) + "?"
	args = append(args, id)
	for _, st := range from {
		args = append(args, st)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE jobs SET `+set+` WHERE id = ? AND state IN (`+in+`)`, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		return stateError(ctx, tx, id, from)
	})
	if err != nil {
		return fmt.Errorf("%s job %d: %w", op, id, err)
	}
	return nil
}

// stateError explains why job id was not in one of the states want.
func stateError(ctx context.Context, tx *sql.Tx, id int64, want []State) error {
	var got State
	err := tx.QueryRowContext(ctx, `SELECT state FROM jobs WHERE id = ?`, id).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	names := make([]string, len(want))
	for i, st := range want {
		names[i] = string(st)
	}
	return fmt.Errorf("%w: it is %s, not %s", ErrWrongState, got, strings.Join(names, " or "))
}

// Recover returns every uploading job to the queue and reports how many
// there were. Call it once at start, before any worker claims, from the one
// process that runs uploads: jobs another live process is uploading would be
// queued again too. Attempts are kept, so a file that crashes the uploader
// still backs off.
func (s *Store) Recover(ctx context.Context) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE jobs SET state = 'queued', updated = ? WHERE state = 'uploading'`, toDB(time.Now()))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("recover uploading jobs: %w", err)
	}
	return int(n), nil
}

// NextDue reports the earliest NextAttempt among queued and failed jobs,
// for a timer that wakes the workers (a queued job is due at once); ok is
// false when no job is waiting.
func (s *Store) NextDue(ctx context.Context) (t time.Time, ok bool, err error) {
	var ns sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT min(next_attempt) FROM jobs INDEXED BY jobs_due WHERE state IN ('queued', 'failed')`).Scan(&ns); err != nil {
		return time.Time{}, false, fmt.Errorf("next due job: %w", err)
	}
	if !ns.Valid {
		return time.Time{}, false, nil
	}
	return fromDB(ns.Int64), true, nil
}

// Job returns the job with the given ID, or an error wrapping [ErrNotFound].
func (s *Store) Job(ctx context.Context, id int64) (Job, error) {
	j, err := scanJob(s.db.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return Job{}, fmt.Errorf("job %d: %w", id, err)
	}
	return j, nil
}

// Jobs lists the jobs in state st, newest first, at most limit of them
// (limit ≤ 0: all). Dismissed jobs are left out.
func (s *Store) Jobs(ctx context.Context, st State, limit int) ([]Job, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+jobColumns+` FROM jobs
		WHERE state = ? AND dismissed = 0 ORDER BY id DESC LIMIT ?`, st, limit)
	if err != nil {
		return nil, fmt.Errorf("list %s jobs: %w", st, err)
	}
	defer rows.Close()
	var jobs []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("list %s jobs: %w", st, err)
		}
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s jobs: %w", st, err)
	}
	return jobs, nil
}

// Counts reports how many jobs are in each state; every state is present.
// Dismissed jobs are not counted.
func (s *Store) Counts(ctx context.Context) (map[State]int, error) {
	counts := make(map[State]int, len(States))
	for _, st := range States {
		counts[st] = 0
	}
	rows, err := s.db.QueryContext(ctx, `SELECT state, count(*) FROM jobs WHERE dismissed = 0 GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			st State
			n  int
		)
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("count jobs: %w", err)
		}
		counts[st] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	return counts, nil
}

// SeenFile reports whether any job exists for the file at path with this size
// and modification time, whatever its state, except rejected jobs the user
// dismissed. The watcher's catch-up scan uses it to skip files it already
// handed over.
func (s *Store) SeenFile(ctx context.Context, path string, size int64, mod time.Time) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM jobs
		WHERE path = ? AND size = ? AND mod_time = ? AND NOT (state = 'rejected' AND dismissed = 1)
		LIMIT 1`, path, size, toDB(mod)).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("seen file %s: %w", path, err)
	}
	return true, nil
}

// Backoff is how long to wait before attempt number attempt+1, after attempt
// number attempt (1 for the first) failed: exponential with full jitter,
// uniformly random in [0, min(10 min, 2 s × 2^(attempt−1))). It is safe for
// concurrent use.
func Backoff(attempt int) time.Duration {
	const (
		base    = 2 * time.Second
		ceiling = 10 * time.Minute
	)
	attempt = max(attempt, 1)
	d := ceiling
	if attempt <= 20 { // 2 s << 19 is far past the ceiling; beyond, shifts overflow
		d = min(base<<(attempt-1), ceiling)
	}
	return rand.N(d)
}
