package app

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"upshot/internal/core"
	"upshot/internal/store"
)

// TestEdgeCoalescesAndOrders feeds the edge while the UI thread is busy:
// the waiting batch keeps events in order, keeps only the latest progress
// of each job, and runs posts after the events.
func TestEdgeCoalescesAndOrders(t *testing.T) {
	uiq := make(chan func())
	e := newEdge(func(f func()) { uiq <- f }, 0)
	var got []*batch
	var order []string
	e.apply = func(b *batch) {
		got = append(got, b)
		order = append(order, "apply")
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { e.run(ctx) })
	defer func() { cancel(); wg.Wait() }()

	e.OnEvent(core.Event{Kind: core.Queued, Job: store.Job{ID: 1}})
	first := <-uiq // the loop waits for the UI thread with the first batch
	for i := range 100 {
		e.OnEvent(core.Event{Kind: core.Progress, Job: store.Job{ID: 1}, Sent: int64(i), Total: 100})
		e.OnEvent(core.Event{Kind: core.Progress, Job: store.Job{ID: 2}, Sent: int64(i), Total: 100})
	}
	e.Post(func() { order = append(order, "post") })
	e.OnEvent(core.Event{Kind: core.Done, Job: store.Job{ID: 1}})
	e.OnEvent(core.Event{Kind: core.Progress, Job: store.Job{ID: 1}, Sent: 5, Total: 5})
	first()
	(<-uiq)()

	if len(got) != 2 || len(got[0].events) != 1 {
		t.Fatalf("batches %d", len(got))
	}
	evs := got[1].events
	if len(evs) != 4 {
		t.Fatalf("second batch has %d events, want 4: %+v", len(evs), evs)
	}
	want := []struct {
		kind core.EventKind
		job  int64
		sent int64
	}{{core.Progress, 1, 99}, {core.Progress, 2, 99}, {core.Done, 1, 0}, {core.Progress, 1, 5}}
	for i, w := range want {
		if evs[i].Kind != w.kind || evs[i].Job.ID != w.job || evs[i].Sent != w.sent {
			t.Fatalf("event %d: %+v, want %+v", i, evs[i], w)
		}
	}
	if strings.Join(order, ",") != "apply,apply,post" {
		t.Fatalf("order %v", order)
	}
}

