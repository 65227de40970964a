package app

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"upshot/internal/core"
	"upshot/internal/store"
)

// seedHistory fills a store with n uploads, as if made over n minutes.
func seedHistory(tb testing.TB, st *store.Store, n int) {
	tb.Helper()
	ctx := context.Background()
	t0 := time.Now().Add(-time.Duration(n) * time.Minute)
	for i := range n {
		name := fmt.Sprintf("Screenshot %s.png", t0.Add(time.Duration(i)*time.Minute).Format("2006-01-02 at 15.04.05"))
		path := filepath.Join("/home/user/Pictures/Screenshots", name)
		j, err := st.Begin(ctx, path, int64(1000+i), t0, store.SourceWatch)
		if err != nil {
			tb.Fatal(err)
		}
		sha := fmt.Sprintf("%040x", i+1)
		_, err = st.Complete(ctx, j.ID, store.Entry{Key: "2026/11/" + name, URL: "https://img.example.com/2026/11/" + strings.ReplaceAll(name, " ", "%20"),
			SHA1: sha, Size: int64(1000 + i), ContentType: "image/png", Time: t0.Add(time.Duration(i) * time.Minute)})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkHistoryFirstPaint measures the time from building the window
// over a history of 10,000 uploads to its first complete picture
// (software-rendered by Fyne's test driver): reading the pending jobs and
// the first page, laying out, and painting every visible row.
func BenchmarkHistoryFirstPaint(b *testing.B) {
	data := b.TempDir()
	st, err := core.OpenStore(b.Context(), data)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	seedHistory(b, st, 10_000)
	cc, err := core.Open(b.Context(), core.Options{DataDir: data})
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Close()
	a := test.NewTempApp(b)
	c := &backend{Core: cc, clip: &fakeClip{}, configPath: filepath.Join(b.TempDir(), "c.toml"), now: time.Now}
	for b.Loop() {
		u := newUI(a, c, uiOptions{do: func(func()) {}})
		u.tabs.SelectIndex(0)
		if err := u.model.loadJobs(b.Context()); err != nil {
			b.Fatal(err)
		}
		if err := u.model.reload(b.Context()); err != nil {
			b.Fatal(err)
		}
		u.list.Refresh()
		u.win.Resize(fyne.NewSize(760, 560))
		img := u.win.Canvas().Capture()
		if img.Bounds().Dx() == 0 || u.model.len() != pageSize {
			b.Fatalf("nothing painted (%d rows)", u.model.len())
		}
		u.win.Close()
	}
}
