//go:build linux

package clipboard

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
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests run against a real X server. With DISPLAY empty, TestMain starts
// a private Xvfb and runs the tests again in a child process pointed at it,
// so that the X server outlives every client of this process (Xlib ends a
// process whose display connection breaks). Without Xvfb the display tests
// skip, or fail when UPSHOT_REQUIRE_DISPLAY=1.

const (
	// writerEnv makes the test binary a short-lived Persist writer of the
	// variable's value.
	writerEnv = "UPSHOT_CLIPBOARD_TEST_WRITER"
	// underXvfbEnv marks the test run inside the private Xvfb.
	underXvfbEnv = "UPSHOT_CLIPBOARD_TEST_UNDER_XVFB"
	requireEnv   = "UPSHOT_REQUIRE_DISPLAY"
	// exitUnavailable is the writer's exit code for ErrUnavailable.
	exitUnavailable = 3
)

// noDisplay says why there is no display, when there is none.
var noDisplay = "DISPLAY is empty"

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == HoldCommand {
		os.Exit(Hold(os.Stdin))
	}
	if text, ok := os.LookupEnv(writerEnv); ok {
		os.Exit(writeAndExit(text))
	}
	if os.Getenv("DISPLAY") == "" && os.Getenv(underXvfbEnv) == "" {
		code, err := runUnderXvfb()
		if err == nil {
			os.Exit(code)
		}
		noDisplay = err.Error()
	}
	os.Exit(m.Run())
}

// writeAndExit is the short-lived writer: it copies text with Persist set,
// says on stdout which way the write went, and exits.
func writeAndExit(text string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := New(Options{Persist: true})
	start := time.Now()
	backend := c.Backend()
	chosen := time.Since(start)
	err := c.WriteText(ctx, text)
	fmt.Printf("backend=%s persist=%s chosen=%v written=%v\n", backend, persistPath(c), chosen.Round(time.Microsecond), (time.Since(start) - chosen).Round(time.Microsecond))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		if errors.Is(err, ErrUnavailable) {
			return exitUnavailable
		}
		return 1
	}
	return 0
}

// persistPath names where a Persist write of c goes.
func persistPath(c *Clipboard) string {
	switch b := c.backend().(type) {
	case *libBackend:
		switch {
		case !b.x11:
			return "native"
		case b.persistTool != nil:
			return b.persistTool.label
		default:
			return "hold"
		}
	case *toolBackend:
		return b.label
	default:
		return "none"
	}
}

// runUnderXvfb starts Xvfb on a free display and runs this test binary
// again against it, returning the child's exit code.
func runUnderXvfb() (int, error) {
	xvfb, err := exec.LookPath("Xvfb")
	if err != nil {
		return 0, errors.New("DISPLAY is empty and Xvfb is not installed (apt-get install xvfb)")
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer pr.Close()
	var xlog bytes.Buffer
	srv := exec.Command(xvfb, "-displayfd", "3", "-screen", "0", "320x240x24", "-nolisten", "tcp", "-noreset")
	srv.ExtraFiles = []*os.File{pw}
	srv.Stdout, srv.Stderr = &xlog, &xlog
	srv.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // no stray server if we are killed
	err = srv.Start()
	pw.Close()
	if err != nil {
		return 0, fmt.Errorf("start Xvfb: %w", err)
	}
	defer func() {
		_ = srv.Process.Kill()
		_ = srv.Wait()
	}()
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(pr).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	var num string
	select {
	case num = <-line:
	case <-time.After(30 * time.Second):
	}
	if num == "" {
		_ = srv.Process.Kill()
		_ = srv.Wait()
		return 0, fmt.Errorf("Xvfb reported no display number: %s", strings.TrimSpace(xlog.String()))
	}
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	child := exec.Command(exe, os.Args[1:]...)
	child.Env = append(os.Environ(), "DISPLAY=:"+num, underXvfbEnv+"=1", quickRaceExit())
	child.Stdin, child.Stdout, child.Stderr = os.Stdin, os.Stdout, os.Stderr
	err = child.Run()
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		if code := ee.ExitCode(); code > 0 {
			return code, nil
		}
		return 1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("run tests under Xvfb: %w", err)
	}
	return 0, nil
}

// quickRaceExit returns a GORACE setting that keeps the race detector's
// options but drops its one-second sleep at exit, which would otherwise
// dominate the run time of every child process.
func quickRaceExit() string {
	return strings.TrimSpace("GORACE=" + os.Getenv("GORACE") + " atexit_sleep_ms=0")
}

