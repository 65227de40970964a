package core

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"upshot/internal/store"
	"upshot/uploader"
	"upshot/uploader/s3test"
)

type env struct {
	srv    *s3test.Server
	proxy  *s3test.Proxy
	st     *store.Store
	up     *uploader.Uploader
	svc    *Service
	events chan Event
}

// endpointKind is the kind of endpoint a test runs against.
type endpointKind int

const (
	conditionalWrites endpointKind = iota // versitygw: If-None-Match answered with 412
	b2Like                                // the B2-like proxy: 501 to conditional writes, versions kept
)

func newEnv(t *testing.T, opts QueueOptions) *env { return newEnvOn(t, opts, conditionalWrites) }

func newEnvOn(t *testing.T, opts QueueOptions, kind endpointKind) *env {
	t.Helper()
	e := &env{events: make(chan Event, 10000)}
	e.srv = s3test.Start(t, s3test.Options{Versioning: kind == b2Like})
	e.proxy = s3test.NewProxy(t, e.srv, s3test.ProxyOptions{B2: kind == b2Like})
	cfg := &uploader.Config{Target: uploader.Target{Endpoint: e.proxy.URL, Bucket: e.srv.Bucket, KeyID: e.srv.AccessKey,
		Key: uploader.NewSecret(e.srv.SecretKey), PathTemplate: "{name}{ext}"}}
	cfg.SetDefaults()
	p := uploader.Policy{Attempts: 2, Base: 10 * time.Millisecond, Max: 20 * time.Millisecond}
	var err error
	if e.up, err = uploader.New(cfg, uploader.Options{StateDir: t.TempDir(), Policy: &p}); err != nil {
		t.Fatal(err)
	}
	if e.st, err = store.Open(t.Context(), filepath.Join(t.TempDir(), "upshot.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.st.Close() })
	opts.OnEvent = func(ev Event) { e.events <- ev }
	e.svc = NewService(e.st, e.up, opts)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { e.svc.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return e
}

// await collects events until n jobs have reached Done or Rejected.
func (e *env) await(t *testing.T, n int) map[string]Event {
	t.Helper()
	final := map[string]Event{}
	timeout := time.After(60 * time.Second)
	for len(final) < n {
		select {
		case ev := <-e.events:
			if ev.Kind == Done || ev.Kind == Rejected {
				if _, dup := final[ev.Job.Path]; dup {
					t.Fatalf("%s finished twice", ev.Job.Path)
				}
				final[ev.Job.Path] = ev
			}
		case <-timeout:
			t.Fatalf("only %d of %d jobs finished", len(final), n)
		}
	}
	return final
}

func writeFiles(t *testing.T, dir string, n int) []string {
	var paths []string
	for i := range n {
		b := make([]byte, 2048)
		rand.Read(b)
		p := filepath.Join(dir, fmt.Sprintf("f%04d.png", i))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// countPuts counts accepted uploads of files, not of the one-time probe
// object that learns the endpoint.
func countPuts(p *s3test.Proxy) int {
	n := 0
	for _, r := range p.Requests() {
		if r.Method == http.MethodPut && r.BodyBytes > 0 && r.Status == 200 && !strings.Contains(r.Path, "/.upshot-probe-") {
			n++
		}
	}
	return n
}

func TestQueueUploadsEachOnce(t *testing.T) {
	for name, kind := range map[string]endpointKind{"conditional writes": conditionalWrites, "B2-like": b2Like} {
		t.Run(name, func(t *testing.T) { testQueueUploadsEachOnce(t, kind) })
	}
}

func testQueueUploadsEachOnce(t *testing.T, kind endpointKind) {
	e := newEnvOn(t, QueueOptions{Concurrency: 4}, kind)
	paths := writeFiles(t, t.TempDir(), 50)
	for _, p := range paths {
		if _, err := e.svc.Add(t.Context(), p, store.SourceWatch, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	final := e.await(t, len(paths))
	for _, p := range paths {
		ev := final[p]
		if ev.Kind != Done || ev.Entry.Key != filepath.Base(p) || ev.Link.URL == "" || ev.Latency <= 0 {
			t.Fatalf("%s: %+v", p, ev)
		}
	}
	if n := countPuts(e.proxy); n != len(paths) {
		t.Fatalf("%d PUTs for %d files", n, len(paths))
	}
	hist, _ := e.st.History(t.Context(), store.Query{})
	if len(hist) != len(paths) {
		t.Fatalf("%d history entries", len(hist))
	}
}

func TestKnownContentIsNotUploadedAgain(t *testing.T) {
	e := newEnv(t, QueueOptions{})
	dir := t.TempDir()
	p := writeFiles(t, dir, 1)[0]
	e.svc.Add(t.Context(), p, store.SourceWatch, time.Time{})
	first := e.await(t, 1)[p]
	puts := countPuts(e.proxy)

	// The same file saved again (new mtime), and a copy under another name
	// from another source: neither goes over the network again.
	now := time.Now().Add(time.Minute)
	os.Chtimes(p, now, now)
	copyPath := filepath.Join(dir, "copy.png")
	b, _ := os.ReadFile(p)
	os.WriteFile(copyPath, b, 0o644)
	e.svc.Add(t.Context(), p, store.SourceWatch, time.Time{})
	e.svc.Add(t.Context(), copyPath, store.SourceDrop, time.Time{})
	final := e.await(t, 2)
	for _, ev := range final {
		if ev.Kind != Done || !ev.Entry.Deduplicated || ev.Entry.URL != first.Entry.URL {
			t.Fatalf("%+v: want a deduplicated entry reusing %s", ev, first.Entry.URL)
		}
	}
	if countPuts(e.proxy) != puts {
		t.Fatal("known content was uploaded again")
	}
}

// TestHistoryIsConfirmed: a file found in the history is confirmed with a
// HEAD before its link is given again; an object deleted outside Upshot
// is uploaded again rather than answered with a dead link.
func TestHistoryIsConfirmed(t *testing.T) {
	e := newEnv(t, QueueOptions{})
	p := writeFiles(t, t.TempDir(), 1)[0]
	e.svc.Add(t.Context(), p, store.SourceWatch, time.Time{})
	first := e.await(t, 1)[p]
	if first.Kind != Done {
		t.Fatalf("%+v", first)
	}
	e.proxy.Reset()
	e.svc.Add(t.Context(), p, store.SourceWatch, time.Time{})
	again := e.await(t, 1)[p]
	heads := 0
	for _, r := range e.proxy.Requests() {
		if r.Method == http.MethodHead {
			heads++
		}
	}
	if again.Kind != Done || !again.Entry.Deduplicated || countPuts(e.proxy) != 0 || heads != 1 {
		t.Fatalf("known file: %+v, %d PUTs, %d HEADs; want reused after one HEAD", again, countPuts(e.proxy), heads)
	}

	key := first.Entry.Key
	if _, err := e.srv.Client().DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: &e.srv.Bucket, Key: &key}); err != nil {
		t.Fatal(err)
	}
	e.svc.Add(t.Context(), p, store.SourceWatch, time.Time{})
	third := e.await(t, 1)[p]
	if third.Kind != Done || countPuts(e.proxy) != 1 {
		t.Fatalf("after the object was deleted: %+v, %d PUTs; want it uploaded again", third, countPuts(e.proxy))
	}
	if _, err := e.srv.Client().HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: &e.srv.Bucket, Key: &third.Entry.Key}); err != nil {
		t.Fatalf("the link given out points at nothing: %v", err)
	}
}

func TestOutageRetriesWithoutUser(t *testing.T) {
	e := newEnv(t, QueueOptions{Concurrency: 2, Backoff: func(int) time.Duration { return 200 * time.Millisecond }})
	if err := e.srv.Stop(); err != nil {
		t.Fatal(err)
	}
	paths := writeFiles(t, t.TempDir(), 10)
	for _, p := range paths {
		e.svc.Add(t.Context(), p, store.SourceWatch, time.Time{})
	}
	// Wait until every job has failed at least once, then bring it back.
	failed := map[string]bool{}
	for len(failed) < len(paths) {
		ev := <-e.events
		if ev.Kind == Done {
			t.Fatalf("%s done while the server is down", ev.Job.Path)
		}
		if ev.Kind == Failed {
			failed[ev.Job.Path] = true
		}
	}
	if err := e.srv.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	final := e.await(t, len(paths))
	for p, ev := range final {
		if ev.Kind != Done {
			t.Fatalf("%s: %v", p, ev.Kind)
		}
	}
	counts, _ := e.st.Counts(t.Context())
	if counts[store.StateDone] != len(paths) || counts[store.StateFailed]+counts[store.StateQueued]+counts[store.StateUploading] != 0 {
		t.Fatalf("queue not drained: %v", counts)
	}
}

func TestVanishedFileIsRejected(t *testing.T) {
	e := newEnv(t, QueueOptions{})
	p := filepath.Join(t.TempDir(), "gone.png")
	e.svc.Add(t.Context(), p, store.SourceDrop, time.Time{})
	ev := e.await(t, 1)[p]
	if ev.Kind != Rejected || ev.Err == nil {
		t.Fatalf("%+v, want rejected with a reason", ev)
	}
}

func TestPauseHoldsTheQueue(t *testing.T) {
	e := newEnv(t, QueueOptions{})
	if err := e.svc.SetPaused(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	p := writeFiles(t, t.TempDir(), 1)[0]
	e.svc.Add(t.Context(), p, store.SourceWatch, time.Time{})
	// Queued, and nothing more while paused.
	deadline := time.After(300 * time.Millisecond)
	for waiting := true; waiting; {
		select {
		case ev := <-e.events:
			if ev.Kind == Started || ev.Kind == Done {
				t.Fatal("a job started while paused")
			}
		case <-deadline:
			waiting = false
		}
	}
	e.svc.SetPaused(t.Context(), false)
	if ev := e.await(t, 1)[p]; ev.Kind != Done {
		t.Fatalf("after resume: %v", ev.Kind)
	}
}

// photoWithGPS is a real JPEG with an Exif segment naming a GPS position.
func photoWithGPS(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), 128, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	// Exif APP1 right after SOI: a TIFF header and an IFD0 with no entries,
	// followed by a GPS marker string as a tool would leave in MakerNotes.
	payload := append([]byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00"), []byte("GPSLatitude 52.37N")...)
	seg := []byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	out := append([]byte{0xFF, 0xD8}, seg...)
	out = append(out, payload...)
	return append(out, buf.Bytes()[2:]...)
}

func TestMetadataStrippedAndDeduped(t *testing.T) {
	e := newEnv(t, QueueOptions{})
	photo := photoWithGPS(t)
	p := filepath.Join(t.TempDir(), "holiday.jpg")
	os.WriteFile(p, photo, 0o644)
	e.svc.Add(t.Context(), p, store.SourceWatch, time.Time{})
	ev := e.await(t, 1)[p]
	if ev.Kind != Done {
		t.Fatalf("%+v", ev)
	}
	out, err := e.srv.Client().GetObject(t.Context(), &s3.GetObjectInput{Bucket: &e.srv.Bucket, Key: &ev.Entry.Key})
	if err != nil {
		t.Fatal(err)
	}
	uploaded, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if bytes.Contains(uploaded, []byte("Exif")) || bytes.Contains(uploaded, []byte("GPSLatitude")) {
		t.Fatal("the uploaded photo still carries its Exif/GPS")
	}
	a, err1 := jpeg.Decode(bytes.NewReader(photo))
	b, err2 := jpeg.Decode(bytes.NewReader(uploaded))
	if err1 != nil || err2 != nil || !bytes.Equal(a.(*image.YCbCr).Y, b.(*image.YCbCr).Y) {
		t.Fatalf("pixels differ after stripping (%v, %v)", err1, err2)
	}
	orig := sha1.Sum(photo)
	if ev.Entry.OriginalSHA1 != hex.EncodeToString(orig[:]) || ev.Entry.SHA1 == ev.Entry.OriginalSHA1 || ev.Entry.Size != int64(len(uploaded)) {
		t.Fatalf("history: original %s uploaded %s size %d", ev.Entry.OriginalSHA1, ev.Entry.SHA1, ev.Entry.Size)
	}
	// The same photo again is recognised by its original hash.
	puts := countPuts(e.proxy)
	now := time.Now().Add(time.Minute)
	os.Chtimes(p, now, now)
	e.svc.Add(t.Context(), p, store.SourceWatch, time.Time{})
	if again := e.await(t, 1)[p]; !again.Entry.Deduplicated || countPuts(e.proxy) != puts {
		t.Fatalf("second upload of the same photo: %+v", again.Entry)
	}
}

func TestStripRule(t *testing.T) {
	keep, photos := t.TempDir(), t.TempDir()
	off := false
	cfg := &uploader.Config{Watch: []uploader.Watch{{Dir: keep, KeepMetadata: true}, {Dir: photos}}}
	rule := StripRule(func() *uploader.Config { return cfg })
	for path, want := range map[string]bool{
		filepath.Join(keep, "a.jpg"):           false,
		filepath.Join(keep, "sub", "b.jpg"):    false,
		filepath.Join(photos, "c.jpg"):         true,
		filepath.Join(keep+"-other", "d.jpg"):  true,
		filepath.Join(t.TempDir(), "drop.jpg"): true,
	} {
		if got := rule(store.Job{Path: path}); got != want {
			t.Errorf("%s: strip %v, want %v", path, got, want)
		}
	}
	cfg.Privacy.StripMetadata = &off
	if rule(store.Job{Path: filepath.Join(photos, "c.jpg")}) {
		t.Error("strip_metadata = false is ignored")
	}
	if !StripRule(func() *uploader.Config { return nil })(store.Job{Path: "x.jpg"}) {
		t.Error("without a config, photos must still be stripped")
	}
}
