package core

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"upshot/internal/instance"
	"upshot/internal/store"
	"upshot/uploader"
	"upshot/uploader/s3test"
	"upshot/watcher"
)

// coreEnv is a server, settings for it and a data folder.
type coreEnv struct {
	srv    *s3test.Server
	cfg    *uploader.Config
	data   string
	events chan Event
}

func newCoreEnv(t *testing.T) *coreEnv {
	t.Helper()
	e := &coreEnv{srv: s3test.Start(t, s3test.Options{}), data: t.TempDir(), events: make(chan Event, 1000)}
	e.cfg = e.config("")
	return e
}

// config is settings for the server; bucket "" is the server's.
func (e *coreEnv) config(bucket string) *uploader.Config {
	if bucket == "" {
		bucket = e.srv.Bucket
	}
	cfg := &uploader.Config{Target: uploader.Target{Endpoint: e.srv.Endpoint, Bucket: bucket, KeyID: e.srv.AccessKey,
		Key: uploader.NewSecret(e.srv.SecretKey), PathTemplate: "{name}{ext}"}}
	cfg.SetDefaults()
	return cfg
}

func (e *coreEnv) open(t *testing.T, opts Options) *Core {
	t.Helper()
	opts.DataDir = e.data
	if opts.OnEvent == nil {
		opts.OnEvent = func(ev Event) { e.events <- ev }
	}
	p := uploader.Policy{Attempts: 1}
	opts.Uploader.Policy = &p
	c, err := Open(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// next waits for an event of kind.
func (e *coreEnv) next(t *testing.T, kind EventKind) Event {
	t.Helper()
	timeout := time.After(5 * time.Minute) // a hang guard
	for {
		select {
		case ev := <-e.events:
			if ev.Kind == kind {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event", kind)
		}
	}
}

func TestOneOwnerPerDataFolder(t *testing.T) {
	e := newCoreEnv(t)
	a := e.open(t, Options{Role: RoleWatch, Config: e.cfg})
	if _, err := Open(t.Context(), Options{DataDir: e.data, Role: RoleWindow}); !errors.Is(err, instance.ErrRunning) {
		t.Fatalf("second owner: %v, want ErrRunning", err)
	}
	// History, delete and share work beside the owner.
	shared, err := OpenShared(t.Context(), Options{DataDir: e.data, Config: e.cfg})
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Close()
	if _, err := shared.History(t.Context(), store.Query{}); err != nil {
		t.Fatal(err)
	}
	if err := shared.Run(t.Context()); err == nil {
		t.Fatal("a shared core runs the queue")
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := Open(t.Context(), Options{DataDir: e.data, Role: RoleWindow})
	if err != nil {
		t.Fatalf("after the owner closed: %v", err)
	}
	b.Close()
}

// TestOwnerWaitsForPassingUpload: a window or watch starting while an
// "upshot upload" runs the queue waits for it rather than failing; a
// second upload does not wait (it hands its files over instead).
func TestOwnerWaitsForPassingUpload(t *testing.T) {
	e := newCoreEnv(t)
	up, err := Open(t.Context(), Options{DataDir: e.data, Role: RoleUpload, Config: e.cfg})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(t.Context(), Options{DataDir: e.data, Role: RoleUpload}); !errors.Is(err, instance.ErrRunning) {
		t.Fatalf("second upload: %v, want ErrRunning", err)
	}
	opened := make(chan error, 1)
	go func() {
		w, err := Open(t.Context(), Options{DataDir: e.data, Role: RoleWatch})
		if err == nil {
			w.Close()
		}
		opened <- err
	}()
	if err := up.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-opened; err != nil {
		t.Fatalf("the watch did not wait for the upload: %v", err)
	}
}

func TestHandOff(t *testing.T) {
	e := newCoreEnv(t)
	var mu sync.Mutex
	var pages []string
	owner := e.open(t, Options{Role: RoleWindow, Config: e.cfg, OnShow: func(page string) {
		mu.Lock()
		pages = append(pages, page)
		mu.Unlock()
	}})
	if err := owner.HandoffError(); err != nil {
		t.Fatal(err)
	}
	owner.Ready()
	dir := t.TempDir()
	good := writeFiles(t, dir, 3)
	missing := filepath.Join(dir, "missing.png")
	files := append(slices.Clone(good), missing)
	results := make([]*Result, len(files))
	if err := Reach(e.data).Upload(t.Context(), files, false, func(i int, r Result) { results[i] = &r }); err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		switch {
		case r == nil:
			t.Fatalf("no result for %s", files[i])
		case i < len(good) && (r.Err != nil || r.Entry.Key != filepath.Base(good[i]) || r.Link.URL != r.Entry.URL || r.Entry.Source != store.SourceCLI):
			t.Fatalf("%s: %+v", files[i], r)
		case i == len(good) && (r.Err == nil || r.Fatal):
			t.Fatalf("missing file: %+v", r)
		}
	}
	// The owner saw them as its own uploads.
	for range good {
		e.next(t, Done)
	}
	st, err := Reach(e.data).Status(t.Context())
	if err != nil || st.Role != RoleWindow || !st.Ready || st.Uploaded != int64(len(good)) || st.Jobs[store.StateRejected] != 1 {
		t.Fatalf("status %+v, %v", st, err)
	}
	if shown, err := Reach(e.data).Show(t.Context(), "settings"); !shown || err != nil {
		t.Fatalf("show: %v, %v", shown, err)
	}
	mu.Lock()
	if !slices.Equal(pages, []string{"settings"}) {
		t.Fatalf("pages shown %q", pages)
	}
	mu.Unlock()
	if err := owner.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Reach(e.data).Status(t.Context()); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("after close: %v, want ErrNotRunning", err)
	}
}

func TestShowWithoutWindow(t *testing.T) {
	e := newCoreEnv(t)
	e.open(t, Options{Role: RoleWatch, Config: e.cfg})
	if shown, err := Reach(e.data).Show(t.Context(), ""); shown || err != nil {
		t.Fatalf("show on a watch: %v, %v", shown, err)
	}
}

// TestBatchStopsOnConfigError: a missing bucket fails every file alike,
// so the batch says it once and does not try the rest.
func TestBatchStopsOnConfigError(t *testing.T) {
	e := newCoreEnv(t)
	c := e.open(t, Options{Role: RoleUpload, Config: e.config("no-such-bucket")})
	files := writeFiles(t, t.TempDir(), 12)
	var results []Result
	c.Upload(t.Context(), files, store.SourceCLI, false, func(_ int, r Result) { results = append(results, r) })
	if len(results) != len(files) {
		t.Fatalf("%d results for %d files", len(results), len(files))
	}
	config, stopped := 0, 0
	for _, r := range results {
		switch {
		case r.Config && r.Fatal && uploader.IsConfigError(r.Err):
			config++
		case r.Stopped():
			stopped++
		default:
			t.Fatalf("result %+v", r)
		}
	}
	if config == 0 || stopped == 0 || config > uploader.DefaultConcurrency {
		t.Fatalf("%d configuration errors, %d stopped", config, stopped)
	}
}

// TestUseRetriesFailed: an upload that failed for the settings goes
// through once better ones are used, without the user asking.
func TestUseRetriesFailed(t *testing.T) {
	e := newCoreEnv(t)
	c := e.open(t, Options{Role: RoleWatch, Config: e.config("no-such-bucket"), Backoff: func(int) time.Duration { return time.Hour }})
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { c.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	file := writeFiles(t, t.TempDir(), 1)[0]
	if err := c.Add(t.Context(), []string{file}, store.SourceDrop); err != nil {
		t.Fatal(err)
	}
	if ev := e.next(t, Failed); !uploader.IsConfigError(ev.Err) {
		t.Fatalf("failed with %v", ev.Err)
	}
	if err := c.Use(t.Context(), e.cfg); err != nil {
		t.Fatal(err)
	}
	if ev := e.next(t, Done); ev.Entry.Key != filepath.Base(file) {
		t.Fatalf("done %+v", ev.Entry)
	}
}

// TestWatchAndStop: the core watches folders until told otherwise.
func TestWatchAndStop(t *testing.T) {
	e := newCoreEnv(t)
	c := e.open(t, Options{Role: RoleWatch, Config: e.cfg})
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { c.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	dir := t.TempDir()
	if err := c.Watch(t.Context(), []watcher.Folder{{Dir: dir}}, func(err error) { t.Error(err) }); err != nil {
		t.Fatal(err)
	}
	if c.Watching() != 1 {
		t.Fatalf("watching %d", c.Watching())
	}
	p := filepath.Join(dir, "new.png")
	if err := os.WriteFile(p, []byte("a new screenshot"), 0o644); err != nil {
		t.Fatal(err)
	}
	if ev := e.next(t, Done); ev.Job.Path != p || ev.Job.Source != store.SourceWatch {
		t.Fatalf("done %+v", ev.Job)
	}
	c.StopWatch()
	if c.Watching() != 0 {
		t.Fatalf("watching %d after stop", c.Watching())
	}
	if err := c.Watch(t.Context(), []watcher.Folder{{Dir: filepath.Join(dir, "nope")}}, nil); err == nil {
		t.Fatal("a missing folder is watched")
	}
}

// TestCollectFollowsWatcherRules: a dropped folder gives what a watcher of
// it would upload.
func TestCollectFollowsWatcherRules(t *testing.T) {
	e := newCoreEnv(t)
	c := e.open(t, Options{Role: RoleWindow})
	dir := t.TempDir()
	for _, name := range []string{"a.png", ".hidden.png", "sub/b.JPG", ".git/c.png", "notes.txt", "x.png.part", "~lock.png"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lone := filepath.Join(dir, "notes.txt")
	files, err := c.Collect(t.Context(), []string{dir, lone, filepath.Join(dir, "gone.png")})
	want := []string{filepath.Join(dir, "a.png"), filepath.Join(dir, "sub", "b.JPG"), lone}
	if !slices.Equal(files, want) {
		t.Fatalf("collected %q, want %q", files, want)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the missing path: %v", err)
	}
}

func TestDeleteNeedsHistoryOrForce(t *testing.T) {
	e := newCoreEnv(t)
	c := e.open(t, Options{Role: RoleUpload, Config: e.cfg})
	if err := c.Delete(t.Context(), "never-uploaded.png", false); !errors.Is(err, ErrNotUploaded) {
		t.Fatalf("unknown key: %v", err)
	}
	file := writeFiles(t, t.TempDir(), 1)[0]
	var r Result
	c.Upload(t.Context(), []string{file}, store.SourceCLI, false, func(_ int, got Result) { r = got })
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if err := c.Delete(t.Context(), r.Entry.Key, false); err != nil {
		t.Fatal(err)
	}
	if _, known, err := c.Lookup(t.Context(), r.Entry.Key); known || err != nil {
		t.Fatalf("after delete: known %v, %v", known, err)
	}
}

// TestWorksWithoutHandoff: a data folder where the socket cannot be made
// still runs the queue, and says why others cannot reach it.
func TestWorksWithoutHandoff(t *testing.T) {
	e := newCoreEnv(t)
	if err := os.MkdirAll(filepath.Join(e.data, "upshot.sock", "in-the-way"), 0o700); err != nil {
		t.Fatal(err)
	}
	c := e.open(t, Options{Role: RoleWatch, Config: e.cfg})
	if c.HandoffError() == nil {
		t.Fatal("no hand-off error with a folder where the socket goes")
	}
	var r Result
	c.Upload(t.Context(), writeFiles(t, t.TempDir(), 1), store.SourceCLI, false, func(_ int, got Result) { r = got })
	if r.Err != nil {
		t.Fatal(r.Err)
	}
}

// TestWaitReady: a request for the status can wait for the front end, and
// is answered the moment it is up.
func TestWaitReady(t *testing.T) {
	e := newCoreEnv(t)
	c := e.open(t, Options{Role: RoleWindow})
	if st, err := Reach(e.data).Status(t.Context()); err != nil || st.Ready {
		t.Fatalf("before Ready: %+v, %v", st, err)
	}
	got := make(chan Status, 1)
	go func() {
		st, err := Reach(e.data).WaitReady(t.Context())
		if err != nil {
			t.Error(err)
		}
		got <- st
	}()
	c.Ready()
	if st := <-got; !st.Ready || st.Role != RoleWindow {
		t.Fatalf("status %+v", st)
	}
}
