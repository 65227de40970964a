package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

func TestMain(m *testing.M) {
	// A re-executed test binary plays a second process; see process_test.go.
	if mode := os.Getenv(childModeEnv); mode != "" {
		os.Exit(runChild(mode, os.Getenv(childDBEnv)))
	}
	os.Exit(m.Run())
}

// openTest opens a fresh store in a temporary directory.
func openTest(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "upshot.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, path
}

// hexSHA1 makes a distinct well-formed SHA1 from n.
func hexSHA1(n int) string { return fmt.Sprintf("%040x", n) }

// mustEnqueue enqueues a job or fails the test.
func mustEnqueue(t testing.TB, s *Store, path string, src Source) Job {
	t.Helper()
	j, err := s.Enqueue(t.Context(), path, 100, time.Unix(1700000000, 123456789), src)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// mustClaim claims the next due job, which must be want (0: any).
func mustClaim(t testing.TB, s *Store, want int64) Job {
	t.Helper()
	j, ok, err := s.Claim(t.Context(), time.Now())
	if err != nil || !ok {
		t.Fatalf("Claim = %v, %v, %v; want a job", j, ok, err)
	}
	if want != 0 && j.ID != want {
		t.Fatalf("claimed job %d, want %d", j.ID, want)
	}
	return j
}

func entryFor(n int) Entry {
	return Entry{
		Key:         fmt.Sprintf("2025/06/shot-%05d.png", n),
		URL:         fmt.Sprintf("https://img.example.com/2025/06/shot-%05d.png", n),
		SHA1:        hexSHA1(n),
		Size:        int64(1000 + n),
		ContentType: "image/png",
	}
}

// upload runs a job through Claim and Complete.
func upload(t testing.TB, s *Store, path string, src Source, e Entry) Entry {
	t.Helper()
	j := mustEnqueue(t, s, path, src)
	mustClaim(t, s, j.ID)
	got, err := s.Complete(t.Context(), j.ID, e)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestOpenMigratesAndReopens(t *testing.T) {
	ctx := t.Context()
	s, path := openTest(t)
	if v, err := s.schemaVersion(ctx); err != nil || v != len(migrations) {
		t.Fatalf("schema version = %d, %v; want %d", v, err, len(migrations))
	}
	// Every pooled connection carries the settings; hold several at once.
	var conns []*sql.Conn
	for range 3 {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		for pragma, want := range map[string]string{
			"journal_mode": "wal",
			"foreign_keys": "1",
			"synchronous":  "1", // NORMAL
			"busy_timeout": "10000",
		} {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("conn %d: PRAGMA %s = %q, want %q", i, pragma, got, want)
			}
		}
		c.Close()
	}
	j := mustEnqueue(t, s, "/shots/a.png", SourceWatch)

	if runtime.GOOS != "windows" {
		for _, p := range []string{path, path + "-wal"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Errorf("%s has mode %o, want 600", filepath.Base(p), perm)
			}
		}
		fi, err := os.Stat(filepath.Dir(path))
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o700 {
			t.Errorf("data dir has mode %o, want 700", perm)
		}
	}

	// Re-open: idempotent, data kept.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s2, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := s2.schemaVersion(ctx); err != nil || v != len(migrations) {
			t.Errorf("reopened schema version = %d, %v", v, err)
		}
		got, err := s2.Job(ctx, j.ID)
		if err != nil || got.Path != j.Path || got.State != StateQueued {
			t.Errorf("reopened Job = %+v, %v", got, err)
		}
		if err := s2.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// openTest's cleanup closes s again: database/sql allows it.
}

func TestOpenTightensLooseFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes")
	}
	path := filepath.Join(t.TempDir(), "upshot.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil { // past the umask
		t.Fatal(err)
	}
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("mode %o, want 600", perm)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	s, path := openTest(t)
	if _, err := s.db.ExecContext(t.Context(), "PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	_, err := Open(t.Context(), path)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer schema: %v, want an error saying it is newer", err)
	}
}

