package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// A test binary started with childModeEnv set runs runChild instead of the
// tests (see TestMain): a second process on the same database.
const (
	childModeEnv = "UPSHOT_STORE_TEST_CHILD"
	childDBEnv   = "UPSHOT_STORE_TEST_DB"
)

// lines writes one whole line per call, from any goroutine. A line is
// written only after the change it reports has committed.
type lines struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lines) put(tag string, v any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s %v\n", tag, v)
}

func runChild(mode, db string) int {
	ctx := context.Background()
	out := &lines{w: os.Stdout}
	s, err := Open(ctx, db)
	if err != nil {
		out.put("X", err)
		return 3
	}
	defer s.Close()
	switch mode {
	case "crash":
		crashChild(ctx, s, out)
	case "claim":
		return claimChild(ctx, s, out)
	}
	out.put("X", "unknown mode "+mode)
	return 3
}

// crashChild enqueues, claims, fails and completes jobs as fast as it can,
// reporting each committed step, until it is killed. Jobs whose ID is a
// multiple of 4 are left uploading, like uploads in flight.
func crashChild(ctx context.Context, s *Store, out *lines) {
	fatal := func(err error) {
		out.put("X", err)
		os.Exit(3)
	}
	go func() {
		for i := 0; ; i++ {
			p := fmt.Sprintf("/shots/%d-%07d.png", os.Getpid(), i)
			if _, err := s.Enqueue(ctx, p, int64(i), time.Unix(int64(i), 0), SourceWatch); err != nil {
				fatal(err)
			}
			out.put("E", p)
		}
	}()
	for range 3 {
		go func() {
			for {
				j, ok, err := s.Claim(ctx, time.Now())
				if err != nil {
					fatal(err)
				}
				if !ok {
					runtime.Gosched()
					continue
				}
				out.put("C", j.ID)
				switch j.ID % 4 {
				case 0: // in flight when the kill comes
				case 1:
					if err := s.Fail(ctx, j.ID, "503 SlowDown", time.Now().Add(time.Hour)); err != nil {
						fatal(err)
					}
					out.put("F", j.ID)
				default:
					if _, err := s.Complete(ctx, j.ID, entryFor(int(j.ID))); err != nil {
						fatal(err)
					}
					out.put("D", j.ID)
				}
			}
		}()
	}
	select {}
}

