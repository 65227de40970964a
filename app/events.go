package app

// How the core's events reach the window: prepare runs on the edge's
// goroutine, apply on the UI thread.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"

	"upshot/internal/core"
	"upshot/internal/store"
)

// prepare runs on the edge's goroutine before each batch reaches the UI:
// the work that may block (clipboard tools, notifications, counting).
func (u *ui) prepare(ctx context.Context, b *batch) {
	var done, broken []core.Event
	for _, ev := range b.events {
		switch ev.Kind {
		case core.Done:
			done = append(done, ev)
			u.thumbs.want(ev.Entry)
		case core.LinkChecked:
			if strings.HasPrefix(ev.Entry.LinkStatus, "link broken") {
				broken = append(broken, ev)
			}
		case core.Failed, core.Rejected:
			// One notification per job, however often it fails.
			if !u.notified[ev.Job.ID] {
				u.notified[ev.Job.ID] = true
				u.sendNotification("Upload failed: "+filepath.Base(ev.Job.Path), errText(ev.Err))
			}
		}
	}
	if len(done) > 0 {
		u.deliver(ctx, b, done)
	}
	// After "Uploaded": the check comes after the link, even when both
	// arrive in one batch.
	for _, ev := range broken {
		u.sendNotification("The link to "+filepath.Base(ev.Entry.File)+" does not work", ev.Entry.LinkStatus)
	}
	counts, err := u.core.Counts(ctx)
	paused, perr := u.core.Paused(ctx)
	if err == nil && perr == nil {
		b.status = status{valid: true, counts: counts, paused: paused}
	}
}

// deliver puts the last finished upload's link on the clipboard and
// tells the user, once per batch.
func (u *ui) deliver(ctx context.Context, b *batch, done []core.Event) {
	last := done[len(done)-1]
	text := last.Link.Format(u.core.Format())
	if u.app.Preferences().Bool(prefAlwaysShare) {
		sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		link, err := u.core.Share(sctx, last.Entry.Key, shareExpiry(u.app.Preferences()))
		cancel()
		if err != nil {
			b.posts = append(b.posts, func() { u.showError(err) })
		} else {
			text = link
		}
	}
	if err := u.core.clip.WriteText(ctx, text); err != nil {
		// No system clipboard reachable from here: Fyne's own (text) one.
		b.posts = append(b.posts, func() { u.app.Clipboard().SetContent(text) })
	}
	if len(done) == 1 {
		u.sendNotification("Uploaded "+filepath.Base(last.Entry.File), "Link copied: "+text)
	} else {
		u.sendNotification(fmt.Sprintf("Uploaded %d files", len(done)),
			"The link to "+filepath.Base(last.Entry.File)+" is on the clipboard.")
	}
}

func (u *ui) sendNotification(title, content string) {
	if u.opts.notify == nil || !u.app.Preferences().BoolWithFallback(prefNotifications, true) {
		return
	}
	u.opts.notify(fyne.NewNotification(title, content))
}

// apply shows a batch; it runs on the UI thread.
func (u *ui) apply(b *batch) {
	for _, ev := range b.events {
		u.model.apply(ev)
		switch ev.Kind {
		case core.Done:
			u.failing = false
			u.recent = append([]store.Entry{ev.Entry}, u.recent[:min(4, len(u.recent))]...)
		case core.Failed, core.Rejected:
			u.failing = true
			u.lastErr = filepath.Base(ev.Job.Path) + ": " + errText(ev.Err)
		case core.StoreFailed:
			u.failing = true
			u.lastErr = errText(ev.Err)
		case core.StoreRecovered:
			u.failing, u.lastErr = false, ""
		}
	}
	if len(b.events) > 0 {
		u.list.Refresh()
	}
	if b.status.valid {
		u.status = b.status
	}
	u.showStatus()
	if u.tray != nil {
		u.tray.update()
	}
}

// showStatus writes the status line.
func (u *ui) showStatus() {
	var parts []string
	switch n := u.core.Watching(); {
	case u.status.paused:
		parts = append(parts, "Paused")
	case n == 0:
		parts = append(parts, "Not watching any folder")
	case n == 1:
		parts = append(parts, "Watching 1 folder")
	default:
		parts = append(parts, fmt.Sprintf("Watching %d folders", n))
	}
	c := u.status.counts
	switch q, up := c[store.StateQueued], c[store.StateUploading]; {
	case q > 0 && up > 0:
		parts = append(parts, fmt.Sprintf("%d waiting, %d uploading", q, up))
	case q > 0:
		parts = append(parts, fmt.Sprintf("%d waiting", q))
	case up > 0:
		parts = append(parts, fmt.Sprintf("%d uploading", up))
	default:
		parts = append(parts, "Queue empty")
	}
	if n := c[store.StateFailed] + c[store.StateRejected]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", n))
	}
	u.statusL.SetText(strings.Join(parts, " · "))
	if u.lastErr != "" {
		u.errorL.SetText("Last error: " + u.lastErr)
		u.errorL.Show()
	} else {
		u.errorL.Hide()
	}
}

// showError puts a problem in the status line.
func (u *ui) showError(err error) {
	if err == nil || errors.Is(err, context.Canceled) {
		return
	}
	u.lastErr = errText(err)
	u.showStatus()
}

// uploading reports whether files are waiting or uploading.
func (u *ui) uploading() bool {
	c := u.status.counts
	return c[store.StateQueued]+c[store.StateUploading] > 0
}
