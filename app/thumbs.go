package app

import (
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/gif" // decoders for thumbnails
	_ "image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"

	"upshot/internal/store"
)

// thumbSize is the edge of a thumbnail in pixels: twice the 48-point row
// image, for sharp pictures on high-density screens.
const thumbSize = 96

// maxThumbPixels bounds the images thumbnails are made from, so a huge
// image cannot make the app allocate gigabytes.
const maxThumbPixels = 100_000_000

// thumbMemory is how many thumbnails are kept in memory.
const thumbMemory = 256

// thumbs makes thumbnails of uploaded images once and keeps them in
// dir (the data dir's thumbs folder) as <sha1>.png, so they survive the
// local file's deletion. Lookups run on the UI thread and never decode a
// full image there: a missing thumbnail is queued for the worker, which
// calls ready when it is on disk.
//
// get and want are safe for concurrent use; run must be called once.
type thumbs struct {
	dir   string
	ready func(sha1 string) // called from the worker goroutine

	mu     sync.Mutex
	mem    map[string]fyne.Resource
	order  []string        // mem's keys, oldest first
	failed map[string]bool // no thumbnail can be made
	queued map[string]bool // waiting for the worker
	queue  chan store.Entry
}

func newThumbs(dir string, ready func(string)) *thumbs {
	return &thumbs{dir: dir, ready: ready, mem: map[string]fyne.Resource{}, failed: map[string]bool{},
		queued: map[string]bool{}, queue: make(chan store.Entry, 256)}
}

// wantsThumb reports whether an entry can have a thumbnail.
func wantsThumb(e store.Entry) bool {
	ct := e.ContentType
	return len(e.SHA1) == 40 && strings.HasPrefix(ct, "image/") && !strings.Contains(ct, "svg")
}

func (t *thumbs) path(sha1 string) string { return filepath.Join(t.dir, sha1+".png") }

// get returns the entry's thumbnail, or nil when there is none yet (then
// it is queued, and ready is called when it is made) or none can be made.
func (t *thumbs) get(e store.Entry) fyne.Resource {
	if !wantsThumb(e) {
		return nil
	}
	t.mu.Lock()
	if r, ok := t.mem[e.SHA1]; ok {
		t.mu.Unlock()
		return r
	}
	if t.failed[e.SHA1] || t.queued[e.SHA1] {
		t.mu.Unlock()
		return nil
	}
	t.mu.Unlock()
	// A small file read; the decoding happens when it is painted.
	if b, err := os.ReadFile(t.path(e.SHA1)); err == nil {
		r := fyne.NewStaticResource(e.SHA1+".png", b)
		t.remember(e.SHA1, r)
		return r
	}
	t.want(e)
	return nil
}

// want queues the entry for the worker unless it is queued or known.
func (t *thumbs) want(e store.Entry) {
	if !wantsThumb(e) {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.queued[e.SHA1] || t.failed[e.SHA1] || t.mem[e.SHA1] != nil {
		return
	}
	select {
	case t.queue <- e:
		t.queued[e.SHA1] = true
	default: // full: asked again when the row is shown again
	}
}

func (t *thumbs) remember(sha1 string, r fyne.Resource) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.mem[sha1]; ok {
		return
	}
	t.mem[sha1] = r
	t.order = append(t.order, sha1)
	if len(t.order) > thumbMemory {
		delete(t.mem, t.order[0])
		t.order = t.order[1:]
	}
}

// run makes queued thumbnails until ctx ends.
func (t *thumbs) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-t.queue:
			err := t.make(e)
			t.mu.Lock()
			delete(t.queued, e.SHA1)
			if err != nil {
				t.failed[e.SHA1] = true
			}
			t.mu.Unlock()
			if err == nil && t.ready != nil {
				t.ready(e.SHA1)
			}
		}
	}
}

// make writes the entry's thumbnail unless it exists.
func (t *thumbs) make(e store.Entry) error {
	dst := t.path(e.SHA1)
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	b, err := makeThumb(e.File, thumbSize)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(t.dir, 0o700); err != nil {
		return fmt.Errorf("thumbnail: %w", err)
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("thumbnail: %w", err)
	}
	return os.Rename(tmp, dst)
}

// makeThumb decodes the image at path and returns it scaled to fit a
// size×size square (never enlarged), as PNG.
func makeThumb(path string, size int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("thumbnail: %w", err)
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return nil, fmt.Errorf("thumbnail of %s: %w", path, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxThumbPixels {
		return nil, fmt.Errorf("thumbnail of %s: %d×%d pixels is too large", path, cfg.Width, cfg.Height)
	}
	if _, err := f.Seek(0, 0); err != nil {
		return nil, err
	}
	src, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("thumbnail of %s: %w", path, err)
	}
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > size || h > size {
		if w >= h {
			w, h = size, max(1, h*size/w)
		} else {
			w, h = max(1, w*size/h), size
		}
	}
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, dst); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
