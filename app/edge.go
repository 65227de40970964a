package app

import (
	"context"
	"slices"
	"sync"
	"time"

	"upshot/internal/core"
)

// edge is the one place where work from other goroutines reaches the UI.
// The service reports events from its workers, background actions (a
// share, a delete, a connection test) finish on their own goroutines, and
// the thumbnail worker produces images; all of them hand their results to
// the edge, which batches them and applies each batch on the UI thread
// with one call of do (fyne.Do in the app). Nothing else calls fyne.Do.
//
// Batching keeps the window responsive however busy the core is: progress
// events are coalesced per job (only the latest counts), at most one batch
// is waiting for the UI thread at a time, and batches are at least
// interval apart. A burst of 500 queued files becomes a handful of
// refreshes.
//
// OnEvent and Post are safe for concurrent use and never block.
type edge struct {
	do       func(func()) // runs a function on the UI thread
	interval time.Duration

	// prepare runs on the edge's goroutine before a batch goes to the UI
	// thread, for work that must not block the UI (clipboard tools,
	// notifications, database counts).
	prepare func(ctx context.Context, b *batch)
	// apply runs on the UI thread with each batch.
	apply func(b *batch)

	wake chan struct{}

	mu       sync.Mutex
	pending  batch
	progress map[int64]int // job ID → index of its pending Progress event
}

// batch is what the UI receives in one go.
type batch struct {
	events []core.Event // in order, progress coalesced per job
	posts  []func()     // UI work posted by background goroutines, in order
	// Filled in by prepare.
	status status
}

func newEdge(do func(func()), interval time.Duration) *edge {
	return &edge{do: do, interval: interval, wake: make(chan struct{}, 1), progress: map[int64]int{}}
}

// OnEvent takes an event from the service. It is the service's
// Options.OnEvent.
func (e *edge) OnEvent(ev core.Event) {
	e.mu.Lock()
	if ev.Kind == core.Progress {
		if i, ok := e.progress[ev.Job.ID]; ok {
			e.pending.events[i] = ev
			e.mu.Unlock()
			return
		}
		e.progress[ev.Job.ID] = len(e.pending.events)
	} else {
		delete(e.progress, ev.Job.ID)
	}
	e.pending.events = append(e.pending.events, ev)
	e.mu.Unlock()
	e.poke()
}

// Post queues f to run on the UI thread with the next batch.
func (e *edge) Post(f func()) {
	e.mu.Lock()
	e.pending.posts = append(e.pending.posts, f)
	e.mu.Unlock()
	e.poke()
}

func (e *edge) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *edge) take() batch {
	e.mu.Lock()
	defer e.mu.Unlock()
	b := e.pending
	e.pending = batch{}
	clear(e.progress)
	return b
}

// hasDone reports whether the pending batch holds a finished upload.
func (e *edge) hasDone() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.pending.events {
		if ev.Kind == core.Done {
			return true
		}
	}
	return false
}

// run applies batches until ctx ends.
func (e *edge) run(ctx context.Context) {
	var (
		last     time.Time
		lastDone bool // the last batch held a finished upload
	)
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.wake:
		}
		// Throttle: the first change after a quiet spell shows at once,
		// later ones gather for up to interval. A link is what the user
		// waits for, so the first finished upload after others' events
		// does not wait either; in a burst, the later ones gather again.
		done := e.hasDone()
		if wait := e.interval - time.Since(last); wait > 0 && !(done && !lastDone) {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		b := e.take()
		lastDone = slices.ContainsFunc(b.events, func(ev core.Event) bool { return ev.Kind == core.Done })
		if e.prepare != nil {
			e.prepare(ctx, &b)
		}
		applied := make(chan struct{})
		e.do(func() {
			defer close(applied)
			if e.apply != nil {
				e.apply(&b)
			}
			for _, f := range b.posts {
				f()
			}
		})
		// One batch at a time: the next waits until the UI has taken this one.
		select {
		case <-ctx.Done():
			return
		case <-applied:
		}
		last = time.Now()
	}
}