// claimChild waits for "go" on stdin, then claims and completes jobs with
// four goroutines until none is due, reporting each claim.
func claimChild(ctx context.Context, s *Store, out *lines) int {
	out.put("R", "ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		out.put("X", err)
		return 3
	}
	var (
		wg   sync.WaitGroup
		errs = make([]error, 4)
	)
	for w := range errs {
		wg.Go(func() {
			for {
				j, ok, err := s.Claim(ctx, time.Now())
				if err != nil || !ok {
					errs[w] = err
					return
				}
				out.put("C", j.ID)
				if _, err := s.Complete(ctx, j.ID, entryFor(int(j.ID))); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		out.put("X", err)
		return 3
	}
	return 0
}

func childCmd(t *testing.T, mode, db string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childModeEnv+"="+mode, childDBEnv+"="+db)
	cmd.Stderr = os.Stderr
	return cmd
}

func parseLine(t *testing.T, line string) (tag, val string) {
	t.Helper()
	tag, val, _ = strings.Cut(line, " ")
	if tag == "X" {
		t.Fatalf("child failed: %s", val)
	}
	return tag, val
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCrashSafety kills a busy process with SIGKILL, three times over on
// the same file, and checks after each kill that every reported change
// survived, nothing is duplicated or half-done, and Recover returns the
// in-flight jobs to the queue. Then every job still due completes once.
func TestCrashSafety(t *testing.T) {
	ctx := t.Context()
	db := filepath.Join(t.TempDir(), "upshot.db")
	finished := map[int64]bool{} // done or failed, in any round
	for round := range 3 {
		r := crashRound(t, db)
		for id := range r.done {
			finished[id] = true
		}
		for id := range r.failed {
			finished[id] = true
		}
		t.Logf("round %d: killed with %d reported in flight; before death: %d enqueued, %d claimed, %d done, %d failed; Recover requeued %d",
			round, r.inFlight, len(r.enqueued), len(r.claimed), len(r.done), len(r.failed), r.recovered)
	}

	s, err := Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seen := map[int64]bool{}
	for {
		j, ok, err := s.Claim(ctx, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if seen[j.ID] || finished[j.ID] {
			t.Fatalf("job %d claimed again", j.ID)
		}
		seen[j.ID] = true
		if _, err := s.Complete(ctx, j.ID, entryFor(int(j.ID))); err != nil {
			t.Fatal(err)
		}
	}
	counts, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var total, history int
	must(t, s.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM jobs), (SELECT count(*) FROM history)`).Scan(&total, &history))
	if counts[StateQueued]+counts[StateUploading] != 0 || counts[StateDone]+counts[StateFailed] != total {
		t.Errorf("after draining: %v of %d jobs", counts, total)
	}
	if history != counts[StateDone] {
		t.Errorf("%d history entries for %d done jobs", history, counts[StateDone])
	}
	t.Logf("drained %d jobs; %d done, %d failed (due in an hour)", len(seen), counts[StateDone], counts[StateFailed])
}

// crashFacts is what a killed child reported, and what Recover did after.
type crashFacts struct {
	enqueued              []string
	claimed, done, failed map[int64]bool
	inFlight, recovered   int
}

// crashRound runs a crash child on db, kills it mid-way, and checks the
// database it left behind.
func crashRound(t *testing.T, db string) crashFacts {
	ctx := t.Context()
	cmd := childCmd(t, "crash", db)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := crashFacts{claimed: map[int64]bool{}, done: map[int64]bool{}, failed: map[int64]bool{}}
	killed := false
	for sc := bufio.NewScanner(stdout); sc.Scan(); {
		tag, val := parseLine(t, sc.Text())
		switch tag {
		case "E":
			r.enqueued = append(r.enqueued, val)
		case "C":
			r.claimed[atoi(t, val)] = true
		case "D":
			r.done[atoi(t, val)] = true
		case "F":
			r.failed[atoi(t, val)] = true
		}
		// Lines written before the kill still count: read to EOF.
		r.inFlight = len(r.claimed) - len(r.done) - len(r.failed)
		if !killed && len(r.done) >= 300 && r.inFlight >= 50 {
			// Mid-way: the child's four goroutines are busy in transactions.
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	if err := cmd.Wait(); !killed {
		t.Fatalf("child ended before the kill: %v", err)
	}

	s, err := Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		must(t, s.db.QueryRowContext(ctx, q, args...).Scan(&n))
		return n
	}
	var check string
	if err := s.db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	// Nothing lost, nothing duplicated.
	for _, p := range r.enqueued {
		if n := count(`SELECT count(*) FROM jobs WHERE path = ?`, p); n != 1 {
			t.Errorf("%s has %d jobs, want 1", p, n)
		}
	}
	if n := count(`SELECT count(*) FROM (SELECT path FROM jobs GROUP BY path HAVING count(*) > 1)`); n != 0 {
		t.Errorf("%d paths have several jobs", n)
	}
	for id := range r.claimed {
		j, err := s.Job(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case r.done[id] && j.State != StateDone,
			r.failed[id] && j.State != StateFailed,
			j.State != StateUploading && j.State != StateDone && j.State != StateFailed:
			t.Errorf("claimed job %d is %s (reported done %v, failed %v)", id, j.State, r.done[id], r.failed[id])
		}
	}
	// Every done job has exactly one history entry, and every entry a done job.
	if n := count(`SELECT count(*) FROM history h JOIN jobs j ON j.id = h.job_id WHERE j.state = 'done'`); n != count(`SELECT count(*) FROM history`) ||
		n != count(`SELECT count(*) FROM jobs WHERE state = 'done'`) {
		t.Errorf("history and done jobs disagree")
	}

	// Recover requeues exactly the uploading jobs: the reported in-flight
	// ones, less at most one committed-but-unreported step per worker.
	uploading := count(`SELECT count(*) FROM jobs WHERE state = 'uploading'`)
	if r.recovered, err = s.Recover(ctx); err != nil || r.recovered != uploading || r.recovered < r.inFlight-3 {
		t.Fatalf("Recover = %d, %v; want %d uploading (%d reported in flight)", r.recovered, err, uploading, r.inFlight)
	}
	if n := count(`SELECT count(*) FROM jobs WHERE state = 'uploading'`); n != 0 {
		t.Errorf("%d jobs still uploading after Recover", n)
	}
	return r
}

// TestTwoProcessesClaim runs two processes claiming from one database at
// the same time: each job goes to exactly one of them.
func TestTwoProcessesClaim(t *testing.T) {
	ctx := t.Context()
	s, db := openTest(t)
	const jobs = 1000
	for i := range jobs {
		if _, err := s.Enqueue(ctx, fmt.Sprintf("/shots/%04d.png", i), int64(i), time.Unix(int64(i), 0), SourceCLI); err != nil {
			t.Fatal(err)
		}
	}

	type child struct {
		cmd     *exec.Cmd
		stdin   io.WriteCloser
		ready   chan struct{}
		claimed []int64
		done    chan struct{}
	}
	children := make([]*child, 2)
	for i := range children {
		c := &child{cmd: childCmd(t, "claim", db), ready: make(chan struct{}), done: make(chan struct{})}
		stdout, err := c.cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if c.stdin, err = c.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		if err := c.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			defer close(c.done)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				tag, val, _ := strings.Cut(sc.Text(), " ")
				switch tag {
				case "R":
					close(c.ready)
				case "C":
					if n, err := strconv.ParseInt(val, 10, 64); err == nil {
						c.claimed = append(c.claimed, n)
					}
				default:
					c.claimed = append(c.claimed, -1) // reported below
				}
			}
		}()
		children[i] = c
	}
	for i, c := range children {
		select {
		case <-c.ready:
		case <-c.done:
			t.Fatalf("child %d ended before it was ready", i)
		}
	}
	for _, c := range children {
		if _, err := io.WriteString(c.stdin, "go\n"); err != nil {
			t.Fatal(err)
		}
	}
	owner := map[int64]int{}
	for i, c := range children {
		<-c.done
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("child %d: %v", i, err)
		}
		t.Logf("process %d claimed %d jobs", i, len(c.claimed))
		for _, id := range c.claimed {
			if id < 0 {
				t.Fatalf("child %d reported an error", i)
			}
			if prev, dup := owner[id]; dup {
				t.Errorf("job %d claimed by process %d and %d", id, prev, i)
			}
			owner[id] = i
		}
	}
	if len(owner) != jobs {
		t.Errorf("%d jobs claimed, want %d", len(owner), jobs)
	}
	counts, err := s.Counts(ctx)
	if err != nil || counts[StateDone] != jobs {
		t.Errorf("Counts = %v, %v; want %d done", counts, err, jobs)
	}
}