// requireDisplay skips the test without a display (fails it when
// UPSHOT_REQUIRE_DISPLAY=1) and hides any Wayland session, so the X11
// paths run.
func requireDisplay(t *testing.T) {
	t.Helper()
	if os.Getenv("DISPLAY") == "" {
		missing(t, noDisplay)
	}
	t.Setenv("WAYLAND_DISPLAY", "")
}

// requireXclip is requireDisplay plus xclip; it returns xclip's path.
func requireXclip(t *testing.T) string {
	t.Helper()
	requireDisplay(t)
	p, err := exec.LookPath("xclip")
	if err != nil {
		missing(t, "xclip is not installed (apt-get install xclip)")
	}
	return p
}

func missing(t *testing.T, why string) {
	t.Helper()
	if os.Getenv(requireEnv) == "1" {
		t.Fatalf("%s, and %s=1", why, requireEnv)
	}
	t.Skip(why)
}

// xclipOut returns the clipboard's text as xclip sees it.
func xclipOut(t *testing.T, xclip string) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), xclip, "-selection", "clipboard", "-out")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("xclip -out: %v: %s", err, stderr.String())
	}
	return string(out)
}

// xclipIn puts data on the clipboard with xclip as the given target and
// returns once xclip's server owns the clipboard. xclip's foreground
// process exits before that, so with cgo this process takes the clipboard
// first and waits for losing it; without cgo it polls TARGETS.
func xclipIn(t *testing.T, xclip, target string, data []byte) {
	t.Helper()
	ctx := t.Context()
	var lost <-chan struct{}
	if libAvailable {
		if err := libInit(); err != nil {
			t.Fatalf("golang.design Init with DISPLAY=%s: %v", os.Getenv("DISPLAY"), err)
		}
		ch, err := libWrite(ctx, fmtText, []byte("placeholder"))
		if err != nil {
			t.Fatal(err)
		}
		lost = ch
	}
	cmd := exec.CommandContext(ctx, xclip, "-selection", "clipboard", "-target", target, "-in")
	cmd.Stdin = bytes.NewReader(data)
	// Stdout and stderr stay /dev/null: xclip's server inherits them, and
	// Run would wait for it if they were pipes.
	if err := cmd.Run(); err != nil {
		t.Fatalf("xclip -target %s -in: %v", target, err)
	}
	if lost != nil {
		select {
		case <-lost:
		case <-ctx.Done():
			t.Fatal("xclip never took the clipboard")
		}
		return
	}
	ok := poll(ctx, 10*time.Second, func(ctx context.Context) bool {
		out, err := exec.CommandContext(ctx, xclip, "-selection", "clipboard", "-out", "-target", "TARGETS").Output()
		return err == nil && hasLine(out, target)
	})
	if !ok {
		t.Fatalf("xclip never offered %s", target)
	}
}

// runWriter runs the test binary as a Persist writer of text and returns
// its stdout, stderr and exit code. Its output goes to pipes, so a writer
// that left them to the holder or to xclip's server would hang here.
func runWriter(t *testing.T, text string, env ...string) (stdout, stderr string, code int) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), append([]string{writerEnv + "=" + text, "WAYLAND_DISPLAY=", quickRaceExit()}, env...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err = cmd.Run()
	t.Logf("writer ran %v: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(out.String()))
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		return out.String(), errb.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("writer: %v", err)
	}
	return out.String(), errb.String(), 0
}

func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	img.Set(0, 0, color.NRGBA{R: 255, A: 255})
	img.Set(2, 1, color.NRGBA{B: 255, A: 128})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWriteTextReadByXclip(t *testing.T) {
	xclip := requireXclip(t)
	ctx := t.Context()
	c := New(Options{})
	want := "x11"
	if !libAvailable {
		want = "xclip"
	}
	if got := c.Backend(); got != want {
		t.Fatalf("Backend() = %q, want %q", got, want)
	}
	for _, text := range []string{
		"https://img.example.com/2025/06/shot%20one.png",
		"![Bildschirmfoto – ä+b](https://f004.backblazeb2.com/file/b/a%2Bb.png)\n",
	} {
		start := time.Now()
		if err := c.WriteText(ctx, text); err != nil {
			t.Fatal(err)
		}
		t.Logf("WriteText took %v", time.Since(start).Round(time.Microsecond))
		if got := xclipOut(t, xclip); got != text {
			t.Errorf("xclip -out = %q, want %q", got, text)
		}
		got, err := c.ReadText(ctx)
		if err != nil || got != text {
			t.Errorf("ReadText = %q, %v; want %q", got, err, text)
		}
	}
}

