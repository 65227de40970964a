package core

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"upshot/internal/store"
	"upshot/uploader"
)

// ErrStopped is the error of a file in a batch that was not tried because
// an earlier file met a problem that every file would meet.
var ErrStopped = errors.New("not uploaded: the batch stopped")

// Result is one file's outcome in a batch.
type Result struct {
	File  string
	Entry store.Entry   // when Err is nil
	Link  uploader.Link // when Err is nil
	Err   error
	// Config says Err is the settings' fault (a wrong key, a missing
	// bucket, no settings): it stopped the batch.
	Config bool
	// Fatal says Err stopped the batch: Config, or an endpoint that cannot
	// be reached.
	Fatal bool
}

// Stopped reports whether the file was not tried because another file's
// failure stopped the batch.
func (r Result) Stopped() bool { return errors.Is(r.Err, ErrStopped) }

// Upload uploads files now, at most transfer.concurrency at once, and
// calls each with every file's index and result as soon as it is known
// (from several goroutines, one at a time). Each upload is a job in the
// queue and an entry in the history, as from any other source; a failure
// is reported here and the job rejected, not retried behind the caller's
// back. A problem every file would meet (the settings, an unreachable
// endpoint) stops the rest. Photos lose their metadata as the settings
// say, unless keepMetadata.
func (c *Core) Upload(ctx context.Context, files []string, src store.Source, keepMetadata bool, each func(i int, r Result)) {
	cfg, _ := c.Settings()
	n := uploader.DefaultConcurrency
	if cfg != nil {
		n = cfg.Transfer.Concurrency
	}
	Batch(ctx, files, n, func(ctx context.Context, path string) Result {
		e, link, err := c.svc.UploadNow(ctx, path, src, keepMetadata)
		return Result{File: path, Entry: e, Link: link, Err: err}
	}, each)
}

// Batch runs send for every file, at most n at once, and calls each with
// every file's index and result, one call at a time. A result that is
// [Result.Fatal] (a configuration error, an unreachable endpoint, no
// settings) stops the files not yet started: they end with ErrStopped.
// It returns when every file has its result.
func Batch(ctx context.Context, files []string, n int, send func(ctx context.Context, path string) Result, each func(i int, r Result)) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, max(n, 1))
	var mu sync.Mutex
	report := func(i int, r Result) {
		mu.Lock()
		defer mu.Unlock()
		each(i, r)
	}
	var wg sync.WaitGroup
	for i, f := range files {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				report(i, stopped(ctx, f))
				return
			}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				report(i, stopped(ctx, f))
				return
			}
			r := send(ctx, f)
			r.File = f
			if r.Err != nil && errors.Is(context.Cause(ctx), ErrStopped) {
				r = stopped(ctx, f) // cut short by another file's failure
			}
			classify(&r)
			if r.Fatal {
				cancel(fmt.Errorf("%w: %w", ErrStopped, r.Err))
			}
			report(i, r)
		})
	}
	wg.Wait()
}

// stopped is the result of a file not tried because ctx ended.
func stopped(ctx context.Context, file string) Result {
	cause := context.Cause(ctx)
	if errors.Is(cause, ErrStopped) {
		return Result{File: file, Err: ErrStopped}
	}
	return Result{File: file, Err: cause}
}

// classify sets Config and Fatal from Err.
func classify(r *Result) {
	if r.Err == nil || r.Stopped() {
		return
	}
	r.Config = uploader.IsConfigError(r.Err) || errors.Is(r.Err, ErrNotConfigured)
	r.Fatal = r.Config || errors.Is(r.Err, uploader.ErrUnreachable)
}
