package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"upshot/internal/core"
	"upshot/internal/store"
)

// askAbove is the number of files in a dropped folder above which the
// window asks before uploading them all.
const askAbove = 20

// systemClipboard is what the app needs from internal/clipboard.
type systemClipboard interface {
	WriteText(ctx context.Context, text string) error
	ReadText(ctx context.Context) (string, error)
	ReadImage(ctx context.Context) ([]byte, error)
	WriteImage(ctx context.Context, png []byte) error
}

// backend is the core as the window drives it, with what only the window
// needs: the system clipboard, where the settings are saved, and the
// clock. Its methods may block on disk or network, so the UI calls them
// from goroutines and gets results back through the edge.
type backend struct {
	*core.Core
	clip       systemClipboard
	configPath string
	now        func() time.Time
}

// relay passes the core's events and show requests to the window once it
// exists; events that come earlier wait for it.
type relay struct {
	mu      sync.Mutex
	u       *ui
	pending []core.Event
}

func (r *relay) event(ev core.Event) {
	r.mu.Lock()
	u := r.u
	if u == nil {
		r.pending = append(r.pending, ev)
	}
	r.mu.Unlock()
	if u != nil {
		u.edge.OnEvent(ev)
		if ev.Kind == core.Done && ev.Job.Source == store.SourceCapture {
			// The core removes the file once this returns when the
			// settings say capture.delete_after_upload: its thumbnail
			// comes first (after the link is on its way).
			if cfg, _ := u.core.Settings(); cfg != nil && cfg.Capture.DeleteAfterUpload {
				_ = u.thumbs.make(ev.Entry)
			}
		}
	}
}

// show raises the window on page ("", "settings" or "phone"); before the window
// exists there is nothing to do, as it is about to show.
func (r *relay) show(page string) {
	r.mu.Lock()
	u := r.u
	r.mu.Unlock()
	if u != nil {
		u.edge.Post(func() { u.raise(page) })
	}
}

// attach hands u the events so far, and every later one.
func (r *relay) attach(u *ui) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.u = u
	for _, ev := range r.pending {
		u.edge.OnEvent(ev)
	}
	r.pending = nil
}

// clipName is the file name of a clipboard image taken at t.
func clipName(t time.Time) string {
	return "Clipboard " + t.Format("2006-01-02") + " at " + t.Format("15.04.05") + ".png"
}

// saveClip writes a clipboard image (PNG bytes) into dataDir/clips and
// returns its path. Two images in the same second get " (2)", " (3)"…
func (c *backend) saveClip(png []byte) (string, error) {
	dir := filepath.Join(c.DataDir(), "clips")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("save the clipboard image: %w", err)
	}
	name := clipName(c.now())
	base := strings.TrimSuffix(name, ".png")
	for i := 2; ; i++ {
		path := filepath.Join(dir, name)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) && i < 1000 {
			name = fmt.Sprintf("%s (%d).png", base, i)
			continue
		}
		if err != nil {
			return "", fmt.Errorf("save the clipboard image: %w", err)
		}
		_, werr := f.Write(png)
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			_ = os.Remove(path)
			return "", fmt.Errorf("save the clipboard image to %s: %w (is the disk full?)", path, err)
		}
		return path, nil
	}
}

// pasteFiles reads what Ctrl+V should upload: an image on the clipboard
// (saved as a PNG file first), else file paths or file:// URIs in its
// text, one per line. It returns the files and their source.
func (c *backend) pasteFiles(ctx context.Context) ([]string, store.Source, error) {
	img, imgErr := c.clip.ReadImage(ctx)
	if imgErr == nil {
		path, err := c.saveClip(img)
		if err != nil {
			return nil, "", err
		}
		return []string{path}, store.SourceClipboard, nil
	}
	text, err := c.clip.ReadText(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("the clipboard holds no image and no text: %w", errors.Join(imgErr, err))
	}
	var paths []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if p, ok := strings.CutPrefix(line, "file://"); ok {
			line = unescapePath(p)
		}
		if filepath.IsAbs(line) {
			if _, err := os.Stat(line); err == nil {
				paths = append(paths, line)
			}
		}
	}
	if len(paths) == 0 {
		return nil, "", errors.New("the clipboard holds neither an image nor paths of existing files: copy a screenshot or files first")
	}
	files, err := c.Collect(ctx, paths)
	return files, store.SourceDrop, err
}

// unescapePath decodes a file:// URI's path; undecodable text is kept.
func unescapePath(p string) string {
	if u, err := url.PathUnescape(p); err == nil {
		return u
	}
	return p
}
