package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
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
)

// screenshotsEnv names a folder to copy the smoke test's screenshots to,
// e.g. docs/screenshots to refresh the README's pictures.
const screenshotsEnv = "UPSHOT_SCREENSHOTS"

// TestSmokeRealBinary builds the real upshot and runs it under Xvfb
// against a local versitygw: files given to "upshot upload" while the
// window runs go to the window's queue, upload, show in the list with
// their thumbnails, land in the history, and a link is on the X
// clipboard. "upshot settings" opens the window on its settings. It takes
// screenshots of the window and of the settings, and checks that the app
// quits cleanly on SIGTERM.
func TestSmokeRealBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	xclip, err := exec.LookPath("xclip")
	if err != nil {
		if os.Getenv(xvfbtest.RequireEnv) == "1" {
			t.Fatal("xclip is needed to read the clipboard (make test installs it)")
		}
		t.Skip("xclip is not installed")
	}
	display := xvfbtest.Start(t, 1280, 1100)
	bin := buildUpshot(t)
	srv := s3test.Start(t, s3test.Options{})
	dir := t.TempDir()
	// A watched folder, written as users write it.
	if err := os.MkdirAll(filepath.Join(dir, "Pictures", "Screenshots"), 0o755); err != nil {
		t.Fatal(err)
	}
	config := writeConfig(t, dir, srv, "{year}/{month}/{name}{ext}", "[[watch]]\ndir = \"~/Pictures/Screenshots\"\ninclude = [\"*.png\", \"*.jpg\"]\n")
	data := filepath.Join(dir, "data")
	shots := filepath.Join(dir, "shots")
	os.Mkdir(shots, 0o755)
	names := []string{"Screenshot 2026-11-22 at 09.41.12.png", "Screenshot 2026-11-22 at 10.02.57.png",
		"Screenshot 2026-11-22 at 10.15.00.png", "diagram.png"}
	for i, n := range names {
		writeScreenshot(t, filepath.Join(shots, n), i)
	}
	env := []string{"DISPLAY=" + display, "WAYLAND_DISPLAY=", "LANG=C.UTF-8", "HOME=" + dir, "UPSHOT_DATA_DIR=" + data,
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "xdg"), "DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(dir, "no-bus"),
		"B2_APPLICATION_KEY_ID=", "B2_APPLICATION_KEY=", "UPSHOT_CONFIG=" + config}

	p := startApp(t, bin, env)
	p.ready(t)
	// "upshot upload" beside the window hands the files to its queue.
	var paths []string
	for _, n := range names {
		paths = append(paths, filepath.Join(shots, n))
	}
	up := startApp(t, bin, env, append([]string{"upload", "--json", "--no-clipboard"}, paths...)...)
	var urls []string
	for range names {
		var line struct{ File, URL string }
		if err := json.Unmarshal([]byte("{"+up.expect(t, "{")), &line); err != nil {
			t.Fatal(err)
		}
		urls = append(urls, line.URL)
	}
	up.wait(t)
	// The window lists them: every row's thumbnail is made.
	// The window's queue uploaded them (its count is final once upload
	// has printed every link).
	status, err := core.Reach(data).Status(t.Context())
	if err != nil || status.Role != core.RoleWindow || status.Uploaded != int64(len(names)) {
		t.Fatalf("status %+v, %v", status, err)
	}
	p.until(t, "the thumbnails", func(core.Status) bool {
		shown, _ := filepath.Glob(filepath.Join(data, "thumbs", "*.png"))
		return len(shown) == len(names)
	})
	// A link of the batch is on the clipboard: the window puts each one
	// there as its upload completes.
	read := exec.CommandContext(t.Context(), xclip, "-o", "-selection", "clipboard")
	read.Env = append(os.Environ(), "DISPLAY="+display)
	got, err := read.Output()
	if err != nil {
		t.Fatalf("xclip -o: %v", err)
	}
	if !slices.Contains(urls, string(got)) {
		t.Fatalf("clipboard holds %q, want one of the links %q", got, urls)
	}
	// The history, read through the store while the app runs.
	st, err := store.Open(t.Context(), filepath.Join(data, "upshot.db"))
	if err != nil {
		t.Fatal(err)
	}
	hist, err := st.History(t.Context(), store.Query{})
	st.Close()
	if err != nil || len(hist) != len(names) {
		t.Fatalf("history: %d entries (%v)", len(hist), err)
	}
	for _, e := range hist {
		if e.Source != store.SourceCLI || !slices.Contains(urls, e.URL) {
			t.Fatalf("entry %+v", e)
		}
	}
	// A second upshot brings the running window to the front and ends.
	again := startApp(t, bin, env)
	again.wait(t)
	if !strings.Contains(again.errors(), "open already") {
		t.Fatalf("a second upshot said %q", again.errors())
	}
	wid := windowID(t, display)
	window := screenshot(t, display, wid, "window.png")
	p.stop(t)

	// The settings, in a second run, with a config as a B2 user has it
	// (nothing is uploaded in this run).
	b2 := filepath.Join(dir, "b2.toml")
	body := `[target]
endpoint = "https://s3.us-west-004.backblazeb2.com"
bucket = "my-screenshots"
key_id = "004a1b2c3d4e5f60000000001"
key = "K004notarealkeynotarealkeynotreal"
path_template = "{year}/{month}/{name}{ext}"
url_template = "https://img.example.com/{key}"
cache_control = "public, max-age=31536000, immutable"
[output]
format = "markdown"
[[watch]]
dir = "~/Pictures/Screenshots"
include = ["*.png", "*.jpg", "*.jpeg", "*.gif", "*.webp", "*.mp4"]
`
	if err := os.WriteFile(b2, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	p = startApp(t, bin, append(env, "UPSHOT_CONFIG="+b2), "settings")
	p.ready(t)
	wid = windowID(t, display)
	xdotool(t, display, "windowsize", wid, "760", "1060")
	settings := screenshot(t, display, wid, "settings.png")
	p.stop(t)

	if dst := os.Getenv(screenshotsEnv); dst != "" {
		for _, f := range []string{window, settings} {
			b, err := os.ReadFile(f)
			if err == nil {
				err = os.WriteFile(filepath.Join(dst, filepath.Base(f)), b, 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

// built is the upshot binary the tests run, built once per test binary.
var built struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// buildUpshot builds cmd/upshot and, beside it, cmd/upshot-desktop, once,
// and returns upshot: run with no subcommand it starts the window program,
// as an installed copy does.
func buildUpshot(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "upshot-bin-"); built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "upshot")
		for out, pkg := range map[string]string{built.path: "upshot/cmd/upshot", filepath.Join(built.dir, "upshot-desktop"): "upshot/cmd/upshot-desktop"} {
			cmd := exec.Command("go", "build", "-o", out, pkg)
			cmd.Dir = ".."
			if msg, err := cmd.CombinedOutput(); err != nil {
				built.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, msg)
				return
			}
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// writeConfig writes dir/config.toml (0600) for srv, with the key in the
// file, keys made by pathTemplate, and more TOML after the target's, and
// returns its path.
func writeConfig(t testing.TB, dir string, srv *s3test.Server, pathTemplate, more string) string {
	t.Helper()
	config := filepath.Join(dir, "config.toml")
	body := fmt.Sprintf("[target]\nendpoint = %q\nbucket = %q\nkey_id = %q\nkey = %q\npath_template = %q\n%s",
		srv.Endpoint, srv.Bucket, srv.AccessKey, srv.SecretKey, pathTemplate, more)
	if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return config
}

// appProc is a running upshot whose stdout arrives as lines.
type appProc struct {
	data   string // its data folder
	cmd    *exec.Cmd
	lines  chan string
	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan struct{}
}

func (p *appProc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.Write(b)
}

func (p *appProc) errors() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

func startApp(t testing.TB, bin string, env []string, args ...string) *appProc {
	t.Helper()
	p := &appProc{lines: make(chan string, 100), done: make(chan struct{})}
	for _, kv := range env {
		if d, ok := strings.CutPrefix(kv, "UPSHOT_DATA_DIR="); ok {
			p.data = d
		}
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stderr = p
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
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	return p
}

// ready waits until the window is up, as other upshot commands see it.
func (p *appProc) ready(t testing.TB) {
	t.Helper()
	// Until the app listens there is no one to ask; after that, one
	// request that the app answers once its window is up.
	p.until(t, "the app to listen", func(core.Status) bool { return true })
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // a hang guard
	defer cancel()
	if st, err := core.Reach(p.data).WaitReady(ctx); err != nil || !st.Ready {
		t.Fatalf("the window did not come up: %+v, %v\n%s", st, err, p.errors())
	}
}

// until asks the running app for its status until cond holds, and returns
// that status.
func (p *appProc) until(t testing.TB, what string, cond func(core.Status) bool) core.Status {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(2 * time.Minute) // a hang guard
	for {
		st, err := core.Reach(p.data).Status(t.Context())
		if err == nil && cond(st) {
			return st
		}
		select {
		case _, ok := <-p.lines:
			if !ok {
				t.Fatalf("upshot exited before %s: %v\n%s", what, p.cmd.Wait(), p.errors())
			}
		case <-tick.C:
		case <-timeout:
			t.Fatalf("no %s within two minutes (last status %+v, %v)\n%s", what, st, err, p.errors())
		}
	}
}

// wait waits for a command to end, and expects success.
func (p *appProc) wait(t testing.TB) {
	t.Helper()
	for range p.lines {
	}
	err := p.cmd.Wait()
	close(p.done)
	if err != nil {
		t.Fatalf("%v: %v\n%s", p.cmd.Args, err, p.errors())
	}
}

// expect reads lines until one starts with prefix, and returns the
// rest of it.
func (p *appProc) expect(t testing.TB, prefix string) string {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("upshot exited before %q: %v\n%s", prefix, p.cmd.Wait(), p.errors())
			}
			if rest, found := strings.CutPrefix(line, prefix); found {
				return rest
			}
		case <-timeout:
			t.Fatalf("no %q from upshot within a minute\n%s", prefix, p.errors())
		}
	}
}

// stop sends SIGTERM and expects a clean exit.
func (p *appProc) stop(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// A hang guard: an app that does not quit dumps its goroutines (to
	// the stderr the failure shows) and dies.
	// "upshot" runs the window program as its child and forwards SIGTERM
	// only: the child, which holds stdout, gets the SIGQUIT itself.
	hung := time.AfterFunc(2*time.Minute, func() {
		pid := p.cmd.Process.Pid
		if kids, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid)); err == nil {
			for _, k := range strings.Fields(string(kids)) {
				if n, err := strconv.Atoi(k); err == nil {
					_ = syscall.Kill(n, syscall.SIGQUIT)
				}
			}
		}
		_ = p.cmd.Process.Signal(syscall.SIGQUIT)
	})
	for range p.lines { // drain until stdout closes
	}
	if !hung.Stop() {
		t.Fatalf("upshot did not quit within 2 minutes of SIGTERM\n%s", p.errors())
	}
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	select {
	case err := <-exited:
		close(p.done)
		if err != nil {
			t.Fatalf("upshot did not quit cleanly on SIGTERM: %v\n%s", err, p.errors())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("upshot did not quit within 30s of SIGTERM\n%s", p.errors())
	}
}

func xdotool(t *testing.T, display string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("xdotool %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

// windowID waits for Upshot's window to be mapped and returns its id.
// xdotool's search fails outright (BadWindow) when a window goes away
// while it walks the tree, as tooltips and other programs' windows do: it
// looks again then.
func windowID(t *testing.T, display string) string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute) // a hang guard
	for {
		cmd := exec.CommandContext(t.Context(), "xdotool", "search", "--onlyvisible", "--name", "^Upshot$")
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		out, err := cmd.Output()
		if ids := strings.Fields(string(out)); err == nil && len(ids) > 0 {
			return ids[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no window named Upshot on %s (%v)", display, err)
		}
		time.Sleep(100 * time.Millisecond) // polls the X server: no event says a window was mapped
	}
}

// screenshot captures the window with ImageMagick's import once the
// picture has settled (two captures in a row are the same), and returns
// the PNG's path in a temp dir.
func screenshot(t *testing.T, display, wid, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	var prev []byte
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for range 50 {
		cmd := exec.CommandContext(t.Context(), "import", "-window", wid, "png:"+path)
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("import: %v\n%s", err, out)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if prev != nil && bytes.Equal(b, prev) && colours(b) > 1 {
			t.Logf("screenshot: %s", path)
			return path
		}
		prev = b
		<-tick.C
	}
	t.Fatalf("the window's picture did not settle")
	return ""
}

// colours counts the distinct colours of a PNG, sampled every third
// pixel: 1 when nothing is painted yet, 0 when it is no PNG.
func colours(b []byte) int {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return 0
	}
	seen := map[color.RGBA]bool{}
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y += 3 {
		for x := r.Min.X; x < r.Max.X; x += 3 {
			seen[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)] = true
		}
	}
	return len(seen)
}

