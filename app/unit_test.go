package app

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"upshot/internal/service"
	"upshot/uploader/store"
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

	e.OnEvent(service.Event{Kind: service.Queued, Job: store.Job{ID: 1}})
	first := <-uiq // the loop waits for the UI thread with the first batch
	for i := range 100 {
		e.OnEvent(service.Event{Kind: service.Progress, Job: store.Job{ID: 1}, Sent: int64(i), Total: 100})
		e.OnEvent(service.Event{Kind: service.Progress, Job: store.Job{ID: 2}, Sent: int64(i), Total: 100})
	}
	e.Post(func() { order = append(order, "post") })
	e.OnEvent(service.Event{Kind: service.Done, Job: store.Job{ID: 1}})
	e.OnEvent(service.Event{Kind: service.Progress, Job: store.Job{ID: 1}, Sent: 5, Total: 5})
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
		kind service.EventKind
		job  int64
		sent int64
	}{{service.Progress, 1, 99}, {service.Progress, 2, 99}, {service.Done, 1, 0}, {service.Progress, 1, 5}}
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

func TestAutostartEntry(t *testing.T) {
	if !autostartSupported {
		if err := setAutostart(true); err == nil {
			t.Fatal("setAutostart succeeded where it is unsupported")
		}
		return
	}
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	if autostartEnabled() {
		t.Fatal("enabled from the start")
	}
	if err := setAutostart(true); err != nil {
		t.Fatal(err)
	}
	p, _ := autostartPath()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	if !strings.Contains(string(b), "Exec="+quoteExec(exe)+"\n") || !strings.HasPrefix(string(b), "[Desktop Entry]\n") || !autostartEnabled() {
		t.Fatalf("entry:\n%s", b)
	}
	if err := setAutostart(false); err != nil || autostartEnabled() {
		t.Fatalf("still enabled after turning it off (%v)", err)
	}
	if err := setAutostart(false); err != nil {
		t.Fatalf("turning it off twice: %v", err)
	}
	if got := quoteExec(`/opt/my "apps"/$up\shot`); got != `"/opt/my \\"apps\\"/\\$up\\\\shot"` {
		t.Fatalf("quoteExec: %s", got)
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
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 kB", 2_150_000: "2.1 MB", 5e9: "5.0 GB"} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
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

// TestBurstStaysResponsive uploads 500 files at once: the UI sees them in
// far fewer batches than there are events, and every file ends in the list.
func TestBurstStaysResponsive(t *testing.T) {
	if testing.Short() {
		t.Skip("500 uploads")
	}
	h := newHarness(t, harnessOptions{})
	var mu sync.Mutex
	events, batches := 0, 0
	apply := h.u.edge.apply
	h.u.edge.apply = func(b *batch) {
		mu.Lock()
		events += len(b.events)
		batches++
		mu.Unlock()
		start := time.Now()
		apply(b)
		if d := time.Since(start); d > 250*time.Millisecond {
			t.Errorf("a batch of %d events took %v on the UI thread", len(b.events), d)
		}
	}
	dir := t.TempDir()
	const n = 500
	for i := range n {
		writeFile(t, dir, fmt.Sprintf("f%03d.png", i), 64)
	}
	h.drop(dir)
	h.until("the question", func() bool { return h.overlayButton("Yes") != nil })
	test.Tap(h.overlayButton("Yes"))
	h.until("all uploads", func() bool {
		c := 0
		for _, r := range h.u.model.rows {
			if strings.HasPrefix(filepath.Base(r.File), "f") {
				c++
			}
		}
		return c == n && len(h.u.model.jobs) == 0
	})
	mu.Lock()
	defer mu.Unlock()
	if events < 2*n || batches > events/5 {
		t.Fatalf("%d events in %d batches: not coalesced", events, batches)
	}
	t.Logf("%d events reached the UI in %d batches", events, batches)
}