func TestFailedMigrationRollsBack(t *testing.T) {
	s, path := openTest(t)
	old := migrations
	t.Cleanup(func() { migrations = old })
	migrations = append(slices.Clip(old), sqlSteps(`CREATE TABLE extra (x INTEGER)`, `THIS IS NOT SQL`))

	if _, err := Open(t.Context(), path); err == nil {
		t.Fatal("Open with a broken migration succeeded")
	}
	if v, err := s.schemaVersion(t.Context()); err != nil || v != len(old) {
		t.Errorf("schema version after failed migration = %d, %v; want %d", v, err, len(old))
	}
	var n int
	if err := s.db.QueryRowContext(t.Context(), `SELECT count(*) FROM sqlite_schema WHERE name = 'extra'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("half-applied migration left table extra (count %d, %v)", n, err)
	}
}

// TestPhoneSourceMigration: a database made before the phone inbox keeps
// its jobs and history, with their links, and takes phone uploads and
// captures after the upgrade.
func TestPhoneSourceMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.db")
	old := migrations
	migrations = old[:1]
	s, err := Open(ctx, path)
	if err != nil {
		migrations = old
		t.Fatal(err)
	}
	job, err := s.Begin(ctx, "/pics/a.png", 10, time.Time{}, SourceWatch)
	if err == nil {
		_, err = s.Complete(ctx, job.ID, Entry{Key: "a.png", URL: "https://img.example.com/a.png", SHA1: strings.Repeat("ab", 20), Size: 10})
	}
	_, phoneErr := s.Begin(ctx, "b.jpg", 10, time.Time{}, SourcePhone)
	migrations = old
	if err != nil || s.Close() != nil {
		t.Fatal(err)
	}
	if phoneErr == nil || !strings.Contains(phoneErr.Error(), "CHECK") {
		t.Fatalf("a phone job before the upgrade: %v, want the old CHECK to refuse it", phoneErr)
	}

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if v, err := s.schemaVersion(ctx); err != nil || v != len(migrations) {
		t.Fatalf("schema version %d, %v; want %d", v, err, len(migrations))
	}
	h, err := s.History(ctx, Query{})
	if err != nil || len(h) != 1 || h[0].JobID != job.ID || h[0].Source != SourceWatch {
		t.Fatalf("history after the upgrade: %+v, %v; want the old entry, still linked to job %d", h, err, job.ID)
	}
	p, err := s.Begin(ctx, "b.jpg", 10, time.Time{}, SourcePhone)
	if err == nil {
		_, err = s.Complete(ctx, p.ID, Entry{Key: "b.jpg", URL: "https://img.example.com/b.jpg", SHA1: strings.Repeat("cd", 20), Size: 10})
	}
	if err != nil {
		t.Fatalf("a phone upload after the upgrade: %v", err)
	}
	if _, err := s.Begin(ctx, "/caps/shot.png", 10, time.Time{}, SourceCapture); err != nil {
		t.Fatalf("a capture after the upgrade: %v", err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO jobs (path, source, state, size, mod_time, next_attempt, created, updated)
		VALUES ('c.jpg', 'fax', 'queued', 1, 0, 0, 0, 0)`); err == nil || !strings.Contains(err.Error(), "CHECK") {
		t.Fatalf("an unknown source: %v; want the widened CHECK to refuse it", err)
	}
	var ok string
	if err := s.db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity check: %q, %v", ok, err)
	}
}

