package app

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"upshot/internal/capture"
	"upshot/internal/devtools/xvfbtest"
	"upshot/internal/store"
	"upshot/uploader"
)

// TestCaptureButtonUploads: the window's Capture button takes a screen
// capture with the real fallback tool on a private X server, puts the
// image and then its link on the clipboard, keeps a thumbnail, and
// removes the file once uploaded as the settings ask.
func TestCaptureButtonUploads(t *testing.T) {
	imp, err := exec.LookPath("import")
	if err != nil {
		if os.Getenv(xvfbtest.RequireEnv) == "1" {
			t.Fatal("ImageMagick's import is needed (make test installs it)")
		}
		t.Skip("import is not installed")
	}
	display := xvfbtest.Start(t, 400, 300)
	bin := t.TempDir()
	if err := os.Symlink(imp, filepath.Join(bin, "import")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DISPLAY", display)
	t.Setenv("WAYLAND_DISPLAY", "")
	t.Setenv("PATH", bin)
	h := newHarness(t, harnessOptions{}) // no session bus: no portal
	cfg := *h.cfg
	captures := t.TempDir()
	cfg.Capture = uploader.Capture{Dir: captures, CopyImage: true, DeleteAfterUpload: true}
	if err := h.core.Use(t.Context(), &cfg); err != nil {
		t.Fatal(err)
	}
	h.u.win.Show()
	h.u.captureFromWindow(capture.Screen)
	h.until("the capture's link on the clipboard", func() bool { return strings.HasPrefix(h.clip.written(), h.srv.Endpoint) })
	h.clip.mu.Lock()
	img := bytes.Clone(h.clip.image)
	h.clip.mu.Unlock()
	if c, err := png.DecodeConfig(bytes.NewReader(img)); err != nil || c.Width != 400 || c.Height != 300 {
		t.Fatalf("the image on the clipboard: %dx%d, %v; want the 400x300 screen", c.Width, c.Height, err)
	}
	hist, err := h.st.History(t.Context(), store.Query{})
	if err != nil || len(hist) != 1 || hist[0].Source != store.SourceCapture || hist[0].URL != h.clip.written() {
		t.Fatalf("history %+v (%v); clipboard %q", hist, err, h.clip.written())
	}
	// The core removes it right after the Done event.
	h.until("the uploaded capture removed", func() bool {
		left, err := os.ReadDir(captures)
		return err == nil && len(left) == 0
	})
	if _, err := os.Stat(h.u.thumbs.path(hist[0].SHA1)); err != nil {
		t.Fatalf("no thumbnail for the removed capture: %v", err)
	}
}
