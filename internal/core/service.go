// Package core is Upshot's core: it takes files from the watcher, drops,
// the clipboard and the command line alike, keeps each as a durable job in
// the store, uploads it once, records it in the history and reports what
// happens as events. The CLI and the window are thin layers over it.
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

	"upshot/internal/store"
	"upshot/internal/winname"
	"upshot/uploader"
)

// jobStore is what the service needs from the store.
type jobStore interface {
	Enqueue(ctx context.Context, path string, size int64, mod time.Time, src store.Source) (store.Job, error)
	Begin(ctx context.Context, path string, size int64, mod time.Time, src store.Source) (store.Job, error)
	Claim(ctx context.Context, now time.Time) (store.Job, bool, error)
	Complete(ctx context.Context, jobID int64, e store.Entry) (store.Entry, error)
	SetLinkStatus(ctx context.Context, entryID int64, status string) error
	Fail(ctx context.Context, jobID int64, errText string, retryAt time.Time) error
	Reject(ctx context.Context, jobID int64, reason string) error
	Release(ctx context.Context, jobID int64) error
	Retry(ctx context.Context, jobID int64) error
	NextDue(ctx context.Context) (time.Time, bool, error)
	FindByContent(ctx context.Context, sha1 string, size int64, prefer store.Source) (store.Entry, bool, error)
	Paused(ctx context.Context) (bool, error)
	SetPaused(ctx context.Context, paused bool) error
	SeenFile(ctx context.Context, path string, size int64, mod time.Time) (bool, error)
	Watermark(ctx context.Context, dir string) (time.Time, error)
	SetWatermark(ctx context.Context, dir string, t time.Time) error
	Check(ctx context.Context) error
	Path() string
}

// fileUploader is what the service needs from the uploader.
type fileUploader interface {
	Prepare(ctx context.Context, req uploader.Request) (*uploader.Prepared, error)
	Send(ctx context.Context, p *uploader.Prepared) (uploader.Result, error)
	Confirm(ctx context.Context, key string, p *uploader.Prepared) (bool, error)
	CheckLink(ctx context.Context, url string, size int64, sha1hex string) string
}

var (
	_ jobStore     = (*store.Store)(nil)
	_ fileUploader = (*uploader.Uploader)(nil)
)

// EventKind says what happened to a job.
type EventKind int

// Event kinds, in the order a job meets them.
const (
	Queued         EventKind = iota // the file is a durable job now
	Started                         // a worker took the job
	Progress                        // bytes sent (throttled)
	Done                            // uploaded, or found already uploaded; Entry and Link are set
	Failed                          // will be retried at RetryAt
	Rejected                        // will not be retried without the user; Err says why
	PauseChanged                    // Paused says the new state
	StoreFailed                     // the queue and history cannot be used; Err is a *store.Trouble
	StoreRecovered                  // after StoreFailed: the store works again
	LinkChecked                     // after Done: the new link was fetched; Entry.LinkStatus says how it went
)

var kindNames = [...]string{"queued", "started", "progress", "done", "failed", "rejected", "paused", "store failed", "store recovered", "link checked"}

func (k EventKind) String() string { return kindNames[k] }

// Event is one report from the service.
type Event struct {
	Kind    EventKind
	Job     store.Job
	Entry   store.Entry   // Done, LinkChecked
	Link    uploader.Link // Done, LinkChecked
	Sent    int64         // Progress
	Total   int64         // Progress
	Err     error         // Failed, Rejected
	RetryAt time.Time     // Failed
	// Latency is, for Done, the time from the file being complete (or
	// handed over) to its link being ready.
	Latency time.Duration
	Paused  bool // PauseChanged
}

// QueueOptions tune a Service.
type QueueOptions struct {
	// Concurrency bounds uploads at once; default 4.
	Concurrency int
	// OnEvent receives every event. It is called from the service's
	// goroutines, several at once, and must return quickly (a GUI hands the
	// event to its own thread; the CLI prints it).
	OnEvent func(Event)
	// Now replaces time.Now.
	Now func() time.Time
	// Backoff gives the wait before a failed job's next attempt; default
	// store.Backoff.
	Backoff func(attempt int) time.Duration
	// StripMetadata says whether a job's photo is uploaded without its
	// metadata; nil strips every job's.
	StripMetadata func(store.Job) bool
}

