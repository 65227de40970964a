package core

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"upshot/internal/instance"
	"upshot/internal/store"
	"upshot/internal/winname"
	"upshot/uploader"
	"upshot/watcher"
)

// DefaultInclude is what a dropped folder uploads, and what a watched
// folder added in the settings watches unless told otherwise: images and
// videos.
var DefaultInclude = []string{"*.png", "*.jpg", "*.jpeg", "*.gif", "*.webp", "*.mp4", "*.mov", "*.webm"}

// Roles a queue's owner tells other processes it plays.
const (
	RoleWindow = "window"
	RoleWatch  = "watch"
	RoleUpload = "upload"
	RoleInbox  = "inbox"
)

// ErrNotConfigured is what uploads fail with before there are settings;
// they are retried once [Core.Use] gets some.
var ErrNotConfigured = errors.New("not set up yet: fill in the settings and save them; the upload is retried then")

// ErrNotUploaded is returned by [Core.Delete] for a key the history does
// not know, unless forced.
var ErrNotUploaded = errors.New("not in Upshot's history, so Upshot did not upload it")

// Options configure [Open].
type Options struct {
	// DataDir holds the queue, the history and the lock; default
	// uploader.DataDir().
	DataDir string
	// Config is the settings, nil until there are some (the window's first
	// run): uploads then wait, failed, until [Core.Use].
	Config *uploader.Config
	// Uploader tunes the uploaders made from the settings (HTTP client,
	// retry notices). Its StateDir defaults to DataDir.
	Uploader uploader.Options
	// Role says which front end owns the queue: RoleWindow, RoleWatch,
	// RoleInbox or RoleUpload. Other Upshot processes see it.
	Role string
	// OnEvent receives the queue's events (see [QueueOptions.OnEvent]).
	OnEvent func(Event)
	// Concurrency bounds uploads at once; default Config's, else
	// uploader.DefaultConcurrency.
	Concurrency int
	// Backoff gives the wait before a failed upload's next attempt;
	// default store.Backoff.
	Backoff func(attempt int) time.Duration
	// OnShow raises the window, on page "" or "settings", when another
	// "upshot" asks for it. Nil when this process has no window.
	OnShow func(page string)
}

// Core is Upshot's one core: the queue and history of one data folder,
// the settings and uploader in use, the folder watcher, and the hand-off
// point for other Upshot processes. The window and the command line only
// present it. Its methods are safe for concurrent use.
type Core struct {
	opts Options
	st   *store.Store
	lock *instance.Lock // nil when shared
	svc  *Service
	// Recovered is how many interrupted uploads were queued again.
	Recovered int

	mu  sync.Mutex
	cfg *uploader.Config
	up  *uploader.Uploader

	watch      watchRunner
	handoff    *server // nil when shared, or when listening failed
	handoffErr error
	ready      chan struct{} // closed by Ready
	readyOnce  sync.Once
	uploaded   atomic.Int64

	waitMu  sync.Mutex
	waiters map[string]chan Event // by job path: see Relay
}

// Open takes the queue of opts.DataDir: the instance lock (failing with
// instance.ErrRunning while another process holds it, or waiting while
// that is a passing "upshot upload"), the store, and the jobs an earlier
// run left uploading, which go back to the queue. From then on other
// Upshot processes can hand it files ([Reach]). Call Run to work the
// queue, and Close when done. A store that cannot be used is a
// *store.Trouble that says what to do.
func Open(ctx context.Context, opts Options) (*Core, error) {
	opts = withDefaults(opts)
	lock, err := acquire(ctx, opts.DataDir, opts.Role != RoleUpload)
	if err != nil {
		return nil, err
	}
	st, err := OpenStore(ctx, opts.DataDir)
	if err != nil {
		return nil, errors.Join(err, lock.Release())
	}
	n, err := st.Recover(ctx)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("queue interrupted uploads again: %w", store.Diagnose(err, st.Path())), st.Close(), lock.Release())
	}
	c := &Core{opts: opts, st: st, lock: lock, Recovered: n, ready: make(chan struct{})}
	conc := opts.Concurrency
	if conc == 0 && opts.Config != nil {
		conc = opts.Config.Transfer.Concurrency
	}
	c.svc = NewService(st, unconfigured{}, QueueOptions{Concurrency: conc, OnEvent: c.event, Backoff: opts.Backoff,
		StripMetadata: StripRule(func() *uploader.Config { cfg, _ := c.Settings(); return cfg })})
	if opts.Config != nil {
		if err := c.setSettings(opts.Config); err != nil {
			return nil, errors.Join(err, c.Close())
		}
	}
	// Without the hand-off point the queue still works; other commands
	// then cannot reach it, which HandoffError tells.
	c.handoff, c.handoffErr = listen(c)
	return c, nil
}