func TestPersistOutlivesWriter(t *testing.T) {
	xclip := requireXclip(t)
	t.Run("xclip", func(t *testing.T) {
		text := "https://img.example.com/persist-xclip.png"
		stdout, stderr, code := runWriter(t, text)
		if code != 0 {
			t.Fatalf("writer exit %d: %s", code, stderr)
		}
		if !strings.Contains(stdout, "persist=xclip") {
			t.Fatalf("writer did not use xclip: %s", stdout)
		}
		if got := xclipOut(t, xclip); got != text {
			t.Errorf("after the writer exited, xclip -out = %q, want %q", got, text)
		}
	})
	t.Run("hold", func(t *testing.T) {
		// No xclip and no xsel in PATH: the writer re-executes itself with
		// HoldCommand.
		text := "https://img.example.com/persist-hold.png"
		stdout, stderr, code := runWriter(t, text, "PATH="+t.TempDir())
		if !libAvailable {
			if code != exitUnavailable {
				t.Fatalf("without cgo and tools: writer exit %d, want %d (ErrUnavailable): %s", code, exitUnavailable, stderr)
			}
			return
		}
		if code != 0 {
			t.Fatalf("writer exit %d: %s", code, stderr)
		}
		if !strings.Contains(stdout, "persist=hold") {
			t.Fatalf("writer did not use the holder: %s", stdout)
		}
		if got := xclipOut(t, xclip); got != text {
			t.Errorf("after the writer exited, xclip -out = %q, want %q", got, text)
		}
		got, err := New(Options{}).ReadText(t.Context())
		if err != nil || got != text {
			t.Errorf("ReadText = %q, %v; want %q", got, err, text)
		}
	})
}

func TestUnavailableWithoutDisplay(t *testing.T) {
	ctx := t.Context()
	check := func(t *testing.T, c *Clipboard, hint string) {
		t.Helper()
		if got := c.Backend(); got != "none" {
			t.Errorf("Backend() = %q, want none", got)
		}
		errs := map[string]error{"WriteText": c.WriteText(ctx, "https://example.com/a.png")}
		_, errs["ReadText"] = c.ReadText(ctx)
		_, errs["ReadImage"] = c.ReadImage(ctx)
		for op, err := range errs {
			if !errors.Is(err, ErrUnavailable) {
				t.Errorf("%s: %v, want ErrUnavailable", op, err)
			} else if !strings.Contains(err.Error(), hint) {
				t.Errorf("%s: %q does not mention %q", op, err, hint)
			}
		}
	}
	t.Run("no display", func(t *testing.T) {
		t.Setenv("DISPLAY", "")
		t.Setenv("WAYLAND_DISPLAY", "")
		check(t, New(Options{Persist: true}), "DISPLAY")
	})
	t.Run("wayland without wl-clipboard", func(t *testing.T) {
		t.Setenv("DISPLAY", "")
		t.Setenv("WAYLAND_DISPLAY", "wayland-upshot-test")
		t.Setenv("PATH", t.TempDir())
		check(t, New(Options{}), "wl-clipboard")
	})
}

// TestBrokenDisplay points DISPLAY at a server that does not exist, so
// golang.design's Init fails. It runs in a child process because Init's
// result is cached for the process.
func TestBrokenDisplay(t *testing.T) {
	broken := []string{"DISPLAY=:4711", "PATH=" + t.TempDir()}
	t.Run("no tools", func(t *testing.T) {
		_, stderr, code := runWriter(t, "https://example.com/broken.png", broken...)
		if code != exitUnavailable {
			t.Fatalf("writer exit %d, want %d (ErrUnavailable): %s", code, exitUnavailable, stderr)
		}
		t.Logf("message: %s", strings.TrimSpace(stderr))
		if !strings.Contains(stderr, "xclip") {
			t.Errorf("message does not suggest xclip: %s", stderr)
		}
	})
	t.Run("xclip fallback", func(t *testing.T) {
		xclip, err := exec.LookPath("xclip")
		if err != nil {
			t.Skip("xclip is not installed")
		}
		dir := t.TempDir()
		if err := os.Symlink(xclip, dir+"/xclip"); err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code := runWriter(t, "https://example.com/broken.png", "DISPLAY=:4711", "PATH="+dir)
		if code != 1 || !strings.Contains(stdout, "backend=xclip") {
			t.Fatalf("writer exit %d, %s; want exit 1 from backend xclip: %s", code, strings.TrimSpace(stdout), stderr)
		}
		t.Logf("message: %s", strings.TrimSpace(stderr))
		if !strings.Contains(stderr, "xclip") {
			t.Errorf("message does not name xclip: %s", stderr)
		}
	})
}