// Service runs the queue. Its methods are safe for concurrent use.
type Service struct {
	st   jobStore
	opts QueueOptions

	upMu sync.RWMutex
	up   fileUploader // replaced by SetUploader when settings change

	wake chan struct{} // a job may be due: workers look

	mu    sync.Mutex
	ready map[int64]time.Time // job → when its file was complete, for latency
	// unrecorded holds jobs whose outcome the store could not take: they
	// go back to the queue once it works again.
	unrecorded map[int64]bool
	trouble    string                  // the store failure last reported, "" when none
	onRecover  []func()                // run when the store works again (watchers rescan)
	unusable   context.CancelCauseFunc // ends Run when the store cannot be used at all
}

// NewService makes a Service; call Run to start its workers.
func NewService(st jobStore, up fileUploader, opts QueueOptions) *Service {
	if opts.Concurrency < 1 {
		opts.Concurrency = uploader.DefaultConcurrency
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Backoff == nil {
		opts.Backoff = store.Backoff
	}
	if opts.OnEvent == nil {
		opts.OnEvent = func(Event) {}
	}
	if opts.StripMetadata == nil {
		opts.StripMetadata = func(store.Job) bool { return true }
	}
	return &Service{st: st, up: up, opts: opts, wake: make(chan struct{}, 1), ready: map[int64]time.Time{}, unrecorded: map[int64]bool{}}
}

// Add makes the file a durable job and wakes a worker. ready is when the
// file was known complete (zero: now); Done events measure latency from it.
func (s *Service) Add(ctx context.Context, path string, src store.Source, ready time.Time) (store.Job, error) {
	if ready.IsZero() {
		ready = s.opts.Now()
	}
	size, mod := statFile(path)
	job, err := s.st.Enqueue(ctx, path, size, mod, src)
	if err != nil {
		return store.Job{}, fmt.Errorf("queue %s: %w", path, err)
	}
	s.mu.Lock()
	s.ready[job.ID] = ready
	s.mu.Unlock()
	s.emit(Event{Kind: Queued, Job: job})
	s.poke()
	return job, nil
}

// SetUploader switches to a new uploader (new settings); uploads under
// way finish with the old one.
func (s *Service) SetUploader(up fileUploader) {
	s.upMu.Lock()
	s.up = up
	s.upMu.Unlock()
	s.poke()
}

func (s *Service) uploader() fileUploader {
	s.upMu.RLock()
	defer s.upMu.RUnlock()
	return s.up
}

// Retry puts a failed or rejected job back in the queue now.
func (s *Service) Retry(ctx context.Context, jobID int64) error {
	if err := s.st.Retry(ctx, jobID); err != nil {
		return err
	}
	s.poke()
	return nil
}

// SetPaused pauses or resumes the queue. Uploads under way finish; no new
// ones start while paused. The state is kept across restarts.
func (s *Service) SetPaused(ctx context.Context, paused bool) error {
	if err := s.st.SetPaused(ctx, paused); err != nil {
		return err
	}
	s.emit(Event{Kind: PauseChanged, Paused: paused})
	s.poke()
	return nil
}

func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Service) emit(ev Event) { s.opts.OnEvent(ev) }

// statFile returns size and modification time, zero when unknown (the job
// is queued anyway; the upload reports the problem).
func statFile(path string) (int64, time.Time) {
	if winname.Check(path) != "" {
		return 0, time.Time{} // a device, not a file: the upload says so
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0, time.Time{}
	}
	return fi.Size(), fi.ModTime()
}