// HandoffError is why other Upshot processes cannot reach this one (hand
// it files, raise its window), or nil when they can.
func (c *Core) HandoffError() error { return c.handoffErr }

// OpenShared opens the history of opts.DataDir beside whatever process
// runs the queue, for one-off work: History, Delete, Share. It neither
// takes nor works the queue.
func OpenShared(ctx context.Context, opts Options) (*Core, error) {
	opts = withDefaults(opts)
	st, err := OpenStore(ctx, opts.DataDir)
	if err != nil {
		return nil, err
	}
	c := &Core{opts: opts, st: st, ready: make(chan struct{})}
	if opts.Config != nil {
		if err := c.setSettings(opts.Config); err != nil {
			return nil, errors.Join(err, st.Close())
		}
	}
	return c, nil
}

func withDefaults(opts Options) Options {
	if opts.DataDir == "" {
		opts.DataDir = uploader.DataDir()
	}
	if opts.Uploader.StateDir == "" {
		opts.Uploader.StateDir = opts.DataDir
	}
	if opts.OnEvent == nil {
		opts.OnEvent = func(Event) {}
	}
	return opts
}

// acquire takes the instance lock. While the holder is an "upshot upload"
// (it ends by itself), it waits if asked to; a window or a watch is
// reported. A holder that does not answer is starting or ending: it is
// asked again for a few seconds.
func acquire(ctx context.Context, dataDir string, wait bool) (*instance.Lock, error) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	silent := time.Now().Add(3 * time.Second)
	for {
		lock, err := instance.Acquire(dataDir)
		if !errors.Is(err, instance.ErrRunning) || !wait {
			return lock, err
		}
		st, serr := Reach(dataDir).Status(ctx)
		switch {
		case serr == nil && st.Role == RoleUpload:
		case serr != nil && time.Now().Before(silent):
			// Not listening yet, or closing: ask again.
		default:
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-t.C:
		}
	}
}

// Run works the queue until ctx ends; see [Service.Run].
func (c *Core) Run(ctx context.Context) error {
	if c.svc == nil {
		return errors.New("the queue is not open here: another Upshot runs it")
	}
	return c.svc.Run(ctx)
}

// Close stops the watcher and the hand-off point, closes the store and
// gives the queue up.
func (c *Core) Close() error {
	c.StopWatch()
	var errs []error
	if c.handoff != nil {
		errs = append(errs, c.handoff.close())
	}
	errs = append(errs, c.st.Close())
	if c.lock != nil {
		errs = append(errs, c.lock.Release())
	}
	return errors.Join(errs...)
}

// Finish stops taking hand-offs from other processes and waits for those
// under way, for a process about to give the queue up by itself ("upshot
// upload" at its end). Close, for one that quits, cuts them short.
func (c *Core) Finish() {
	if c.handoff != nil {
		c.handoff.finish()
	}
}

// DataDir is the data folder the core works in.
func (c *Core) DataDir() string { return c.opts.DataDir }

// Ready tells other processes that the front end is up (the window shows).
func (c *Core) Ready() { c.readyOnce.Do(func() { close(c.ready) }) }

// isReady reports whether Ready was called.
func (c *Core) isReady() bool {
	select {
	case <-c.ready:
		return true
	default:
		return false
	}
}

// event counts what other processes may ask about, then passes ev on.
func (c *Core) event(ev Event) {
	if ev.Kind == Done {
		c.uploaded.Add(1)
	}
	c.notifyWaiter(ev)
	c.opts.OnEvent(ev)
	c.afterUpload(ev)
}

// Settings returns the settings and uploader in use; both nil before
// there are settings. The config must not be modified.
func (c *Core) Settings() (*uploader.Config, *uploader.Uploader) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfg, c.up
}

// Format is the configured link format; URL when unset or unknown.
func (c *Core) Format() uploader.Format {
	cfg, _ := c.Settings()
	if cfg == nil {
		return uploader.FormatURL
	}
	if f, err := uploader.ParseFormat(cfg.Output.Format); err == nil {
		return f
	}
	return uploader.FormatURL
}

