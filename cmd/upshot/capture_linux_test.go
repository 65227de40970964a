package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"upshot/internal/devtools/dbustest"
	"upshot/internal/devtools/xvfbtest"
	"upshot/internal/store"
)

// captureSetup is what "upshot capture" runs with in these tests: a
// config whose captures go to their own folder, a private session bus
// (without a screenshot portal unless the test adds one), and a PATH
// that holds only the named tools.
type captureSetup struct {
	*cliEnv
	captures string
	bus      string // the private session bus's address
	env      []string
}

func newCaptureSetup(t *testing.T, display string, extra string, tools ...string) *captureSetup {
	t.Helper()
	dir := t.TempDir()
	captures := filepath.Join(dir, "captures")
	e := newCLIEnv(t, fmt.Sprintf("[capture]\ndir = %q\n%s", captures, extra))
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	for _, name := range tools {
		p, err := exec.LookPath(name)
		if err != nil {
			t.Fatalf("%s is needed (make test installs it)", name)
		}
		if err := os.Symlink(p, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	bus := dbustest.Start(t)
	return &captureSetup{cliEnv: e, captures: captures, bus: bus, env: []string{
		"DISPLAY=" + display, "WAYLAND_DISPLAY=", "XDG_SESSION_TYPE=", "PATH=" + bin,
		"DBUS_SESSION_BUS_ADDRESS=" + bus, "UPSHOT_DATA_DIR=" + e.data,
		"B2_APPLICATION_KEY_ID=" + e.srv.AccessKey, "B2_APPLICATION_KEY=" + e.srv.SecretKey}}
}

// saved lists the captures on disk.
func (c *captureSetup) saved(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(c.captures, "*"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// oneLine fails unless s is exactly one line holding every word.
func wantOneLine(t *testing.T, s string, words ...string) {
	t.Helper()
	if strings.Count(s, "\n") != 1 || !strings.HasSuffix(s, "\n") {
		t.Fatalf("want one line, got %q", s)
	}
	for _, w := range words {
		if !strings.Contains(s, w) {
			t.Fatalf("%q does not say %q", s, w)
		}
	}
}

func TestCaptureWithoutDisplay(t *testing.T) {
	c := newCaptureSetup(t, "", "", "import")
	code, out, errs, _ := runBin(t, nil, c.env, "capture", "--config", c.config, "region")
	if code != exitUsage || out != "" {
		t.Fatalf("exit %d, stdout %q; want %d and nothing printed", code, out, exitUsage)
	}
	wantOneLine(t, errs, "cannot capture here", "no display")
	if files := c.saved(t); len(files) != 0 {
		t.Fatalf("files saved: %q", files)
	}
}

func TestCaptureWithoutTool(t *testing.T) {
	c := newCaptureSetup(t, xvfbtest.Start(t, 320, 240), "")
	code, out, errs, _ := runBin(t, nil, c.env, "capture", "--config", c.config, "screen")
	if code != exitUsage || out != "" {
		t.Fatalf("exit %d, stdout %q; want %d", code, out, exitUsage)
	}
	wantOneLine(t, errs, "cannot capture here", "install", "scrot", "import")
}

func TestCaptureUsage(t *testing.T) {
	c := newCaptureSetup(t, "", "")
	for _, args := range [][]string{{"capture", "everything"}, {"capture", "region", "screen"}, {"capture", "--delay", "forever"}, {"capture", "--delay", "2m"}} {
		code, _, errs, _ := runBin(t, nil, c.env, append(args, "--config", c.config)...)
		if code != exitUsage || !strings.Contains(errs, "upshot capture") {
			t.Fatalf("%q: exit %d, stderr %q; want %d with a reason", args, code, errs, exitUsage)
		}
	}
}

// TestCaptureScreenUploads takes a real screen capture with ImageMagick's
// import on a private X server, uploads it and puts the link on the
// clipboard, where it stays after the command has exited.
func TestCaptureScreenUploads(t *testing.T) {
	display := xvfbtest.Start(t, 640, 480)
	c := newCaptureSetup(t, display, "", "import", "xclip")
	notes := dbustest.StartNotifications(t, c.bus)
	code, out, errs, _ := runBin(t, nil, c.env, "capture", "--config", c.config, "--json", "screen")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var line uploadLine
	if err := json.Unmarshal([]byte(out), &line); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	files := c.saved(t)
	if len(files) != 1 || line.File != files[0] || !strings.HasPrefix(line.Key, "shots/Screenshot ") || !strings.HasSuffix(line.Key, ".png") {
		t.Fatalf("printed %+v; saved %q", line, files)
	}
	fi, _ := os.Stat(files[0])
	head, err := c.srv.Client().HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: &c.srv.Bucket, Key: &line.Key})
	if err != nil || head.ContentLength == nil || *head.ContentLength != fi.Size() {
		t.Fatalf("the object: %v; want %d bytes", err, fi.Size())
	}
	read := exec.CommandContext(t.Context(), "xclip", "-o", "-selection", "clipboard")
	read.Env = append(os.Environ(), "DISPLAY="+display)
	if got, err := read.Output(); err != nil || string(got) != line.Link {
		t.Fatalf("the clipboard holds %q (%v), want %q", got, err, line.Link)
	}
	// Without a terminal (as from a keyboard shortcut), a notification.
	if n := notes.Next(t); n.Title != "Screenshot uploaded" || !strings.Contains(n.Body, line.URL) || !strings.Contains(n.Body, "clipboard") {
		t.Fatalf("notification %+v", n)
	}
	st, err := store.Open(t.Context(), filepath.Join(c.data, "upshot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hist, err := st.History(t.Context(), store.Query{})
	if err != nil || len(hist) != 1 || hist[0].Source != store.SourceCapture {
		t.Fatalf("history %+v (%v): want one capture", hist, err)
	}
}

// TestCaptureKeptWhenUploadFails: with the server down, the capture is
// saved and stays queued for a later run, and the command says so.
func TestCaptureKeptWhenUploadFails(t *testing.T) {
	display := xvfbtest.Start(t, 320, 240)
	c := newCaptureSetup(t, display, "", "import")
	cfg, _ := os.ReadFile(c.config)
	down := strings.Replace(string(cfg), c.srv.Endpoint, "http://127.0.0.1:1", 1)
	if err := os.WriteFile(c.config, []byte(down), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs, _ := runBin(t, nil, c.env, "capture", "--config", c.config, "--no-clipboard", "screen")
	if code != exitFailed || out != "" {
		t.Fatalf("exit %d, stdout %q: %s", code, out, errs)
	}
	files := c.saved(t)
	if len(files) != 1 {
		t.Fatalf("saved %q, want the capture", files)
	}
	wantOneLine(t, errs, files[0], "stays queued")
	st, err := store.Open(t.Context(), filepath.Join(c.data, "upshot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	jobs, err := st.Jobs(t.Context(), store.StateFailed, 10)
	if err != nil || len(jobs) != 1 || jobs[0].Path != files[0] || jobs[0].Source != store.SourceCapture {
		t.Fatalf("failed jobs %+v (%v): want the capture, to retry", jobs, err)
	}
}

// TestCaptureCancelled: the user presses Esc in the desktop's screenshot
// dialog (the portal answers "cancelled"): one line, exit 1, nothing saved
// or uploaded.
func TestCaptureCancelled(t *testing.T) {
	c := newCaptureSetup(t, "", "")
	dbustest.StartPortal(t, c.bus, dbustest.AnswerCancel, t.TempDir(), true)
	notes := dbustest.StartNotifications(t, c.bus)
	code, out, errs, _ := runBin(t, nil, c.env, "capture", "--config", c.config, "region")
	if code != exitFailed || out != "" {
		t.Fatalf("exit %d, stdout %q: %s", code, out, errs)
	}
	wantOneLine(t, errs, "capture cancelled", "nothing was uploaded")
	if !notes.None() {
		t.Fatal("a notification for a capture the user cancelled")
	}
	if files := c.saved(t); len(files) != 0 {
		t.Fatalf("files saved: %q", files)
	}
	if _, err := os.Stat(filepath.Join(c.data, "upshot.db")); err == nil {
		st, err := store.Open(t.Context(), filepath.Join(c.data, "upshot.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		counts, err := st.Counts(t.Context())
		for state, n := range counts {
			if n != 0 {
				t.Fatalf("%d %s jobs after a cancelled capture (%v)", n, state, err)
			}
		}
	}
}

// TestCaptureThroughPortal: where the desktop's portal runs, it takes the
// capture (a region, interactively), and its file is moved out of the
// Pictures folder into capture.dir before the upload.
func TestCaptureThroughPortal(t *testing.T) {
	c := newCaptureSetup(t, "", "")
	pictures := t.TempDir()
	p := dbustest.StartPortal(t, c.bus, dbustest.AnswerOK, pictures, true)
	code, out, errs, _ := runBin(t, nil, c.env, "capture", "--config", c.config, "--json", "--no-clipboard")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if opts := p.NextCall(t); opts["interactive"].Value() != true {
		t.Fatalf("a region capture asked the portal with %v, want interactive", opts)
	}
	var line uploadLine
	if err := json.Unmarshal([]byte(out), &line); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	left, _ := filepath.Glob(filepath.Join(pictures, "*"))
	if files := c.saved(t); len(files) != 1 || line.File != files[0] || len(left) != 0 {
		t.Fatalf("printed %+v; capture.dir holds %q, Pictures %q", line, files, left)
	}
}

// TestCaptureHandsOffToWatch: beside a running "upshot watch", the capture
// is taken here and uploaded by the watch's queue, which reports it as its
// own; the command prints the link all the same.
func TestCaptureHandsOffToWatch(t *testing.T) {
	display := xvfbtest.Start(t, 320, 240)
	captures := filepath.Join(t.TempDir(), "captures")
	w := newWatchEnv(t, fmt.Sprintf("[capture]\ndir = %q\n", captures))
	p := w.start(t, w.dir)
	bin := t.TempDir()
	imp, err := exec.LookPath("import")
	if err != nil {
		t.Fatal("ImageMagick's import is needed (make test installs it)")
	}
	if err := os.Symlink(imp, filepath.Join(bin, "import")); err != nil {
		t.Fatal(err)
	}
	env := append(append([]string{}, w.env...), "DISPLAY="+display, "PATH="+bin, "DBUS_SESSION_BUS_ADDRESS="+dbustest.Start(t))
	code, out, errs, _ := runBin(t, nil, env, "capture", "--config", w.config, "--json", "--no-clipboard", "screen")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var line uploadLine
	if err := json.Unmarshal([]byte(out), &line); err != nil || !strings.HasPrefix(line.Key, "Screenshot ") {
		t.Fatalf("%v: %q", err, out)
	}
	p.collect(t, map[string]bool{line.Key: true}, time.Minute)
	p.stop(t)
	if got := w.objectSHA1(t, line.Key); got != line.SHA1 {
		t.Fatalf("bucket holds %s, want %s", got, line.SHA1)
	}
}
