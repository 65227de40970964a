package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"upshot/internal/core"
	"upshot/internal/store"
	"upshot/uploader"
)

// DefaultInclude is what a dropped folder uploads, and what a watched
// folder added in the settings watches unless told otherwise: images and
// videos.
var DefaultInclude = []string{"*.png", "*.jpg", "*.jpeg", "*.gif", "*.webp", "*.mp4", "*.mov", "*.webm"}

// askAbove is the number of files in a dropped folder above which the
// window asks before uploading them all.
const askAbove = 20

// systemClipboard is what the app needs from internal/clipboard.
type systemClipboard interface {
	WriteText(ctx context.Context, text string) error
	ReadText(ctx context.Context) (string, error)
	ReadImage(ctx context.Context) ([]byte, error)
}

// core is everything the window drives that is not presentation: the
// store, the service, the current settings and uploader, and the folder
// watcher. Its methods may block on disk or network, so the UI calls them
// from goroutines and gets results back through the edge. It is safe for
// concurrent use.
type backend struct {
	st         *store.Store
	svc        *core.Service
	clip       systemClipboard
	dataDir    string
	configPath string
	upOpts     uploader.Options
	now        func() time.Time

	mu  sync.Mutex
	cfg *uploader.Config   // nil until configured
	up  *uploader.Uploader // nil until configured

	watch watchRunner
}

// errNotConfigured is what uploads fail with before the settings are saved.
var errNotConfigured = errors.New("not set up yet: fill in the settings and save them; the upload is retried then")

// unconfigured stands in for the uploader until there are settings: every
// upload fails (and is retried once the settings are saved).
type unconfigured struct{}

func (unconfigured) Prepare(context.Context, uploader.Request) (*uploader.Prepared, error) {
	return nil, errNotConfigured
}

func (unconfigured) Send(context.Context, *uploader.Prepared) (uploader.Result, error) {
	return uploader.Result{}, errNotConfigured
}

func (unconfigured) Confirm(context.Context, string, *uploader.Prepared) (bool, error) {
	return false, errNotConfigured
}

// settings returns the current config and uploader; both nil when Upshot
// is not configured. The config must not be modified.
func (c *backend) settings() (*uploader.Config, *uploader.Uploader) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfg, c.up
}

// format is the default link format.
func (c *backend) format() uploader.Format {
	cfg, _ := c.settings()
	if cfg == nil {
		return uploader.FormatURL
	}
	f, err := uploader.ParseFormat(cfg.Output.Format)
	if err != nil {
		return uploader.FormatURL
	}
	return f
}

// newUploader builds an uploader for cfg with the app's options.
func (c *backend) newUploader(cfg *uploader.Config) (*uploader.Uploader, error) {
	up, err := uploader.New(cfg, c.upOpts)
	if err != nil {
		return nil, fmt.Errorf("set up the uploader: %w", err)
	}
	return up, nil
}

// use switches to cfg: a new uploader for the service, and failed jobs
// (typically failed for want of settings) are retried at once.
func (c *backend) use(ctx context.Context, cfg *uploader.Config) error {
	up, err := c.newUploader(cfg)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.cfg, c.up = cfg, up
	c.mu.Unlock()
	c.svc.SetUploader(up)
	failed, err := c.st.Jobs(ctx, store.StateFailed, 0)
	if err != nil {
		return err
	}
	for _, j := range failed {
		_ = c.svc.Retry(ctx, j.ID) // a job may have moved on meanwhile
	}
	return nil
}

// collect expands dropped paths into files: a file stays as it is, a
// folder gives its files (recursively, hidden ones skipped) that match
// DefaultInclude. Paths that do not exist are reported in the error.
func collect(ctx context.Context, paths []string) (files []string, err error) {
	var errs []error
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err != nil {
				errs = append(errs, err)
				return nil
			}
			hidden := strings.HasPrefix(d.Name(), ".") && path != p
			switch {
			case d.IsDir() && hidden:
				return filepath.SkipDir
			case d.IsDir(), hidden, !d.Type().IsRegular():
				return nil
			case matchAny(DefaultInclude, d.Name()):
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, errors.Join(errs...)
}

// matchAny reports whether name matches one of the globs, ignoring case.
func matchAny(globs []string, name string) bool {
	name = strings.ToLower(name)
	return slices.ContainsFunc(globs, func(g string) bool {
		ok, _ := filepath.Match(strings.ToLower(g), name)
		return ok
	})
}

// add queues files with the given source.
func (c *backend) add(ctx context.Context, files []string, src store.Source) error {
	var errs []error
	for _, f := range files {
		if _, err := c.svc.Add(ctx, f, src, time.Time{}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// share makes an expiring link to the entry's object.
func (c *backend) share(ctx context.Context, e store.Entry, d time.Duration) (string, error) {
	_, up := c.settings()
	if up == nil {
		return "", errNotConfigured
	}
	u, err := up.Share(ctx, e.Key, d)
	if err != nil {
		return "", fmt.Errorf("make an expiring link to %s: %w", e.Key, err)
	}
	return u, nil
}

// deleteObject deletes the entry's object from the bucket and marks it (and
// every entry sharing it) deleted in the history.
func (c *backend) deleteObject(ctx context.Context, e store.Entry) error {
	_, up := c.settings()
	if up == nil {
		return errNotConfigured
	}
	if err := up.Delete(ctx, e.Key); err != nil {
		return fmt.Errorf("delete %s: %w", e.Key, err)
	}
	if _, err := c.st.MarkDeleted(context.WithoutCancel(ctx), e.ID, time.Time{}); err != nil {
		return fmt.Errorf("%s is deleted from the bucket, but the history could not record it: %w", e.Key, err)
	}
	return nil
}

// clipName is the file name of a clipboard image taken at t.
func clipName(t time.Time) string {
	return "Clipboard " + t.Format("2006-01-02") + " at " + t.Format("15.04.05") + ".png"
}

// saveClip writes a clipboard image (PNG bytes) into dataDir/clips and
// returns its path. Two images in the same second get " (2)", " (3)"…
func (c *backend) saveClip(png []byte) (string, error) {
	dir := filepath.Join(c.dataDir, "clips")
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
	files, err := collect(ctx, paths)
	return files, store.SourceDrop, err
}

// watchRunner runs the folder watcher for the configured folders and
// restarts it when they change.
type watchRunner struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
	n      int // folders being watched
}

// restart stops the running watcher, if any, and starts one for folders.
// Errors the watcher meets later go to onError.
func (c *backend) restartWatch(ctx context.Context, folders []uploader.Watch, onError func(error)) error {
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
	fs := core.WatchFolders(folders)
	wctx, cancel := context.WithCancel(ctx)
	wait, err := c.svc.Watch(wctx, fs, onError)
	if err != nil {
		cancel()
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		wait()
	}()
	w.cancel, w.done, w.n = cancel, done, len(fs)
	return nil
}

// watching is the number of folders being watched.
func (c *backend) watching() int {
	c.watch.mu.Lock()
	defer c.watch.mu.Unlock()
	return c.watch.n
}

// stopWatch stops the watcher and waits for it.
func (c *backend) stopWatch() {
	_ = c.restartWatch(context.Background(), nil, nil)
}

// unescapePath decodes a file:// URI's path; undecodable text is kept.
func unescapePath(p string) string {
	if u, err := url.PathUnescape(p); err == nil {
		return u
	}
	return p
}