// Run works the queue with Concurrency workers until ctx ends, or until
// the store turns out to be unusable (damaged): then it returns that
// *store.Trouble. Other store failures (a full disk, a read-only folder, a
// lock held by another program) are reported as StoreFailed events and
// waited out: nothing is lost, and work resumes once the cause is fixed.
// A job being uploaded when ctx ends goes back to the queue for the next
// run. Run may be called once.
func (s *Service) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s.mu.Lock()
	s.unusable = cancel
	s.mu.Unlock()
	var wg sync.WaitGroup
	for range s.opts.Concurrency {
		wg.Go(func() { s.worker(ctx) })
	}
	wg.Wait()
	var t *store.Trouble
	if err := context.Cause(ctx); errors.As(err, &t) {
		return t
	}
	return nil
}

// storeResult reports a store failure once (a StoreFailed event), and ends
// Run when the store is unusable. Only [Service.storeWorks] says when it
// works again: a call that happens to succeed (a read, a claim that finds
// nothing) proves nothing about writes.
func (s *Service) storeResult(ctx context.Context, err error) {
	if err == nil || ctx.Err() != nil {
		return // nothing wrong, or shutting down: not the store's fault
	}
	t := store.Diagnose(err, s.st.Path())
	s.mu.Lock()
	report := t.Error() != s.trouble
	s.trouble = t.Error()
	if t.Unusable && s.unusable != nil {
		s.unusable(t)
	}
	s.mu.Unlock()
	if report {
		s.emit(Event{Kind: StoreFailed, Err: t})
	}
	s.poke() // a worker looks again soon: see storeWorks
}

// troubled reports whether a store failure is waiting to be cleared.
func (s *Service) troubled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.trouble != ""
}

// storeWorks reports whether the store takes writes. After a failure it
// tries one small write; when that works it says so (StoreRecovered) and
// lets the watchers rescan for files the store could not take.
func (s *Service) storeWorks(ctx context.Context) bool {
	s.mu.Lock()
	failing := s.trouble != ""
	s.mu.Unlock()
	if !failing {
		return true
	}
	if err := s.st.Check(ctx); err != nil {
		s.storeResult(ctx, err)
		return false
	}
	s.mu.Lock()
	first := s.trouble != "" // another worker may have seen it first
	s.trouble = ""
	recovered := s.onRecover
	s.mu.Unlock()
	if !first {
		return true
	}
	s.emit(Event{Kind: StoreRecovered})
	for _, f := range recovered {
		f()
	}
	return true
}

