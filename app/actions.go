package app

// The window's actions: what drops, pastes, buttons and menus do. Work
// that blocks runs on its own goroutine and reports back through the edge.

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"upshot/internal/core"
	"upshot/internal/store"
	"upshot/uploader"
)

// dropped handles files and folders dropped on the window.
func (u *ui) dropped(_ fyne.Position, uris []fyne.URI) {
	var paths []string
	for _, uri := range uris {
		if uri.Scheme() == "file" {
			paths = append(paths, uri.Path())
		}
	}
	u.offer(paths, store.SourceDrop)
}

// offer expands paths off the UI thread and queues the files, asking
// first when folders hold more than askAbove of them.
func (u *ui) offer(paths []string, src store.Source) {
	if len(paths) == 0 {
		return
	}
	ctx := u.ctx
	go func() {
		folder := slices.ContainsFunc(paths, func(p string) bool {
			fi, err := os.Stat(p)
			return err == nil && fi.IsDir()
		})
		files, err := u.core.Collect(ctx, paths)
		u.edge.Post(func() {
			if err != nil {
				u.showError(err)
			}
			switch {
			case len(files) == 0 && folder:
				dialog.ShowInformation("Nothing to upload", "The folder holds no images or videos ("+strings.Join(core.DefaultInclude, ", ")+").", u.win)
			case folder && len(files) > askAbove:
				dialog.ShowConfirm(fmt.Sprintf("Upload %d files?", len(files)),
					fmt.Sprintf("The dropped folder holds %d images and videos. Upload them all?", len(files)),
					func(ok bool) {
						if ok {
							u.queue(files, src)
						}
					}, u.win)
			default:
				u.queue(files, src)
			}
		})
	}()
}

// queue adds files to the service off the UI thread.
func (u *ui) queue(files []string, src store.Source) {
	ctx := u.ctx
	go func() {
		if err := u.core.Add(ctx, files, src); err != nil {
			u.edge.Post(func() { u.showError(err) })
		}
	}()
}

// paste uploads the clipboard: an image, or files named in its text.
func (u *ui) paste() {
	ctx := u.ctx
	go func() {
		files, src, err := u.core.pasteFiles(ctx)
		u.edge.Post(func() {
			if err != nil {
				u.showError(err)
				return
			}
			if src == store.SourceClipboard {
				u.queue(files, src)
				return
			}
			u.offer(files, src)
		})
	}()
}

// pickFile lets the user choose a file to upload.
func (u *ui) pickFile() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			u.showError(err)
			return
		}
		if r == nil {
			return
		}
		path := r.URI().Path()
		_ = r.Close()
		u.queue([]string{path}, store.SourceCLI)
	}, u.win)
	d.Resize(fyne.NewSize(700, 480))
	d.Show()
}

// copyLink puts the entry's link on the clipboard in format f, or an
// expiring link when the user always shares those.
func (u *ui) copyLink(e store.Entry, f uploader.Format) {
	if e.URL == "" {
		return
	}
	if u.app.Preferences().Bool(prefAlwaysShare) {
		u.share(e, shareExpiry(u.app.Preferences()))
		return
	}
	u.app.Clipboard().SetContent(core.LinkFor(e).Format(f))
	u.note("Copied the " + formatNames[f] + " link to " + filepath.Base(e.File))
}

// note shows a passing message in the status line.
func (u *ui) note(msg string) {
	u.statusL.SetText(msg)
}

// share makes an expiring link off the UI thread and copies it.
func (u *ui) share(e store.Entry, d time.Duration) {
	ctx := u.ctx
	go func() {
		link, err := u.core.Share(ctx, e.Key, d)
		u.edge.Post(func() {
			if err != nil {
				dialog.ShowError(err, u.win)
				return
			}
			u.app.Clipboard().SetContent(link)
			u.note("Copied a link to " + filepath.Base(e.File) + " that expires in " + expiryName(d))
		})
	}()
}

// askShare asks how long an expiring link should live, then copies one.
func (u *ui) askShare(e store.Entry) {
	choice := widget.NewSelect(expiryNames(), nil)
	choice.SetSelected(expiryName(shareExpiry(u.app.Preferences())))
	content := container.NewVBox(widget.NewLabel("Anyone with the link can open "+filepath.Base(e.File)+" until it expires,\neven when the bucket is private."), choice)
	dialog.ShowCustomConfirm("Copy expiring link", "Copy", "Cancel", content, func(ok bool) {
		if ok {
			u.share(e, expiries[choice.SelectedIndex()].d)
		}
	}, u.win)
}

// openLink opens the entry's link in the browser.
func (u *ui) openLink(e store.Entry) {
	l, err := url.Parse(e.URL)
	if err == nil {
		err = u.app.OpenURL(l)
	}
	if err != nil {
		u.showError(fmt.Errorf("open %s: %w", e.URL, err))
	}
}

// askDelete confirms, then deletes the entry's object from the bucket.
func (u *ui) askDelete(e store.Entry) {
	cfg, _ := u.core.Settings()
	bucket := ""
	if cfg != nil {
		bucket = cfg.Target.Bucket
	}
	msg := fmt.Sprintf("Delete %s from bucket %s?\nLinks to it stop working. This cannot be undone.", e.Key, bucket)
	d := dialog.NewConfirm("Delete from bucket", msg, func(ok bool) {
		if ok {
			u.deleteEntry(e)
		}
	}, u.win)
	d.SetConfirmText("Delete")
	d.SetConfirmImportance(widget.DangerImportance)
	d.Show()
}

func (u *ui) deleteEntry(e store.Entry) {
	ctx := u.ctx
	go func() {
		err := u.core.Delete(ctx, e.Key, true)
		u.edge.Post(func() {
			if err != nil {
				dialog.ShowError(err, u.win)
				return
			}
			u.model.removeKey(e.Key)
			u.recent = slices.DeleteFunc(u.recent, func(r store.Entry) bool { return r.Key == e.Key })
			u.list.Refresh()
			u.note("Deleted " + e.Key + " from the bucket")
			if u.tray != nil {
				u.tray.update()
			}
		})
	}()
}

// retry queues a failed or rejected job again.
func (u *ui) retry(j *pendingJob) {
	ctx := u.ctx
	id := j.job.ID
	go func() {
		err := u.core.Retry(ctx, id)
		u.edge.Post(func() {
			if err != nil {
				u.showError(err)
				return
			}
			if p := u.model.byJob[id]; p != nil && p.state != store.StateUploading {
				p.state, p.err = store.StateQueued, ""
			}
			u.list.Refresh()
		})
	}()
}

// setPaused pauses or resumes the queue.
func (u *ui) setPaused(paused bool) {
	ctx := u.ctx
	go func() {
		if err := u.core.SetPaused(ctx, paused); err != nil {
			u.edge.Post(func() { u.showError(err) })
		}
	}()
}
