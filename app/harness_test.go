package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"upshot/internal/clipboard"
	"upshot/internal/core"
	"upshot/internal/store"
	"upshot/uploader"
	"upshot/uploader/s3test"
)

// fakeClip is a system clipboard for tests. With broken set, writes fail
// the way they do without a display, so the app falls back to Fyne's.
type fakeClip struct {
	mu     sync.Mutex
	broken bool
	text   string
	image  []byte
}

func (f *fakeClip) WriteText(_ context.Context, s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.broken {
		return fmt.Errorf("write clipboard: %w: no display", clipboard.ErrUnavailable)
	}
	f.text = s
	return nil
}

func (f *fakeClip) ReadText(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.text, nil
}

func (f *fakeClip) ReadImage(context.Context) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.image == nil {
		return nil, clipboard.ErrNoImage
	}
	return f.image, nil
}

func (f *fakeClip) WriteImage(_ context.Context, png []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.broken {
		return fmt.Errorf("write clipboard image: %w: no display", clipboard.ErrUnavailable)
	}
	f.image = png
	return nil
}

func (f *fakeClip) written() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.text
}

// harness is the window over a real store, a real service and a real
// S3 server (versitygw), driven from the test's goroutine, which plays
// the UI thread: the edge hands its batches to uiq, and until runs them.
type harness struct {
	t     testing.TB
	app   fyne.App
	srv   *s3test.Server
	st    *store.Store
	core  *backend
	u     *ui
	clip  *fakeClip
	uiq   chan func()
	notes chan *fyne.Notification
	cfg   *uploader.Config
}

type harnessOptions struct {
	noConfig   bool   // start as if there were no config file
	badConfig  string // start with this config file, which does not load
	bus        string // the D-Bus session bus (for the keyring); default none
	brokenClip bool   // the system clipboard is unavailable
}

func newHarness(t testing.TB, opts harnessOptions) *harness {
	t.Helper()
	t.Setenv("LANG", "C.UTF-8")
	// No session bus unless the test brings its own: keys must never reach
	// the developer's real keyring.
	bus := opts.bus
	if bus == "" {
		bus = "unix:path=" + filepath.Join(t.TempDir(), "no-bus")
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus)
	t.Setenv(uploader.EnvKeyID, "")
	t.Setenv(uploader.EnvKey, "")
	h := &harness{t: t, app: test.NewTempApp(t), uiq: make(chan func(), 16), notes: make(chan *fyne.Notification, 1000),
		clip: &fakeClip{broken: opts.brokenClip}}
	h.srv = s3test.Start(t, s3test.Options{})
	h.cfg = &uploader.Config{Target: uploader.Target{Endpoint: h.srv.Endpoint, Bucket: h.srv.Bucket, KeyID: h.srv.AccessKey,
		Key: uploader.NewSecret(h.srv.SecretKey), PathTemplate: "{name}{ext}"}}
	h.cfg.SetDefaults()
	policy := uploader.Policy{Attempts: 1, Base: time.Millisecond, Max: time.Millisecond}
	data := t.TempDir()
	r := &relay{}
	// A failed upload waits for the user's Retry: no retry behind the
	// test's back.
	cc, err := core.Open(t.Context(), core.Options{DataDir: data, Uploader: uploader.Options{Policy: &policy},
		Role: core.RoleWindow, OnEvent: r.event, OnShow: r.show, Backoff: func(int) time.Duration { return time.Hour }})
	if err != nil {
		t.Fatal(err)
	}
	// The test reads the history through a store of its own.
	h.st, err = core.OpenStore(t.Context(), data)
	if err != nil {
		t.Fatal(err)
	}
	h.core = &backend{Core: cc, clip: h.clip, configPath: filepath.Join(t.TempDir(), "config.toml"), now: time.Now}
	var (
		draftErr error
		draft    *uploader.Config
	)
	switch {
	case opts.badConfig != "":
		if err := os.WriteFile(h.core.configPath, []byte(opts.badConfig), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, draftErr = uploader.Load(h.core.configPath); draftErr == nil {
			t.Fatal("the bad config loads")
		}
		draft = readDraft(h.core.configPath)
		opts.noConfig = true
	case opts.noConfig:
		draftErr = fmt.Errorf("%w at %s", uploader.ErrNoConfig, h.core.configPath)
	}
	ctx, cancel := context.WithCancel(context.Background())
	do := func(f func()) {
		select {
		case h.uiq <- f:
		case <-ctx.Done():
		}
	}
	notify := func(n *fyne.Notification) { h.notes <- n }
	h.u = newUI(h.app, h.core, uiOptions{do: do, notify: notify, configErr: draftErr, draft: draft})
	r.attach(h.u)
	if !opts.noConfig {
		if err := h.core.Use(ctx, h.cfg); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = h.core.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		h.core.StopWatch()
		h.st.Close()
		cc.Close()
	})
	h.u.start(ctx)
	h.u.win.Resize(fyne.NewSize(800, 700))
	h.u.win.Show()
	return h
}