// requeueUnrecorded puts back in the queue the jobs whose outcome could
// not be recorded; it reports whether the store took them all.
func (s *Service) requeueUnrecorded(ctx context.Context) bool {
	s.mu.Lock()
	if len(s.unrecorded) == 0 {
		s.mu.Unlock()
		return true
	}
	ids := make([]int64, 0, len(s.unrecorded))
	for id := range s.unrecorded {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	for _, id := range ids {
		err := s.st.Release(ctx, id)
		if err != nil && !errors.Is(err, store.ErrWrongState) && !errors.Is(err, store.ErrNotFound) {
			s.storeResult(ctx, err)
			return false
		}
		s.mu.Lock()
		delete(s.unrecorded, id)
		s.mu.Unlock()
	}
	return true
}

// worker claims due jobs until there are none, then waits for Add, Retry,
// resume, the next retry time, or the end.
func (s *Service) worker(ctx context.Context) {
	for ctx.Err() == nil {
		if !s.storeWorks(ctx) || !s.requeueUnrecorded(ctx) {
			s.idle(ctx, false, true)
			continue
		}
		paused, err := s.st.Paused(ctx)
		if err == nil && !paused {
			var job store.Job
			var ok bool
			job, ok, err = s.st.Claim(ctx, s.opts.Now())
			s.storeResult(ctx, err)
			if err == nil && ok {
				s.poke() // there may be more: wake another worker
				s.process(ctx, job)
				continue
			}
		} else {
			s.storeResult(ctx, err)
		}
		// While the store is failing (whoever met the failure: a worker,
		// or the watcher adding a file), look again every second.
		s.idle(ctx, paused, err != nil || s.troubled())
	}
}

// idle waits for a reason to look at the queue again: Add, Retry or
// resume (through wake), the next job falling due, or the end. After a
// store error it waits a little before trying again.
func (s *Service) idle(ctx context.Context, paused, failed bool) {
	wait := time.Hour
	switch {
	case failed:
		wait = time.Second
	case paused:
		// Only SetPaused (through wake) ends a pause.
	default:
		if due, ok, err := s.st.NextDue(ctx); err == nil && ok {
			wait = max(due.Sub(s.opts.Now()), 10*time.Millisecond)
		}
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-s.wake:
	case <-t.C:
	}
}

// process uploads one claimed job and records the outcome.
func (s *Service) process(ctx context.Context, job store.Job) {
	s.emit(Event{Kind: Started, Job: job})
	entry, link, sent, err := s.upload(ctx, job, s.opts.StripMetadata(job))
	// Recording the outcome must not be cut short by shutdown.
	rec := context.WithoutCancel(ctx)
	switch {
	case err == nil:
		s.mu.Lock()
		ready, ok := s.ready[job.ID]
		delete(s.ready, job.ID)
		s.mu.Unlock()
		ev := Event{Kind: Done, Job: job, Entry: entry, Link: link}
		if ok {
			ev.Latency = s.opts.Now().Sub(ready)
		}
		s.emit(ev)
		if sent {
			s.checkLink(ctx, job, entry, link)
		}
	case ctx.Err() != nil:
		// Shutting down: back to the queue, not counted as a failure. If
		// the store does not take it, the next start's Recover does.
		_ = s.st.Release(rec, job.ID)
	case isFinal(err):
		s.record(ctx, job.ID, s.st.Reject(rec, job.ID, err.Error()))
		s.forget(job.ID)
		s.emit(Event{Kind: Rejected, Job: job, Err: err})
	default:
		at := s.opts.Now().Add(s.opts.Backoff(job.Attempts))
		s.record(ctx, job.ID, s.st.Fail(rec, job.ID, err.Error(), at))
		s.emit(Event{Kind: Failed, Job: job, Err: err, RetryAt: at})
	}
}

// checkLink fetches a new link, once it is out (Done), when the settings
// ask for that; the outcome goes into the history and a LinkChecked event.
// It returns the entry with its LinkStatus.
func (s *Service) checkLink(ctx context.Context, job store.Job, e store.Entry, link uploader.Link) store.Entry {
	status := s.uploader().CheckLink(ctx, e.URL, e.Size, e.SHA1)
	if status == "" || ctx.Err() != nil {
		return e
	}
	e.LinkStatus = status
	if err := s.st.SetLinkStatus(context.WithoutCancel(ctx), e.ID, status); err != nil {
		s.storeResult(ctx, err)
	}
	s.emit(Event{Kind: LinkChecked, Job: job, Entry: e, Link: link})
	return e
}

// record notes whether the store took a job's outcome; a job it did not
// take goes back to the queue once the store works again.
func (s *Service) record(ctx context.Context, jobID int64, err error) {
	if err != nil && !errors.Is(err, store.ErrWrongState) {
		s.mu.Lock()
		s.unrecorded[jobID] = true
		s.mu.Unlock()
	}
	s.storeResult(ctx, err)
}

func (s *Service) forget(id int64) {
	s.mu.Lock()
	delete(s.ready, id)
	s.mu.Unlock()
}

// isFinal reports failures that another attempt cannot fix: the file is
// gone or unreadable. Everything else (offline, rate limits, a key being
// fixed) is retried with backoff, so nothing is lost.
func isFinal(err error) bool {
	return errors.Is(err, uploader.ErrFile)
}

// upload does one job: prepare (hash), skip content already uploaded, send,
// and complete the job with its history entry. sent says the object was
// written now, rather than found in the history.
func (s *Service) upload(ctx context.Context, job store.Job, strip bool) (_ store.Entry, _ uploader.Link, sent bool, _ error) {
	var last atomic.Int64 // unix nanos of the last progress event
	req := uploader.Request{Path: job.Path, Progress: func(sent, total int64) {
		// Throttled: a progress bar needs no more than ~10 updates a second.
		// Parts of a large file report from several goroutines.
		now, prev := time.Now().UnixNano(), last.Load()
		if (now-prev >= int64(100*time.Millisecond) || sent == total) && last.CompareAndSwap(prev, now) {
			s.emit(Event{Kind: Progress, Job: job, Sent: sent, Total: total})
		}
	}, StripMetadata: strip}
	up := s.uploader()
	p, err := up.Prepare(ctx, req)
	if err != nil {
		return store.Entry{}, uploader.Link{}, false, err
	}
	defer p.Close()
	name := p.Name()
	// Same content from the same source: uploaded already (a restart, a
	// rescan, a file saved twice). Same content from elsewhere: reuse the
	// object and its link.
	prev, found, err := s.st.FindByContent(ctx, p.OriginalSHA1(), p.OriginalSize(), job.Source)
	if err != nil {
		return store.Entry{}, uploader.Link{}, false, fmt.Errorf("look up history: %w", err)
	}
	if found {
		// The history says where it went; the bucket has the last word
		// (the object may have been deleted outside Upshot).
		still, err := up.Confirm(ctx, prev.Key, p)
		if err != nil {
			return store.Entry{}, uploader.Link{}, false, err
		}
		found = still
	}
	e := store.Entry{File: job.Path, SHA1: p.SHA1(), Size: p.Size(), OriginalSHA1: p.OriginalSHA1(), OriginalSize: p.OriginalSize(),
		ContentType: p.ContentType(), Source: job.Source, Time: s.opts.Now()}
	if found {
		e.SHA1, e.Size = prev.SHA1, prev.Size // what the reused object holds
		e.Key, e.URL, e.Deduplicated, e.LinkStatus = prev.Key, prev.URL, true, prev.LinkStatus
	} else {
		res, err := up.Send(ctx, p)
		if err != nil {
			return store.Entry{}, uploader.Link{}, false, err
		}
		e.Key, e.URL, e.Deduplicated, e.LinkStatus = res.Key, res.URL, res.Deduplicated, res.LinkStatus
	}
	e, err = s.st.Complete(context.WithoutCancel(ctx), job.ID, e)
	if err != nil {
		return store.Entry{}, uploader.Link{}, false, fmt.Errorf("%s is in the bucket as %s, but %w", job.Path, e.Key, store.Diagnose(err, s.st.Path()))
	}
	return e, uploader.Link{URL: e.URL, Name: name, ContentType: e.ContentType}, !found, nil
}

// UploadNow uploads one file at once, outside the queue's workers, for a
// batch (the command line): the job and its history entry are recorded as
// for any other source, and Started and Done are reported, but a failure
// is returned to the caller and the job is rejected rather than retried
// later behind the user's back. It returns after the link check, if the
// settings ask for one. keepMetadata keeps a photo's metadata
// whatever the settings say.
func (s *Service) UploadNow(ctx context.Context, path string, src store.Source, keepMetadata bool) (store.Entry, uploader.Link, error) {
	e, link, _, err := s.uploadNow(ctx, path, src, keepMetadata, rejectOnFailure)
	return e, link, err
}

// UploadKept is [Service.UploadNow] for a file that exists nowhere else
// (a capture): a failure that another attempt may fix (offline, a key
// being fixed) leaves the job queued with its retry time, reported as
// Failed, for whichever process runs the queue next; queued says so. Only
// a failure no attempt can fix rejects it.
func (s *Service) UploadKept(ctx context.Context, path string, src store.Source) (_ store.Entry, _ uploader.Link, queued bool, _ error) {
	return s.uploadNow(ctx, path, src, false, queueOnFailure)
}

// failurePolicy says what becomes of a job uploaded at once that fails.
type failurePolicy int

const (
	rejectOnFailure failurePolicy = iota // the caller reports it; no retry behind the user's back
	queueOnFailure                       // it stays queued and is retried later
)

func (s *Service) uploadNow(ctx context.Context, path string, src store.Source, keepMetadata bool, policy failurePolicy) (store.Entry, uploader.Link, bool, error) {
	start := s.opts.Now()
	size, mod := statFile(path)
	job, err := s.st.Begin(ctx, path, size, mod, src)
	if err != nil {
		return store.Entry{}, uploader.Link{}, false, fmt.Errorf("record %s: %w", path, store.Diagnose(err, s.st.Path()))
	}
	s.emit(Event{Kind: Started, Job: job})
	entry, link, sent, err := s.upload(ctx, job, !keepMetadata && s.opts.StripMetadata(job))
	if err != nil {
		rec := context.WithoutCancel(ctx)
		switch {
		case policy == queueOnFailure && ctx.Err() != nil:
			_ = s.st.Release(rec, job.ID)
			return store.Entry{}, uploader.Link{}, true, err
		case policy == queueOnFailure && !isFinal(err):
			at := s.opts.Now().Add(s.opts.Backoff(job.Attempts))
			s.record(ctx, job.ID, s.st.Fail(rec, job.ID, err.Error(), at))
			s.emit(Event{Kind: Failed, Job: job, Err: err, RetryAt: at})
			s.poke()
			return store.Entry{}, uploader.Link{}, true, err
		}
		reason := err.Error()
		if ctx.Err() != nil {
			reason = "not uploaded: " + context.Cause(ctx).Error()
		}
		_ = s.st.Reject(rec, job.ID, reason)
		s.emit(Event{Kind: Rejected, Job: job, Err: err})
		return store.Entry{}, uploader.Link{}, false, err
	}
	s.emit(Event{Kind: Done, Job: job, Entry: entry, Link: link, Latency: s.opts.Now().Sub(start)})
	if sent {
		entry = s.checkLink(ctx, job, entry, link)
	}
	return entry, link, false, nil
}

// Record enters an upload that another program made (a phone, through a
// grant) in the history as a done job from src, and reports it Done with
// its latency from start. The object is in the bucket already and was
// confirmed by the caller. Call [Service.CheckLink] afterwards for a
// new object.
func (s *Service) Record(ctx context.Context, src store.Source, res uploader.Result, start time.Time) (store.Job, store.Entry, error) {
	job, err := s.st.Begin(ctx, res.File, res.Size, time.Time{}, src)
	if err != nil {
		return store.Job{}, store.Entry{}, fmt.Errorf("%s is in the bucket as %s, but %w", res.File, res.Key, store.Diagnose(err, s.st.Path()))
	}
	e, err := s.st.Complete(context.WithoutCancel(ctx), job.ID, store.Entry{File: res.File, Key: res.Key, URL: res.URL,
		SHA1: res.SHA1, Size: res.Size, ContentType: res.ContentType, Source: src, Time: s.opts.Now(), Deduplicated: res.Deduplicated})
	if err != nil {
		_ = s.st.Reject(context.WithoutCancel(ctx), job.ID, err.Error())
		return store.Job{}, store.Entry{}, fmt.Errorf("%s is in the bucket as %s, but %w", res.File, res.Key, store.Diagnose(err, s.st.Path()))
	}
	s.emit(Event{Kind: Done, Job: job, Entry: e, Link: LinkFor(e), Latency: s.opts.Now().Sub(start)})
	return job, e, nil
}

// CheckLink fetches a new link recorded for job, when the settings ask
// for that, and reports it as LinkChecked; see [Service.Record].
func (s *Service) CheckLink(ctx context.Context, job store.Job, e store.Entry) store.Entry {
	return s.checkLink(ctx, job, e, LinkFor(e))
}

// LinkFor rebuilds the link of a history entry.
func LinkFor(e store.Entry) uploader.Link {
	return uploader.Link{URL: e.URL, Name: filepath.Base(e.File), ContentType: e.ContentType}
}