// NewUploader makes an uploader for cfg with the core's options, for
// trying settings out before they are used.
func (c *Core) NewUploader(cfg *uploader.Config) (*uploader.Uploader, error) {
	up, err := uploader.New(cfg, c.opts.Uploader)
	if err != nil {
		return nil, fmt.Errorf("set up the uploader: %w", err)
	}
	return up, nil
}

// Use switches to new settings: uploads from now on use them, and the
// jobs that failed (often for want of right settings) are tried again at
// once.
func (c *Core) Use(ctx context.Context, cfg *uploader.Config) error {
	if err := c.setSettings(cfg); err != nil {
		return err
	}
	if c.svc == nil {
		return nil
	}
	failed, err := c.st.Jobs(ctx, store.StateFailed, 0)
	if err != nil {
		return fmt.Errorf("find the uploads to try again: %w", store.Diagnose(err, c.st.Path()))
	}
	for _, j := range failed {
		_ = c.svc.Retry(ctx, j.ID) // a job may have moved on meanwhile
	}
	return nil
}

// setSettings switches to cfg and its uploader.
func (c *Core) setSettings(cfg *uploader.Config) error {
	up, err := c.NewUploader(cfg)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.cfg, c.up = cfg, up
	c.mu.Unlock()
	if c.svc != nil {
		c.svc.SetUploader(up)
	}
	return nil
}