func TestInTxRollsBack(t *testing.T) {
	s, _ := openTest(t)
	ctx := t.Context()
	insert := func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('k', 'v')`)
		return err
	}
	boom := errors.New("boom")
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := insert(tx); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("inTx = %v, want boom", err)
	}
	func() {
		defer func() {
			if p := recover(); p != "kaboom" {
				t.Errorf("recovered %v, want the panic re-raised", p)
			}
		}()
		_ = s.inTx(ctx, func(tx *sql.Tx) error {
			if err := insert(tx); err != nil {
				return err
			}
			panic("kaboom")
		})
	}()
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM settings WHERE key = 'k'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("rows after rolled-back transactions: %d, %v", n, err)
	}
	// The writer slot was released: a later write goes through.
	if err := s.inTx(ctx, insert); err != nil {
		t.Fatal(err)
	}
	// A cancelled context gives up waiting for the slot.
	s.writer <- struct{}{}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.inTx(cctx, insert); !errors.Is(err, context.Canceled) {
		t.Errorf("inTx with a dead context = %v", err)
	}
	<-s.writer
}

func TestTransitions(t *testing.T) {
	s, _ := openTest(t)
	ctx := t.Context()
	mod := time.Unix(1700000000, 987654321)

	j, err := s.Enqueue(ctx, "/shots/a.png", 42, mod, SourceWatch)
	if err != nil {
		t.Fatal(err)
	}
	if j.ID == 0 || j.State != StateQueued || j.Attempts != 0 || !j.ModTime.Equal(mod) || j.Size != 42 || j.Source != SourceWatch {
		t.Fatalf("Enqueue = %+v", j)
	}

	// queued → uploading
	c := mustClaim(t, s, j.ID)
	if c.State != StateUploading || c.Attempts != 1 {
		t.Fatalf("claimed %+v", c)
	}
	if _, ok, err := s.Claim(ctx, time.Now()); ok || err != nil {
		t.Fatalf("second Claim = %v, %v; want nothing due", ok, err)
	}

	// uploading → failed, due at retryAt
	retryAt := time.Now().Add(time.Hour)
	if err := s.Fail(ctx, j.ID, "503 SlowDown", retryAt); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Job(ctx, j.ID)
	if got.State != StateFailed || got.LastError != "503 SlowDown" || !got.NextAttempt.Equal(retryAt) {
		t.Fatalf("after Fail: %+v", got)
	}
	if next, ok, err := s.NextDue(ctx); !ok || err != nil || !next.Equal(retryAt) {
		t.Errorf("NextDue = %v, %v, %v; want %v", next, ok, err, retryAt)
	}
	if _, ok, _ := s.Claim(ctx, retryAt.Add(-time.Second)); ok {
		t.Fatal("claimed a failed job before its retry time")
	}
	c, ok, err := s.Claim(ctx, retryAt)
	if !ok || err != nil || c.ID != j.ID || c.Attempts != 2 {
		t.Fatalf("Claim at retry time = %+v, %v, %v", c, ok, err)
	}
	if _, ok, _ := s.NextDue(ctx); ok {
		t.Error("NextDue with no failed job reports one")
	}

	// uploading → done, with a history entry
	e, err := s.Complete(ctx, j.ID, Entry{Key: "k/a.png", URL: "https://img.example.com/k/a.png", SHA1: strings.ToUpper(hexSHA1(1)), Size: 40, ContentType: "image/png", LinkStatus: "link verified"})
	if err != nil {
		t.Fatal(err)
	}
	if e.ID == 0 || e.JobID != j.ID || e.Source != SourceWatch || e.File != "/shots/a.png" || e.SHA1 != hexSHA1(1) ||
		e.OriginalSHA1 != hexSHA1(1) || e.OriginalSize != 40 || e.Time.IsZero() {
		t.Fatalf("Complete = %+v", e)
	}
	got, _ = s.Job(ctx, j.ID)
	if got.State != StateDone {
		t.Fatalf("after Complete: %+v", got)
	}
	if _, err := s.Complete(ctx, j.ID, entryFor(2)); !errors.Is(err, ErrWrongState) {
		t.Errorf("Complete of a done job = %v, want ErrWrongState", err)
	}
	if err := s.Fail(ctx, j.ID, "x", time.Now()); !errors.Is(err, ErrWrongState) {
		t.Errorf("Fail of a done job = %v, want ErrWrongState", err)
	}
	if err := s.Retry(ctx, j.ID); !errors.Is(err, ErrWrongState) {
		t.Errorf("Retry of a done job = %v, want ErrWrongState", err)
	}

	// queued → rejected (final) → Retry → queued, attempts kept
	r := mustEnqueue(t, s, "/shots/huge.mp4", SourceDrop)
	mustClaim(t, s, r.ID)
	if err := s.Fail(ctx, r.ID, "reset", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.Reject(ctx, r.ID, "larger than 5 GiB"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Claim(ctx, time.Now().Add(24*time.Hour)); ok {
		t.Fatal("claimed a rejected job")
	}
	if err := s.Dismiss(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Job(ctx, r.ID)
	if got.State != StateRejected || got.LastError != "larger than 5 GiB" || !got.Dismissed {
		t.Fatalf("after Reject and Dismiss: %+v", got)
	}
	if err := s.Retry(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Job(ctx, r.ID)
	if got.State != StateQueued || got.Attempts != 1 || got.Dismissed {
		t.Fatalf("after Retry: %+v", got)
	}

	// uploading → Release → queued, the attempt not counted
	c = mustClaim(t, s, r.ID)
	if c.Attempts != 2 {
		t.Fatalf("attempts = %d, want 2", c.Attempts)
	}
	if err := s.Release(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Job(ctx, r.ID)
	if got.State != StateQueued || got.Attempts != 1 {
		t.Fatalf("after Release: %+v", got)
	}
	if err := s.Dismiss(ctx, r.ID); !errors.Is(err, ErrWrongState) {
		t.Errorf("Dismiss of a queued job = %v, want ErrWrongState", err)
	}

	// Missing jobs.
	for name, err := range map[string]error{
		"Fail":    s.Fail(ctx, 999, "x", time.Now()),
		"Reject":  s.Reject(ctx, 999, "x"),
		"Retry":   s.Retry(ctx, 999),
		"Release": s.Release(ctx, 999),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s of a missing job = %v, want ErrNotFound", name, err)
		}
	}
	if _, err := s.Job(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("Job(999) = %v, want ErrNotFound", err)
	}
	if _, err := s.Complete(ctx, 999, entryFor(3)); !errors.Is(err, ErrNotFound) {
		t.Errorf("Complete(999) = %v, want ErrNotFound", err)
	}
}

func TestEnqueueValidatesAndMergesPending(t *testing.T) {
	s, _ := openTest(t)
	ctx := t.Context()
	mod := time.Unix(1700000000, 1)
	for _, tc := range []struct {
		path string
		size int64
		src  Source
	}{{"", 1, SourceCLI}, {"/a", -1, SourceCLI}, {"/a", 1, ""}, {"/a", 1, "ftp"}} {
		if _, err := s.Enqueue(ctx, tc.path, tc.size, mod, tc.src); err == nil {
			t.Errorf("Enqueue(%q, %d, %q) succeeded", tc.path, tc.size, tc.src)
		}
	}
	a, _ := s.Enqueue(ctx, "/a.png", 1, mod, SourceWatch)
	b, _ := s.Enqueue(ctx, "/a.png", 1, mod, SourceWatch)
	if a.ID != b.ID {
		t.Errorf("a pending duplicate made a second job: %d, %d", a.ID, b.ID)
	}
	other, _ := s.Enqueue(ctx, "/a.png", 1, mod, SourceDrop)
	changed, _ := s.Enqueue(ctx, "/a.png", 2, mod, SourceWatch)
	if other.ID == a.ID || changed.ID == a.ID {
		t.Error("a different source or size merged into the pending job")
	}
	mustClaim(t, s, a.ID)
	if _, err := s.Complete(ctx, a.ID, entryFor(1)); err != nil {
		t.Fatal(err)
	}
	again, _ := s.Enqueue(ctx, "/a.png", 1, mod, SourceWatch)
	if again.ID == a.ID {
		t.Error("Enqueue after done returned the done job")
	}
	// Zero modification time (clipboard images) round-trips.
	z, err := s.Enqueue(ctx, "/tmp/clip.png", 5, time.Time{}, SourceClipboard)
	if err != nil || !z.ModTime.IsZero() {
		t.Errorf("zero mod time: %+v, %v", z, err)
	}
}

func TestClaimOrder(t *testing.T) {
	s, _ := openTest(t)
	ctx := t.Context()
	a := mustEnqueue(t, s, "/a", SourceWatch)
	b := mustEnqueue(t, s, "/b", SourceWatch)
	c := mustEnqueue(t, s, "/c", SourceWatch)
	// a fails and is due again before b and c were enqueued: it goes first
	// once due; b, c follow in enqueue order.
	mustClaim(t, s, a.ID)
	if err := s.Fail(ctx, a.ID, "x", time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []int64{a.ID, b.ID, c.ID} {
		mustClaim(t, s, want)
	}
}

func TestClaimConcurrent(t *testing.T) {
	s, _ := openTest(t)
	ctx := t.Context()
	const jobs, workers = 500, 8
	for i := range jobs {
		if _, err := s.Enqueue(ctx, fmt.Sprintf("/shots/%04d.png", i), int64(i), time.Unix(int64(i), 0), SourceWatch); err != nil {
			t.Fatal(err)
		}
	}
	claimed := make([][]int64, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for {
				j, ok, err := s.Claim(ctx, time.Now())
				if err != nil || !ok {
					errs[w] = err
					return
				}
				claimed[w] = append(claimed[w], j.ID)
				if _, err := s.Complete(ctx, j.ID, entryFor(int(j.ID))); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	seen := map[int64]int{}
	for w, ids := range claimed {
		t.Logf("worker %d claimed %d jobs", w, len(ids))
		for _, id := range ids {
			seen[id]++
		}
	}
	if len(seen) != jobs {
		t.Errorf("%d distinct jobs claimed, want %d", len(seen), jobs)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("job %d claimed %d times", id, n)
		}
	}
	counts, err := s.Counts(ctx)
	if err != nil || counts[StateDone] != jobs {
		t.Errorf("Counts = %v, %v", counts, err)
	}
}

func TestRecover(t *testing.T) {
	s, _ := openTest(t)
	ctx := t.Context()
	for i := range 5 {
		mustEnqueue(t, s, fmt.Sprintf("/%d", i), SourceCLI)
	}
	a := mustClaim(t, s, 0)
	b := mustClaim(t, s, 0)
	n, err := s.Recover(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Recover = %d, %v; want 2", n, err)
	}
	for _, id := range []int64{a.ID, b.ID} {
		j, _ := s.Job(ctx, id)
		if j.State != StateQueued || j.Attempts != 1 {
			t.Errorf("recovered job: %+v", j)
		}
	}
	if n, err := s.Recover(ctx); n != 0 || err != nil {
		t.Errorf("second Recover = %d, %v", n, err)
	}
	// Recovered jobs keep their place at the front.
	mustClaim(t, s, a.ID)
}

func TestCountsJobsAndNextDue(t *testing.T) {
	s, _ := openTest(t)
	ctx := t.Context()
	var ids []int64
	for i := range 6 {
		ids = append(ids, mustEnqueue(t, s, fmt.Sprintf("/%d", i), SourceCLI).ID)
	}
	// 0 done, 1 failed, 2 rejected, 3 rejected+dismissed, 4 uploading, 5 queued
	for range 5 {
		mustClaim(t, s, 0)
	}
	if _, err := s.Complete(ctx, ids[0], entryFor(0)); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	must(t, s.Fail(ctx, ids[1], "x", later))
	must(t, s.Reject(ctx, ids[2], "no"))
	must(t, s.Reject(ctx, ids[3], "no"))
	must(t, s.Dismiss(ctx, ids[3]))

	counts, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[State]int{StateQueued: 1, StateUploading: 1, StateDone: 1, StateFailed: 1, StateRejected: 1}
	for _, st := range States {
		if counts[st] != want[st] {
			t.Errorf("Counts[%s] = %d, want %d", st, counts[st], want[st])
		}
	}
	rej, err := s.Jobs(ctx, StateRejected, 0)
	if err != nil || len(rej) != 1 || rej[0].ID != ids[2] {
		t.Errorf("Jobs(rejected) = %+v, %v", rej, err)
	}
	for i := range 3 {
		mustEnqueue(t, s, fmt.Sprintf("/more/%d", i), SourceCLI)
	}
	q, err := s.Jobs(ctx, StateQueued, 2)
	if err != nil || len(q) != 2 || q[0].ID < q[1].ID {
		t.Errorf("Jobs(queued, 2) = %+v, %v; want 2, newest first", q, err)
	}
	// Queued jobs are due at once, before the failed one's retry.
	if next, ok, err := s.NextDue(ctx); !ok || err != nil || next.After(time.Now()) {
		t.Errorf("NextDue = %v, %v, %v; want a time not after now", next, ok, err)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestBackoff(t *testing.T) {
	for attempt := -1; attempt <= 64; attempt++ {
		limit := 10 * time.Minute
		if n := max(attempt, 1); n < 20 {
			limit = min(2*time.Second<<(n-1), limit)
		}
		var top time.Duration
		for range 2000 {
			d := Backoff(attempt)
			if d < 0 || d >= limit {
				t.Fatalf("Backoff(%d) = %v, want in [0, %v)", attempt, d, limit)
			}
			top = max(top, d)
		}
		// Full jitter spreads over the whole range.
		if top < limit/2 {
			t.Errorf("Backoff(%d): largest of 2000 draws %v, want near %v", attempt, top, limit)
		}
	}
	if Backoff(1) >= 2*time.Second || Backoff(100) >= 10*time.Minute {
		t.Error("Backoff exceeds its bounds")
	}
}

func TestHistorySearch(t *testing.T) {
	s, _ := openTest(t)
	ctx := t.Context()
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	add := func(i int, file, key string) Entry {
		e := entryFor(i)
		e.Key, e.URL = key, "https://img.example.com/"+key
		e.Time = base.Add(time.Duration(i) * time.Minute)
		return upload(t, s, file, SourceWatch, e)
	}
	e0 := add(0, "/home/me/Pictures/Screenshot 2025-06-01.png", "2025/06/Screenshot_2025-06-01.png")
	e1 := add(1, "/home/me/Pictures/Café Ünïcode.PNG", "2025/06/cafe.png")
	e2 := add(2, "/home/me/Pictures/100%_done.png", "2025/06/progress.png")
	e3 := add(3, "/home/me/Pictures/other.png", "2025/06/other.png")

	search := func(q Query) []int64 {
		t.Helper()
		es, err := s.History(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, e := range es {
			ids = append(ids, e.ID)
		}
		return ids
	}
	for _, tc := range []struct {
		q    Query
		want []int64
	}{
		{Query{}, []int64{e3.ID, e2.ID, e1.ID, e0.ID}},                      // newest first
		{Query{Search: "SCREENSHOT"}, []int64{e0.ID}},                       // ignores case, file name and key
		{Query{Search: "ünïCODE"}, []int64{e1.ID}},                          // beyond ASCII
		{Query{Search: "café ü"}, []int64{e1.ID}},                           // spaces are literal
		{Query{Search: "100%_"}, []int64{e2.ID}},                            // no wildcards
		{Query{Search: "%"}, []int64{e2.ID}},                                // still none
		{Query{Search: "img.example"}, []int64{e3.ID, e2.ID, e1.ID, e0.ID}}, // URL
		{Query{Search: "home/me"}, nil},                                     // the name, not the directory
		{Query{Search: "png", Limit: 2}, []int64{e3.ID, e2.ID}},
		{Query{Search: "png", Limit: 2, Offset: 2}, []int64{e1.ID, e0.ID}},
		{Query{Search: "png", Offset: 3}, []int64{e0.ID}},
	} {
		if got := search(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("History(%+v) = %v, want %v", tc.q, got, tc.want)
		}
	}

	n, err := s.MarkDeleted(ctx, e3.ID, time.Time{})
	if err != nil || n != 1 {
		t.Fatalf("MarkDeleted = %d, %v", n, err)
	}
	if got := search(Query{Search: "other"}); got != nil {
		t.Errorf("deleted entry listed: %v", got)
	}
	es, err := s.History(ctx, Query{Search: "other", IncludeDeleted: true})
	if err != nil || len(es) != 1 || es[0].DeletedAt.IsZero() {
		t.Errorf("History with deleted = %+v, %v", es, err)
	}
	if _, err := s.MarkDeleted(ctx, 999, time.Now()); !errors.Is(err, ErrNotFound) {
		t.Errorf("MarkDeleted(999) = %v", err)
	}

	must(t, s.SetLinkStatus(ctx, e1.ID, "link verified"))
	es, _ = s.History(ctx, Query{Search: "cafe"})
	if len(es) != 1 || es[0].LinkStatus != "link verified" {
		t.Errorf("after SetLinkStatus: %+v", es)
	}
	if err := s.SetLinkStatus(ctx, 999, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetLinkStatus(999) = %v", err)
	}
}

func TestFindUploadedAndByContent(t *testing.T) {
	s, _ := openTest(t)
	ctx := t.Context()

	// Uploaded as is.
	plain := upload(t, s, "/shots/a.png", SourceWatch, entryFor(1))
	// Uploaded with metadata stripped: local content 2, uploaded content 3.
	stripped := entryFor(3)
	stripped.OriginalSHA1, stripped.OriginalSize = hexSHA1(2), 5000
	stripped = upload(t, s, "/shots/b.jpg", SourceDrop, stripped)

	for _, tc := range []struct {
		name   string
		sha1   string
		size   int64
		src    Source
		want   int64 // 0: not found
		byCont int64
	}{
		{"same content and source", hexSHA1(1), 1001, SourceWatch, plain.ID, plain.ID},
		{"upper-case hex", strings.ToUpper(hexSHA1(1)), 1001, SourceWatch, plain.ID, plain.ID},
		{"other source", hexSHA1(1), 1001, SourceCLI, 0, plain.ID},
		{"wrong size", hexSHA1(1), 1002, SourceWatch, 0, 0},
		{"original of stripped", hexSHA1(2), 5000, SourceDrop, stripped.ID, stripped.ID},
		{"uploaded of stripped", hexSHA1(3), 1003, SourceDrop, stripped.ID, stripped.ID},
		{"unknown", hexSHA1(9), 1, SourceDrop, 0, 0},
	} {
		e, ok, err := s.FindUploaded(ctx, tc.sha1, tc.size, tc.src)
		if err != nil || ok != (tc.want != 0) || e.ID != tc.want {
			t.Errorf("%s: FindUploaded = %d, %v, %v; want %d", tc.name, e.ID, ok, err, tc.want)
		}
		e, ok, err = s.FindByContent(ctx, tc.sha1, tc.size, "")
		if err != nil || ok != (tc.byCont != 0) || e.ID != tc.byCont {
			t.Errorf("%s: FindByContent = %d, %v, %v; want %d", tc.name, e.ID, ok, err, tc.byCont)
		}
	}

	// A CLI upload of the same content reuses the object: same key, flagged.
	reuse := entryFor(1)
	reuse.Deduplicated = true
	dup := upload(t, s, "/elsewhere/a.png", SourceCLI, reuse)
	if e, ok, _ := s.FindUploaded(ctx, hexSHA1(1), 1001, SourceCLI); !ok || e.ID != dup.ID || !e.Deduplicated {
		t.Errorf("FindUploaded after dedup = %+v, %v", e, ok)
	}
	if e, ok, _ := s.FindByKey(ctx, plain.Key); !ok || e.ID != dup.ID {
		t.Errorf("FindByKey = %+v, %v; want the newest, %d", e, ok, dup.ID)
	}
	// The preferred source comes first, else the newest.
	for prefer, want := range map[Source]int64{SourceWatch: plain.ID, SourceCLI: dup.ID, "": dup.ID} {
		if e, ok, _ := s.FindByContent(ctx, hexSHA1(1), 1001, prefer); !ok || e.ID != want {
			t.Errorf("FindByContent preferring %q = %d, %v; want %d", prefer, e.ID, ok, want)
		}
	}

	// Deleting the object tombstones every entry that shares it.
	n, err := s.MarkDeleted(ctx, plain.ID, time.Now())
	if err != nil || n != 2 {
		t.Fatalf("MarkDeleted = %d, %v; want 2 entries", n, err)
	}
	if _, ok, _ := s.FindByContent(ctx, hexSHA1(1), 1001, ""); ok {
		t.Error("FindByContent offers a deleted object")
	}
	if _, ok, _ := s.FindUploaded(ctx, hexSHA1(1), 1001, SourceCLI); ok {
		t.Error("FindUploaded offers a deleted object")
	}
	if _, ok, _ := s.FindByKey(ctx, plain.Key); ok {
		t.Error("FindByKey offers a deleted object")
	}
}

func TestSeenFile(t *testing.T) {
	s, _ := openTest(t)
	ctx := t.Context()
	mod := time.Unix(1700000000, 555)
	seen := func(path string, size int64, m time.Time) bool {
		t.Helper()
		ok, err := s.SeenFile(ctx, path, size, m)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if seen("/a.png", 10, mod) {
		t.Fatal("unseen file reported seen")
	}
	j, err := s.Enqueue(ctx, "/a.png", 10, mod, SourceWatch)
	if err != nil {
		t.Fatal(err)
	}
	for name, ok := range map[string]bool{
		"queued":         seen("/a.png", 10, mod),
		"other size":     !seen("/a.png", 11, mod),
		"other mod time": !seen("/a.png", 10, mod.Add(time.Nanosecond)),
		"other path":     !seen("/b.png", 10, mod),
	} {
		if !ok {
			t.Errorf("SeenFile wrong for %s", name)
		}
	}
	mustClaim(t, s, j.ID)
	if !seen("/a.png", 10, mod) {
		t.Error("uploading job not seen")
	}
	must(t, s.Fail(ctx, j.ID, "x", time.Now()))
	if !seen("/a.png", 10, mod) {
		t.Error("failed job not seen")
	}
	must(t, s.Reject(ctx, j.ID, "no"))
	if !seen("/a.png", 10, mod) {
		t.Error("rejected job not seen")
	}
	must(t, s.Dismiss(ctx, j.ID))
	if seen("/a.png", 10, mod) {
		t.Error("rejected and dismissed job still seen")
	}
	d, _ := s.Enqueue(ctx, "/d.png", 10, mod, SourceWatch)
	mustClaim(t, s, d.ID)
	if _, err := s.Complete(ctx, d.ID, entryFor(4)); err != nil {
		t.Fatal(err)
	}
	if !seen("/d.png", 10, mod) {
		t.Error("done job not seen")
	}
}

func TestWatermark(t *testing.T) {
	s, _ := openTest(t)
	ctx := t.Context()
	dir := filepath.Join("home", "me", "Pictures")
	if w, err := s.Watermark(ctx, dir); err != nil || !w.IsZero() {
		t.Fatalf("Watermark of a new dir = %v, %v", w, err)
	}
	t1 := time.Unix(1700000000, 123456789)
	must(t, s.SetWatermark(ctx, dir, t1))
	must(t, s.SetWatermark(ctx, dir, t1.Add(-time.Hour))) // never back
	if w, err := s.Watermark(ctx, dir+string(filepath.Separator)); err != nil || !w.Equal(t1) {
		t.Errorf("Watermark = %v, %v; want %v", w, err, t1)
	}
	must(t, s.SetWatermark(ctx, dir, t1.Add(time.Nanosecond)))
	if w, _ := s.Watermark(ctx, dir); !w.Equal(t1.Add(time.Nanosecond)) {
		t.Errorf("Watermark did not advance: %v", w)
	}
	if w, _ := s.Watermark(ctx, "other"); !w.IsZero() {
		t.Errorf("another dir's watermark = %v", w)
	}
}

func TestPaused(t *testing.T) {
	s, path := openTest(t)
	ctx := t.Context()
	if p, err := s.Paused(ctx); p || err != nil {
		t.Fatalf("new store Paused = %v, %v", p, err)
	}
	must(t, s.SetPaused(ctx, true))
	// Another process sees it.
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if p, err := s2.Paused(ctx); !p || err != nil {
		t.Fatalf("Paused after SetPaused(true) = %v, %v", p, err)
	}
	must(t, s2.SetPaused(ctx, false))
	if p, _ := s.Paused(ctx); p {
		t.Error("still paused")
	}
}

// TestNoSecrets checks that nothing secret can land in the database: the
// schema has no place for credentials, and history refuses credentialed
// URLs without echoing them.
func TestNoSecrets(t *testing.T) {
	s, _ := openTest(t)
	ctx := t.Context()
	rows, err := s.db.QueryContext(ctx, `SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p WHERE m.type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"secret", "password", "token", "credential", "key_id", "application_key"} {
			if strings.Contains(strings.ToLower(col), bad) {
				t.Errorf("column %s.%s looks like it holds a secret", table, col)
			}
		}
	}
	const sig = "0123456789abcdeffedcba9876543210"
	for _, u := range []string{
		"https://s3.us-west-004.backblazeb2.com/b/k.png?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=004a%2F20250601&X-Amz-Signature=" + sig,
		"https://img.example.com/k.png?x-amz-security-token=" + sig,
		"https://user:" + sig + "@img.example.com/k.png",
	} {
		j := mustEnqueue(t, s, "/s/"+u, SourceCLI)
		mustClaim(t, s, j.ID)
		e := entryFor(1)
		e.URL = u
		_, err := s.Complete(ctx, j.ID, e)
		if err == nil {
			t.Errorf("Complete stored a credentialed URL")
			continue
		}
		if strings.Contains(err.Error(), sig) {
			t.Errorf("error repeats the secret: %v", err)
		}
		if got, _ := s.Job(ctx, j.ID); got.State != StateUploading {
			t.Errorf("refused Complete changed the job: %+v", got)
		}
	}
	if es, _ := s.History(ctx, Query{IncludeDeleted: true}); len(es) != 0 {
		t.Errorf("history holds %d entries, want none", len(es))
	}
}

