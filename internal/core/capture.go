package core

import (
	"context"
	"os"
	"strings"
	"time"

	"upshot/internal/capture"
	"upshot/internal/store"
	"upshot/uploader"
)

// Captured is what became of a capture's upload.
type Captured struct {
	Entry store.Entry   // when uploaded
	Link  uploader.Link // when uploaded
	// Queued says the upload failed for now: the capture stays queued and
	// uploads when Upshot next runs the queue. Err says why.
	Queued bool
	Err    error
}

// UploadCapture uploads a screenshot Upshot took itself (the file at
// path) as from store.SourceCapture, and returns once it is in the bucket,
// or once its first attempt failed. A capture exists nowhere else, so a
// failure that another attempt may fix leaves it queued (Queued); only an
// unreadable file is given up. Once uploaded, the file is removed if the
// settings say capture.delete_after_upload.
func (c *Core) UploadCapture(ctx context.Context, path string) Captured {
	e, link, queued, err := c.svc.UploadKept(ctx, path, store.SourceCapture)
	if err != nil {
		return Captured{Queued: queued, Err: err}
	}
	return Captured{Entry: e, Link: link}
}

// afterUpload tidies up after an upload: a capture's file goes when the
// settings say so. It runs for captures uploaded later from the queue too.
func (c *Core) afterUpload(ev Event) {
	if ev.Kind != Done || ev.Job.Source != store.SourceCapture {
		return
	}
	cfg, _ := c.Settings()
	if cfg == nil || !cfg.Capture.DeleteAfterUpload {
		return
	}
	// A file that cannot be removed stays: nothing is lost.
	_ = os.Remove(ev.Job.Path)
}

// CaptureOptions are the capture settings of cfg for a capture in mode:
// the folder (capture.dir, else the Pictures folder's Upshot), and
// capture.delay before a screen capture.
func CaptureOptions(cfg *uploader.Config, mode capture.Mode) capture.Options {
	opts := capture.Options{Dir: capture.DefaultDir()}
	if cfg == nil {
		return opts
	}
	if d := strings.TrimSpace(cfg.Capture.Dir); d != "" {
		opts.Dir = ExpandHome(d)
	}
	if mode == capture.Screen {
		opts.Delay = time.Duration(cfg.Capture.Delay)
	}
	return opts
}
