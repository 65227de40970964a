//go:build linux

package xdndtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"upshot/internal/core"
	"upshot/internal/devtools/xvfbtest"
	"upshot/internal/store"
	"upshot/uploader/s3test"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// hangGuard bounds each wait; it is no performance limit.
const hangGuard = 2 * time.Minute

func init() {
	// xgb logs to stderr that Xvfb has no ~/.Xauthority, and that the
	// connection broke when a test's Xvfb stops.
	xgb.Logger = log.New(io.Discard, "", 0)
}

// TestDropOntoUpshot runs the real window program under Xvfb against a
// local versitygw and drops two PNG files onto its window, one whose name
// needs percent-encoding: both upload, come into the history as dropped,
// and are in the bucket.
func TestDropOntoUpshot(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real window program")
	}
	requireTool(t, "xdotool")
	display := xvfbtest.Start(t, 1024, 768)
	srv := s3test.Start(t, s3test.Options{})
	bin := buildDesktop(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "config.toml")
	body := fmt.Sprintf("[target]\nendpoint = %q\nbucket = %q\nkey_id = %q\nkey = %q\npath_template = \"{name}{ext}\"\n",
		srv.Endpoint, srv.Bucket, srv.AccessKey, srv.SecretKey)
	if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	shots := filepath.Join(dir, "shots")
	if err := os.Mkdir(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	files := []string{filepath.Join(shots, "plain.png"), filepath.Join(shots, "a shot #2 ü+%.png")}
	for i, f := range files {
		writePNG(t, f, i)
	}
	env := []string{"DISPLAY=" + display, "WAYLAND_DISPLAY=", "LANG=C.UTF-8", "HOME=" + dir,
		"UPSHOT_DATA_DIR=" + data, "UPSHOT_CONFIG=" + config, "XDG_CONFIG_HOME=" + filepath.Join(dir, "xdg"),
		"DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent", "B2_APPLICATION_KEY_ID=", "B2_APPLICATION_KEY="}
	p := startApp(t, bin, data, env)
	p.ready(t)
	wid := windowID(t, display)

	ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
	defer cancel()
	start := time.Now()
	if err := Drop(ctx, display, wid, files); err != nil {
		t.Fatalf("drop onto Upshot's window 0x%x: %v\n%s", wid, err, p.errors())
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

// TestDropNotAware drops onto a plain window, which takes no drops: Drop
// says so.
func TestDropNotAware(t *testing.T) {
	display := xvfbtest.Start(t, 320, 240)
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	screen := xproto.Setup(conn).DefaultScreen(conn)
	wid, err := xproto.NewWindowId(conn)
	if err != nil {
		t.Fatal(err)
	}
	if err := xproto.CreateWindowChecked(conn, screen.RootDepth, wid, screen.Root, 10, 10, 100, 80, 0,
		xproto.WindowClassInputOutput, screen.RootVisual, 0, nil).Check(); err != nil {
		t.Fatal(err)
	}
	if err := xproto.MapWindowChecked(conn, wid).Check(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
	defer cancel()
	err = Drop(ctx, display, uint32(wid), []string{"/tmp/x.png"})
	if !errors.Is(err, ErrNotAware) {
		t.Fatalf("drop onto a window that takes no drops: %v, want %v", err, ErrNotAware)
	}
	if err := Drop(ctx, display, uint32(wid)+1000, []string{"/tmp/x.png"}); err == nil || !strings.Contains(err.Error(), "no window") {
		t.Fatalf("drop onto no window: %v", err)
	}
}

func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv(xvfbtest.RequireEnv) == "1" {
			t.Fatalf("%s is needed (apt-get install %s): %v", name, name, err)
		}
		t.Skipf("%s is not installed: %v", name, err)
	}
}

// writePNG writes a small real PNG, different for each n.
func writePNG(t *testing.T, path string, n int) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), uint8(n * 90), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// buildDesktop builds cmd/upshot-desktop (with cgo; go's cache keeps
// later builds quick) and returns its path.
func buildDesktop(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "upshot-desktop")
	if msg, err := exec.Command("go", "build", "-o", out, "upshot/cmd/upshot-desktop").CombinedOutput(); err != nil {
		t.Fatalf("go build upshot/cmd/upshot-desktop: %v\n%s", err, msg)
	}
	return out
}

// windowID waits for Upshot's window to be mapped and returns its id.
func windowID(t *testing.T, display string) uint32 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
	defer cancel()
	cmd := exec.CommandContext(ctx, "xdotool", "search", "--sync", "--onlyvisible", "--name", "^Upshot$")
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("xdotool search: %v", err)
	}
	id, err := strconv.ParseUint(strings.Fields(string(out))[0], 10, 32)
	if err != nil {
		t.Fatalf("xdotool printed %q: %v", out, err)
	}
	return uint32(id)
}

// appProc is the running window program.
type appProc struct {
	data  string // its data folder
	cmd   *exec.Cmd
	lines chan string // its stdout; closed when it closes
	mu    sync.Mutex
	errb  bytes.Buffer
	done  bool // waited for
}

func (p *appProc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errb.Write(b)
}

func (p *appProc) errors() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errb.String()
}

func startApp(t *testing.T, bin, data string, env []string) *appProc {
	t.Helper()
	p := &appProc{data: data, lines: make(chan string, 100)}
	p.cmd = exec.Command(bin)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stderr = p
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		if !p.done {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	return p
}

// ready waits until the window is up, as other upshot commands see it.
func (p *appProc) ready(t *testing.T) {
	t.Helper()
	p.until(t, "the app to listen", func(core.Status) bool { return true })
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
	defer cancel()
	if st, err := core.Reach(p.data).WaitReady(ctx); err != nil || !st.Ready {
		t.Fatalf("the window did not come up: %+v, %v\n%s", st, err, p.errors())
	}
}

// until asks the running app for its status until cond holds.
func (p *appProc) until(t *testing.T, what string, cond func(core.Status) bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(hangGuard)
	for {
		st, err := core.Reach(p.data).Status(t.Context())
		if err == nil && cond(st) {
			return
		}
		select {
		case _, ok := <-p.lines:
			if !ok {
				t.Fatalf("upshot-desktop exited before %s: %v\n%s", what, p.cmd.Wait(), p.errors())
			}
		case <-tick.C:
		case <-timeout:
			t.Fatalf("no %s within %v (last status %+v, %v)\n%s", what, hangGuard, st, err, p.errors())
		}
	}
}

// stop sends SIGTERM and expects a clean exit.
func (p *appProc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// A hang guard: a program that does not quit dumps its goroutines to
	// the stderr the failure shows.
	hung := time.AfterFunc(hangGuard, func() { _ = p.cmd.Process.Signal(syscall.SIGQUIT) })
	for range p.lines {
	}
	err := p.cmd.Wait()
	p.done = true
	if !hung.Stop() {
		t.Fatalf("upshot-desktop did not quit within %v of SIGTERM\n%s", hangGuard, p.errors())
	}
	if err != nil {
		t.Fatalf("upshot-desktop did not quit cleanly on SIGTERM: %v\n%s", err, p.errors())
	}
}