func TestReadImage(t *testing.T) {
	xclip := requireXclip(t)
	ctx := t.Context()
	img := testPNG(t)
	xclipIn(t, xclip, "image/png", img)

	c := New(Options{})
	got, err := c.ReadImage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, img) {
		t.Errorf("ReadImage returned %d bytes, want the %d put there", len(got), len(img))
	}
	if libAvailable {
		got, err := libRead(ctx, fmtImage)
		if err != nil || !bytes.Equal(got, img) {
			t.Errorf("golang.design Read(FmtImage) = %d bytes, %v; want the %d put there", len(got), err, len(img))
		}
	}

	if err := c.WriteText(ctx, "https://example.com/not-an-image"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadImage(ctx); !errors.Is(err, ErrNoImage) {
		t.Errorf("ReadImage with text on the clipboard: %v, want ErrNoImage", err)
	}
	if libAvailable {
		b := &libBackend{label: "x11", x11: true} // golang.design reads the image
		if _, err := b.readImage(ctx); !errors.Is(err, ErrNoImage) {
			t.Errorf("golang.design ReadImage with text on the clipboard: %v, want ErrNoImage", err)
		}
	}
}

// TestHoldUntilTakenOver runs the holder in this process: it reports "ok"
// once it owns the clipboard and returns when another program takes it.
func TestHoldUntilTakenOver(t *testing.T) {
	xclip := requireXclip(t)
	if !libAvailable {
		t.Skip("the holder needs golang.design, which needs cgo here")
	}
	if err := libInit(); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	text := "https://img.example.com/held.png"
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	done := make(chan int, 1)
	go func() { done <- hold(strings.NewReader(text), pw, time.Hour) }()
	msg, err := io.ReadAll(pr) // hold closes pw once it has reported
	if err != nil || string(msg) != "ok\n" {
		t.Fatalf("holder reported %q, %v", msg, err)
	}
	if got := xclipOut(t, xclip); got != text {
		t.Errorf("xclip -out = %q, want %q", got, text)
	}
	xclipIn(t, xclip, "UTF8_STRING", []byte("someone else"))
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("hold returned %d, want 0", code)
		}
	case <-ctx.Done():
		t.Fatal("hold did not return after another program took the clipboard")
	}

	t.Run("time limit", func(t *testing.T) {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer pr.Close()
		if code := hold(strings.NewReader(text), pw, time.Nanosecond); code != 0 {
			t.Errorf("hold returned %d, want 0", code)
		}
		if msg, _ := io.ReadAll(pr); string(msg) != "ok\n" {
			t.Errorf("holder reported %q", msg)
		}
	})
}

func TestHoldRejects(t *testing.T) {
	t.Run("bad ready fd", func(t *testing.T) {
		t.Setenv(readyEnv, "stdout")
		if code := Hold(strings.NewReader("x")); code != 2 {
			t.Errorf("Hold = %d, want 2", code)
		}
	})
	t.Run("too long", func(t *testing.T) {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer pr.Close()
		code := make(chan int, 1)
		go func() { code <- hold(io.LimitReader(zeros{}, maxHoldBytes+1), pw, time.Hour) }()
		msg, _ := io.ReadAll(pr)
		if c := <-code; c != 1 || !strings.Contains(string(msg), "longer than") {
			t.Errorf("hold = %d, %q; want 1 and a complaint about the length", c, msg)
		}
	})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestConcurrentUse(t *testing.T) {
	xclip := requireXclip(t)
	ctx := t.Context()
	c := New(Options{})
	var texts []string
	for i := range 8 {
		texts = append(texts, fmt.Sprintf("https://img.example.com/concurrent-%d.png", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(texts))
	for _, text := range texts {
		wg.Go(func() {
			errs <- c.WriteText(ctx, text)
			_ = c.Backend()
			_, err := c.ReadText(ctx)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	got := xclipOut(t, xclip)
	if !slices.Contains(texts, got) {
		t.Errorf("xclip -out = %q, want one of the texts written", got)
	}
	if text, err := c.ReadText(ctx); err != nil || text != got {
		t.Errorf("ReadText = %q, %v; want %q", text, err, got)
	}
}

// TestWriteImagePersists: a persistent image write is on the clipboard as
// image/png, byte for byte, and no text is mistaken for one.
func TestWriteImagePersists(t *testing.T) {
	xclip := requireXclip(t)
	ctx := t.Context()
	img := testPNG(t)
	c := New(Options{Persist: true})
	if err := c.WriteImage(ctx, img); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(ctx, xclip, "-selection", "clipboard", "-out", "-target", "image/png").Output()
	if err != nil || !bytes.Equal(out, img) {
		t.Fatalf("xclip reads %d bytes (%v), want the %d written", len(out), err, len(img))
	}
	if err := c.WriteImage(ctx, []byte("not a png")); err == nil {
		t.Fatal("WriteImage took bytes that are not a PNG")
	}
}