// fillHistory adds n history entries in one transaction, as if n uploads had
// run, a minute apart. Every 100th file is a "Receipt", the rest screenshots.
func fillHistory(tb testing.TB, s *Store, n int) {
	tb.Helper()
	ctx := tb.Context()
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO history
			(file, key, url, sha1, size, original_sha1, original_size, content_type, source, time, search)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'image/png', 'watch', ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i := range n {
			name := fmt.Sprintf("Screenshot %05d.png", i)
			if i%100 == 0 {
				name = fmt.Sprintf("Receipt %05d.png", i)
			}
			e := Entry{
				File: "/home/me/Pictures/Screenshots/" + name,
				Key:  fmt.Sprintf("2024/%02d/%s", 1+i%12, name),
			}
			e.URL = "https://img.example.com/" + e.Key
			if _, err := stmt.ExecContext(ctx, e.File, e.Key, e.URL, hexSHA1(i), 1000+i, hexSHA1(i), 1000+i,
				toDB(base.Add(time.Duration(i)*time.Minute)), searchText(e)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func TestHistoryWith10kRows(t *testing.T) {
	s, _ := openTest(t)
	ctx := t.Context()
	const rows = 10_000
	fillHistory(t, s, rows)

	// The plans use the indexes.
	for name, q := range map[string]string{
		"history page": `SELECT id FROM history WHERE deleted_at IS NULL ORDER BY time DESC, id DESC LIMIT 50`,
		"by content":   `SELECT id FROM history WHERE deleted_at IS NULL AND ((sha1 = 'x' AND size = 1) OR (original_sha1 = 'x' AND original_size = 1)) ORDER BY time DESC, id DESC LIMIT 1`,
		"claim":        `SELECT id FROM jobs INDEXED BY jobs_due WHERE state IN ('queued', 'failed') AND (state = 'queued' OR next_attempt <= 5) ORDER BY next_attempt, id LIMIT 1`,
		"seen file":    `SELECT 1 FROM jobs WHERE path = 'p' AND size = 1 AND mod_time = 2 AND NOT (state = 'rejected' AND dismissed = 1) LIMIT 1`,
	} {
		plan := queryPlan(t, s, q)
		if !strings.Contains(plan, "USING INDEX") && !strings.Contains(plan, "USING COVERING INDEX") {
			t.Errorf("%s: plan does not use an index:\n%s", name, plan)
		}
		// by content sorts the few rows of one content; the others must not.
		if name != "by content" && strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s: plan sorts:\n%s", name, plan)
		}
	}

	// How fast each search is: BenchmarkHistorySearch10k.
	for _, tc := range historySearches {
		es, err := s.History(ctx, Query{Search: tc.search, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != tc.want {
			t.Fatalf("search %q: %d entries, want %d", tc.search, len(es), tc.want)
		}
	}
}

// historySearches are searches over fillHistory's rows, with the number of
// entries each finds in a page of 50.
var historySearches = []struct {
	name, search string
	want         int
}{
	{"all", "", 50},
	{"common", "screenshot", 50},   // matches at once
	{"one-in-100", "receipt", 50},  // scans 5,000 rows
	{"none", "no such file", 0},    // scans everything
	{"key-prefix", "2024/07/", 50}, // a key
}

func queryPlan(t *testing.T, s *Store, q string) string {
	t.Helper()
	rows, err := s.db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	return b.String()
}

func TestClip(t *testing.T) {
	long := strings.Repeat("é", 3000) // 6000 bytes
	got := clip(long)
	if !utf8.ValidString(got) || len(got) > 4<<10+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("clip: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	if clip("short") != "short" {
		t.Error("clip changed a short string")
	}
	s, _ := openTest(t)
	j := mustEnqueue(t, s, "/a", SourceCLI)
	mustClaim(t, s, j.ID)
	must(t, s.Fail(t.Context(), j.ID, long, time.Now()))
	if got, _ := s.Job(t.Context(), j.ID); got.LastError != clip(long) {
		t.Errorf("stored error of %d bytes", len(got.LastError))
	}
}

func TestBegin(t *testing.T) {
	s, _ := openTest(t)
	ctx := t.Context()
	j, err := s.Begin(ctx, "/tmp/cli.png", 10, time.Unix(100, 0), SourceCLI)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != StateUploading || j.Attempts != 1 {
		t.Fatalf("Begin: %+v, want uploading with 1 attempt", j)
	}
	if _, ok, err := s.Claim(ctx, time.Now()); err != nil || ok {
		t.Fatalf("a begun job must not be claimable: ok=%v err=%v", ok, err)
	}
	if _, err := s.Complete(ctx, j.ID, Entry{Key: "k", URL: "https://x/k", SHA1: strings.Repeat("a", 40), Size: 10}); err != nil {
		t.Fatal(err)
	}
}