func TestThumbnailsSurviveTheFile(t *testing.T) {
	dir := t.TempDir()
	src := writePNG(t, dir, "wide.png", 400, 200)
	ready := make(chan string, 1)
	th := newThumbs(filepath.Join(dir, "thumbs"), func(s string) { ready <- s })
	e := store.Entry{File: src, SHA1: strings.Repeat("ab", 20), ContentType: "image/png"}
	if th.get(e) != nil {
		t.Fatal("a thumbnail before it was made")
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { th.run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	if got := <-ready; got != e.SHA1 {
		t.Fatalf("ready %q", got)
	}
	b, err := os.ReadFile(filepath.Join(dir, "thumbs", e.SHA1+".png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if s := img.Bounds().Size(); s.X != thumbSize || s.Y != thumbSize/2 {
		t.Fatalf("thumbnail is %v", s)
	}
	// The local file goes; a fresh cache still has the thumbnail.
	os.Remove(src)
	fresh := newThumbs(filepath.Join(dir, "thumbs"), nil)
	if r := fresh.get(e); r == nil || !bytes.Equal(r.Content(), b) {
		t.Fatal("the thumbnail did not survive the file")
	}
	// Not an image: no thumbnail, nothing queued.
	if th.get(store.Entry{File: src, SHA1: strings.Repeat("cd", 20), ContentType: "video/mp4"}) != nil {
		t.Fatal("a thumbnail for a video")
	}
}

func TestHumanTimeAndSize(t *testing.T) {
	now := time.Date(2026, 11, 22, 15, 0, 0, 0, time.Local)
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{now.Add(-time.Hour), "14:00"},
		{time.Date(2026, 11, 21, 9, 5, 0, 0, time.Local), "Yesterday 09:05"},
		{time.Date(2026, 11, 18, 9, 5, 0, 0, time.Local), "Wed 09:05"},
		{time.Date(2026, 1, 2, 9, 5, 0, 0, time.Local), "2 Jan 2026"},
		{time.Time{}, ""},
	} {
		if got := humanTime(c.t, now); got != c.want {
			t.Errorf("humanTime(%v) = %q, want %q", c.t, got, c.want)
		}
	}
	if got := clipName(time.Date(2026, 11, 22, 10, 15, 0, 0, time.Local)); got != "Clipboard 2026-11-22 at 10.15.00.png" {
		t.Errorf("clipName %q", got)
	}
}

func TestCloseWithoutTrayQuitsWithOneNote(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.u.close()
	if !h.overlayHas("no system tray") {
		t.Fatal("the first close without a tray does not explain")
	}
	if !h.app.Preferences().Bool(prefNoTrayNoted) {
		t.Fatal("the note is not remembered")
	}
}

// TestBurstStaysResponsive uploads 300 files at once: the UI sees them in
// far fewer batches than there are events, and every file ends in the list.
// How long each batch holds the UI thread is BenchmarkBurstBatch's business:
// a test asserts no durations.
func TestBurstStaysResponsive(t *testing.T) {
	if testing.Short() {
		t.Skip("500 uploads")
	}
	h := newHarness(t, harnessOptions{})
	const n = 300
	events, batches, _ := burst(h, "f", n)
	if events < 2*n || batches > events/5 {
		t.Fatalf("%d events in %d batches: not coalesced", events, batches)
	}
	t.Logf("%d events reached the UI in %d batches", events, batches)
}

// BenchmarkBurstBatch drops a folder of 500 files per iteration and
// reports how long the UI thread spent on one batch of events: the median
// and the longest.
//
//	go test -run '^$' -bench BurstBatch -count 3 ./app/
func BenchmarkBurstBatch(b *testing.B) {
	h := newHarness(b, harnessOptions{})
	var all []time.Duration
	i := 0
	for b.Loop() {
		_, _, d := burst(h, fmt.Sprintf("b%d-", i), 500)
		all = append(all, d...)
		i++
	}
	slices.Sort(all)
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-batch-ms")
	b.ReportMetric(float64(all[len(all)-1].Microseconds())/1000, "max-batch-ms")
}

// burst drops a folder of n new files named prefix…, says yes to the
// question, and waits until every one is in the list. It returns the
// events and batches the UI got and how long each batch took.
func burst(h *harness, prefix string, n int) (events, batches int, took []time.Duration) {
	h.t.Helper()
	apply := h.u.edge.apply
	defer func() { h.u.edge.apply = apply }()
	h.u.edge.apply = func(b *batch) {
		events += len(b.events)
		batches++
		start := time.Now()
		apply(b)
		took = append(took, time.Since(start))
	}
	dir := h.t.TempDir()
	for i := range n {
		writeFile(h.t, dir, fmt.Sprintf("%s%03d.png", prefix, i), 64)
	}
	h.drop(dir)
	h.until("the question", func() bool { return h.overlayButton("Yes") != nil })
	test.Tap(h.overlayButton("Yes"))
	h.until("all uploads", func() bool {
		c := 0
		for _, r := range h.u.model.rows {
			if strings.HasPrefix(filepath.Base(r.File), prefix) {
				c++
			}
		}
		return c == n && len(h.u.model.jobs) == 0
	})
	return events, batches, took
}

func TestGoroutineID(t *testing.T) {
	here := goroutineID()
	if here == 0 {
		t.Fatal("no goroutine ID read")
	}
	other := make(chan uint64)
	go func() { other <- goroutineID() }()
	if there := <-other; there == here || there == 0 {
		t.Fatalf("goroutine IDs %d here and %d on another goroutine", here, there)
	}
	if again := goroutineID(); again != here {
		t.Fatalf("goroutine ID %d, then %d", here, again)
	}
}