// writeScreenshot draws something that looks like a screenshot: a
// desktop gradient with a window or two.
func writeScreenshot(t *testing.T, path string, seed int) {
	t.Helper()
	const w, h = 640, 400
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	hues := [][3]uint8{{40, 90, 200}, {200, 80, 60}, {40, 160, 110}, {150, 90, 200}}
	c := hues[seed%len(hues)]
	for y := range h {
		for x := range w {
			f := float64(x+y) / float64(w+h)
			img.SetNRGBA(x, y, color.NRGBA{uint8(float64(c[0]) * (1 - f/2)), uint8(float64(c[1]) * (1 - f/3)), uint8(float64(c[2]) * (0.6 + f/3)), 255})
		}
	}
	win := image.Rect(60+seed*20, 50, 460+seed*20, 330)
	draw.Draw(img, win, image.NewUniform(color.NRGBA{245, 245, 245, 255}), image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(win.Min.X, win.Min.Y, win.Max.X, win.Min.Y+28), image.NewUniform(color.NRGBA{60, 60, 70, 255}), image.Point{}, draw.Src)
	for i := range 6 {
		line := image.Rect(win.Min.X+20, win.Min.Y+50+i*30, win.Max.X-40-i*25, win.Min.Y+62+i*30)
		draw.Draw(img, line, image.NewUniform(color.NRGBA{180, 185, 195, 255}), image.Point{}, draw.Src)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

var _ io.Writer = (*appProc)(nil)