// until runs the UI work the edge hands over until cond holds; cond is
// also looked at now and then, for what no UI work follows (a file the
// core removes).
func (h *harness) until(what string, cond func() bool) {
	h.t.Helper()
	// A guard against a hang, not a measure: the race detector on a
	// loaded 2-core machine is slow.
	deadline := time.NewTimer(5 * time.Minute)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case f := <-h.uiq:
			f()
		case <-tick.C:
		case <-deadline.C:
			h.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// drop drops paths on the window, as the window's drop handler gets them.
func (h *harness) drop(paths ...string) {
	var uris []fyne.URI
	for _, p := range paths {
		uris = append(uris, storage.NewFileURI(p))
	}
	h.u.dropped(fyne.NewPos(10, 10), uris)
}

// rows returns the list's rows on screen, top first.
func (h *harness) rows() []*row {
	var out []*row
	for _, o := range test.LaidOutObjects(h.u.list) {
		if r, ok := o.(*row); ok && r.Visible() {
			out = append(out, r)
		}
	}
	// LaidOutObjects walks in layout order; sort by position to be sure.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Position().Y < out[j-1].Position().Y; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// top is the first row, or nil.
func (h *harness) top() *row {
	rs := h.rows()
	if len(rs) == 0 {
		return nil
	}
	return rs[0]
}

// done reports whether name is in the list as an uploaded entry.
func (h *harness) done(name string) bool {
	for i := range h.u.model.len() {
		it, _ := h.u.model.at(i)
		if it.job == nil && filepath.Base(it.entry.File) == name {
			return true
		}
	}
	return false
}

// pending returns the pending job for name, or nil.
func (h *harness) pending(name string) *pendingJob {
	for _, j := range h.u.model.jobs {
		if filepath.Base(j.job.Path) == name {
			return j
		}
	}
	return nil
}

// overlayButton finds a button with text in the window's top overlay (a
// dialog), or nil.
func (h *harness) overlayButton(text string) *widget.Button {
	top := h.u.win.Canvas().Overlays().Top()
	if top == nil {
		return nil
	}
	for _, o := range test.LaidOutObjects(top) {
		if b, ok := o.(*widget.Button); ok && b.Text == text && b.Visible() {
			return b
		}
	}
	return nil
}

// overlayHas reports whether the top overlay (a dialog) shows text
// containing s.
func (h *harness) overlayHas(s string) bool {
	top := h.u.win.Canvas().Overlays().Top()
	if top == nil {
		return false
	}
	for _, o := range test.LaidOutObjects(top) {
		switch w := o.(type) {
		case *widget.Label:
			if strings.Contains(w.Text, s) {
				return true
			}
		case *widget.RichText:
			if strings.Contains(w.String(), s) {
				return true
			}
		}
	}
	return false
}

// writeFile writes n random bytes to dir/name.
func writeFile(t testing.TB, dir, name string, n int) string {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// pngBytes is a w×h PNG with a gradient.
func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), 160, 255})
		}
	}
	f, err := os.CreateTemp(t.TempDir(), "*.png")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writePNG writes a w×h PNG to dir/name.
func writePNG(t *testing.T, dir, name string, w, h int) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pngBytes(t, w, h), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
