package app

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"upshot/internal/core"
	"upshot/internal/devtools/xdndtest"
	"upshot/internal/devtools/xvfbtest"
	"upshot/internal/store"
	"upshot/uploader/s3test"
)

// TestDropOntoWindow runs the real window program under Xvfb against a
// local versitygw and drops two PNG files onto its window over XDND, as a
// file manager does, one whose name needs percent-encoding in the drop's
// URI list: both upload, come into the history as dropped, and are in the
// bucket whole.
func TestDropOntoWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real window program")
	}
	display := xvfbtest.Start(t, 1024, 768)
	srv := s3test.Start(t, s3test.Options{})
	bin := buildUpshot(t)
	dir := t.TempDir()
	config := writeConfig(t, dir, srv, "{name}{ext}", "")
	shots := filepath.Join(dir, "shots")
	if err := os.Mkdir(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	files := []string{filepath.Join(shots, "plain.png"), filepath.Join(shots, "a shot #2 ü+%.png")}
	for i, f := range files {
		writeScreenshot(t, f, i)
	}
	data := filepath.Join(dir, "data")
	env := []string{"DISPLAY=" + display, "WAYLAND_DISPLAY=", "LANG=C.UTF-8", "HOME=" + dir,
		"UPSHOT_DATA_DIR=" + data, "UPSHOT_CONFIG=" + config, "XDG_CONFIG_HOME=" + filepath.Join(dir, "xdg"),
		"DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent", "B2_APPLICATION_KEY_ID=", "B2_APPLICATION_KEY="}
	p := startApp(t, bin, env)
	p.ready(t)
	wid := windowID(t, display)
	id, err := strconv.ParseUint(wid, 10, 32)
	if err != nil {
		t.Fatalf("window id %q: %v", wid, err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // a hang guard
	defer cancel()
	start := time.Now()
	if err := xdndtest.Drop(ctx, display, uint32(id), files); err != nil {
		t.Fatalf("drop onto Upshot's window %s: %v\n%s", wid, err, p.errors())
	}
	t.Logf("the drop took %v", time.Since(start))

	p.until(t, "both uploads", func(st core.Status) bool { return st.Uploaded == int64(len(files)) })
	st, err := store.Open(t.Context(), filepath.Join(data, "upshot.db"))
	if err != nil {
		t.Fatal(err)
	}
	hist, err := st.History(t.Context(), store.Query{})
	st.Close()
	if err != nil || len(hist) != len(files) {
		t.Fatalf("history: %d entries (%v), want %d", len(hist), err, len(files))
	}
	for _, e := range hist {
		if e.Source != store.SourceDrop || !slices.Contains(files, e.File) {
			t.Fatalf("history entry %+v: want a drop of one of %q", e, files)
		}
		if want := filepath.Base(e.File); e.Key != want {
			t.Fatalf("%s went to the key %q, want %q", e.File, e.Key, want)
		}
		head, err := srv.Client().HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(srv.Bucket), Key: aws.String(e.Key)})
		if err != nil {
			t.Fatalf("%q is not in the bucket: %v", e.Key, err)
		}
		fi, err := os.Stat(e.File)
		if err != nil || aws.ToInt64(head.ContentLength) != fi.Size() {
			t.Fatalf("%q in the bucket is %d bytes, the file %v", e.Key, aws.ToInt64(head.ContentLength), fi)
		}
	}
	p.stop(t)
}