// Add queues files with the given source.
func (c *Core) Add(ctx context.Context, files []string, src store.Source) error {
	var errs []error
	for _, f := range files {
		if _, err := c.svc.Add(ctx, f, src, time.Time{}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Retry puts a failed or rejected job back in the queue now.
func (c *Core) Retry(ctx context.Context, jobID int64) error { return c.svc.Retry(ctx, jobID) }

// SetPaused pauses or resumes the queue; see [Service.SetPaused].
func (c *Core) SetPaused(ctx context.Context, paused bool) error {
	return c.svc.SetPaused(ctx, paused)
}

// Paused reports whether the queue is paused.
func (c *Core) Paused(ctx context.Context) (bool, error) { return c.st.Paused(ctx) }

// Counts is the number of jobs in each state.
func (c *Core) Counts(ctx context.Context) (map[store.State]int, error) { return c.st.Counts(ctx) }

// Jobs lists up to limit jobs in state st (0: all).
func (c *Core) Jobs(ctx context.Context, st store.State, limit int) ([]store.Job, error) {
	return c.st.Jobs(ctx, st, limit)
}

// History lists past uploads, newest first.
func (c *Core) History(ctx context.Context, q store.Query) ([]store.Entry, error) {
	es, err := c.st.History(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read the history: %w", store.Diagnose(err, c.st.Path()))
	}
	return es, nil
}

// Collect expands dropped or pasted paths into files: a file stays as it
// is; a folder gives the files a watcher of it would upload, limited to
// DefaultInclude. Paths that do not exist are reported in the error,
// after the files that could be found.
func (c *Core) Collect(ctx context.Context, paths []string) ([]string, error) {
	var files []string
	var errs []error
	for _, p := range paths {
		if err := uploader.CheckName(p); err != nil {
			errs = append(errs, err) // not even a stat: it would open a device
			continue
		}
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
		case !fi.IsDir():
			files = append(files, p)
		default:
			fs, err := watcher.Files(ctx, watcher.Folder{Dir: p, Include: DefaultInclude})
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			files = append(files, fs...)
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	return files, errors.Join(errs...)
}

// Share makes an expiring link (a presigned GET, at most 7 days) to key.
func (c *Core) Share(ctx context.Context, key string, d time.Duration) (string, error) {
	_, up := c.Settings()
	if up == nil {
		return "", ErrNotConfigured
	}
	u, err := up.Share(ctx, key, d)
	if err != nil {
		return "", fmt.Errorf("make an expiring link to %s: %w", key, err)
	}
	return u, nil
}

// Lookup finds the upload that made key, if the history knows it.
func (c *Core) Lookup(ctx context.Context, key string) (store.Entry, bool, error) {
	e, ok, err := c.st.FindByKey(ctx, key)
	if err != nil {
		return store.Entry{}, false, fmt.Errorf("read the history: %w", store.Diagnose(err, c.st.Path()))
	}
	return e, ok, nil
}

// Delete deletes key from the bucket and marks it, and every upload that
// shared it, deleted in the history. A key the history does not know is
// refused with ErrNotUploaded unless force is set.
func (c *Core) Delete(ctx context.Context, key string, force bool) error {
	_, up := c.Settings()
	if up == nil {
		return ErrNotConfigured
	}
	e, known, err := c.Lookup(ctx, key)
	if err != nil {
		return err
	}
	if !known && !force {
		return fmt.Errorf("%s is %w: check the key, or pass --force to delete it anyway", key, ErrNotUploaded)
	}
	if err := up.Delete(ctx, key); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	if !known {
		return nil
	}
	if _, err := c.st.MarkDeleted(context.WithoutCancel(ctx), e.ID, time.Now()); err != nil {
		return fmt.Errorf("%s is deleted from the bucket, but the history could not record it: %w", key, store.Diagnose(err, c.st.Path()))
	}
	return nil
}

// watchRunner is the folder watcher in use, restarted when the folders
// change.
type watchRunner struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
	n      int // folders being watched
}

// Watch stops the folder watcher in use, if any, and watches folders from
// now on, until ctx ends or the next Watch. Problems the watcher meets
// later go to onError; a folder that cannot be watched is an error now.
func (c *Core) Watch(ctx context.Context, folders []watcher.Folder, onError func(error)) error {
	w := &c.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cancel != nil {
		w.cancel()
		<-w.done
		w.cancel, w.done, w.n = nil, nil, 0
	}
	if len(folders) == 0 {
		return nil
	}
	wctx, cancel := context.WithCancel(ctx)
	wait, err := c.svc.Watch(wctx, folders, onError)
	if err != nil {
		cancel()
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		wait()
	}()
	w.cancel, w.done, w.n = cancel, done, len(folders)
	return nil
}

// Watching is the number of folders being watched.
func (c *Core) Watching() int {
	c.watch.mu.Lock()
	defer c.watch.mu.Unlock()
	return c.watch.n
}

// StopWatch stops the folder watcher and waits for it.
func (c *Core) StopWatch() {
	if c.svc != nil {
		_ = c.Watch(context.Background(), nil, nil)
	}
}

// unconfigured stands in for the uploader until there are settings: every
// upload fails, and is retried once there are.
type unconfigured struct{}

func (unconfigured) Prepare(context.Context, uploader.Request) (*uploader.Prepared, error) {
	return nil, ErrNotConfigured
}

func (unconfigured) Send(context.Context, *uploader.Prepared) (uploader.Result, error) {
	return uploader.Result{}, ErrNotConfigured
}

func (unconfigured) Confirm(context.Context, string, *uploader.Prepared) (bool, error) {
	return false, ErrNotConfigured
}

func (unconfigured) CheckLink(context.Context, string, int64, string) string { return "" }

// absPaths makes paths absolute, for a process whose folder differs.
func absPaths(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		// Windows makes a device name absolute as the device (\\.\aux):
		// keep the name, which the upload then refuses by name.
		if a, err := filepath.Abs(p); err == nil && winname.Check(p) == "" {
			p = a
		}
		out[i] = p
	}
	return out
}

// configSettle is how long the config file must be left alone after a
// change before it is read: an editor or os.WriteFile truncates first and
// writes after, and the empty file in between is no new setting.
const configSettle = 200 * time.Millisecond

// FollowConfig reloads the settings from path whenever the file changes,
// until ctx ends. It watches the file's folder, so a file an editor
// replaces by a rename is followed too. Settings that load are used at
// once (the uploads that failed are tried again, see Use) and passed to
// changed with a nil error; settings that do not load are passed with the
// error, and the ones in use stay. It returns nil when ctx ends, or at
// once an error saying the folder cannot be watched.
func (c *Core) FollowConfig(ctx context.Context, path string, changed func(*uploader.Config, error)) error {
	w, err := fsnotify.NewWatcher()
	if err == nil {
		defer w.Close()
		err = w.Add(filepath.Dir(path))
	}
	if err != nil {
		return fmt.Errorf("changes to %s will not be followed (restart to use them): %w", path, err)
	}
	last, _ := os.ReadFile(path)
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	defer settle.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if filepath.Clean(ev.Name) == filepath.Clean(path) {
				settle.Reset(configSettle)
			}
			continue
		case _, ok := <-w.Errors:
			if !ok {
				return nil
			}
			// Events may have been lost: look at the file now.
		case <-settle.C:
		}
		now, err := os.ReadFile(path)
		if err == nil && string(now) == string(last) || err != nil && last == nil {
			continue // unchanged, or still missing
		}
		last = now
		cfg, err := uploader.Load(path)
		if err == nil {
			err = c.Use(ctx, cfg)
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			changed(nil, err)
			continue
		}
		changed(cfg, nil)
	}
}
