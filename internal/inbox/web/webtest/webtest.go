// Package webtest drives the phone inbox's page in headless Chromium for
// tests: a tab at a phone's size, on host names that Chromium maps to
// 127.0.0.1 so that the page is not a secure context (as on a LAN
// address), with every Content-Security-Policy violation and JavaScript
// exception collected; the page's rows as it shows them; screenshots; and
// the test photos. It is imported by tests only.
//
// A Phone's methods may be called from the test's goroutine and from
// others at once; a Phone lives until its test ends.
package webtest

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"upshot/internal/metastrip/imagetest"
)

// Viewport is a phone's screen in CSS pixels.
const (
	ViewportWidth  = 390
	ViewportHeight = 844
)

// ScreenshotsEnv names the variable that holds the folder for
// screenshots; without it, Phone.Screenshot does nothing.
const ScreenshotsEnv = "UPSHOT_SCREENSHOTS"

// Chromium returns the path of chromium, or skips the test; with
// UPSHOT_REQUIRE_BROWSER set, as make test does, it fails instead.
func Chromium(tb testing.TB) string {
	tb.Helper()
	path, err := exec.LookPath("chromium")
	if err == nil {
		return path
	}
	const msg = "chromium is not on PATH: run scripts/deps.sh test"
	if os.Getenv("UPSHOT_REQUIRE_BROWSER") != "" {
		tb.Fatal(msg + " (UPSHOT_REQUIRE_BROWSER is set, so this fails instead of skipping)")
	}
	tb.Skip(msg + ", or set UPSHOT_REQUIRE_BROWSER=1 to fail instead of skipping")
	return ""
}

// Phone is one tab of headless Chromium at a phone's size.
type Phone struct {
	// Ctx runs actions in the tab (chromedp.Do, chromedp.Run).
	Ctx context.Context

	mu       sync.Mutex
	problems []string
}

// NewPhone starts headless Chromium, in which each of hosts resolves to
// 127.0.0.1, and returns its first tab. The browser ends with the test.
func NewPhone(tb testing.TB, hosts ...string) *Phone {
	tb.Helper()
	path := Chromium(tb)
	var rules []string
	for _, h := range hosts {
		rules = append(rules, "MAP "+h+" 127.0.0.1")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(ViewportWidth, ViewportHeight),
	)
	if len(rules) > 0 {
		opts = append(opts, chromedp.Flag("host-resolver-rules", strings.Join(rules, ", ")))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(tb.Context(), opts...)
	tb.Cleanup(cancelAlloc)
	return newTab(tb, actx)
}

// Tab opens another tab in the phone's browser, with a session storage of
// its own.
func (p *Phone) Tab(tb testing.TB) *Phone {
	tb.Helper()
	return newTab(tb, p.Ctx)
}

// cspWatch collects the page's CSP violations in window.cspViolations
// and reports each on the console, where the Phone sees it.
const cspWatch = `window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  const v = e.effectiveDirective + ' blocked ' + e.blockedURI;
  window.cspViolations.push(v);
  console.error('Content-Security-Policy: ' + v);
});`

func newTab(tb testing.TB, parent context.Context) *Phone {
	tb.Helper()
	ctx, cancel := chromedp.NewContext(parent)
	tb.Cleanup(cancel)
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(ViewportWidth, ViewportHeight, chromedp.EmulateScale(2), chromedp.EmulateMobile,
			chromedp.EmulateTouch, chromedp.EmulatePortrait),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspWatch})
			return err
		}),
	)
	if err != nil {
		tb.Fatalf("starting chromium: %v", err)
	}
	p := &Phone{Ctx: ctx}
	p.watch(ctx, "page")
	return p
}

// watch collects the exceptions and CSP violations a target reports on
// its console.
func (p *Phone) watch(ctx context.Context, where string) {
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			// The worker reports its violations to the page's console
			// as "Content-Security-Policy in the worker: …".
			if m.IsException() || strings.Contains(m.Text, "Content-Security-Policy") {
				p.mu.Lock()
				p.problems = append(p.problems, fmt.Sprintf("%s: %s %s (%s:%d)", where, m.Type, m.Text, m.URL, m.Line+1))
				p.mu.Unlock()
			}
		}
	}()
}

// Problems returns the JavaScript exceptions and CSP violations seen so
// far, in the page and in the workers attached with Worker.
func (p *Phone) Problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.problems)
}

// CheckClean fails the test if the page broke its Content-Security-Policy
// or threw an exception that nothing caught.
func (p *Phone) CheckClean(tb testing.TB) {
	tb.Helper()
	v, err := chromedp.Run(p.Ctx, chromedp.Evaluate[[]string](`window.cspViolations || []`))
	if err != nil {
		tb.Errorf("reading the CSP violations: %v", err)
	}
	if len(v) > 0 {
		tb.Errorf("the page broke its Content-Security-Policy: %q", v)
	}
	if probs := p.Problems(); len(probs) > 0 {
		tb.Errorf("the page reported problems:\n%s", strings.Join(probs, "\n"))
	}
}

// Open navigates the tab to url and waits until the page has loaded.
func (p *Phone) Open(tb testing.TB, url string) {
	tb.Helper()
	if err := chromedp.Do(p.Ctx, chromedp.Navigate(url)); err != nil {
		tb.Fatalf("opening %s: %v", url, err)
	}
}

// Worker attaches to the page's first dedicated worker and returns a
// context for it; its exceptions count among the Phone's problems.
func (p *Phone) Worker(tb testing.TB) context.Context {
	tb.Helper()
	guard, cancel := context.WithTimeout(p.Ctx, time.Minute) // a hang guard
	defer cancel()
	created := chromedp.BrowserEvents(guard, target.TargetCreated)
	infos, err := chromedp.Targets(p.Ctx)
	if err != nil {
		tb.Fatalf("listing the targets: %v", err)
	}
	var id target.ID
	for _, info := range infos {
		if info.Type == "worker" && id == "" {
			id = info.TargetID
		}
	}
	if id == "" {
		for ev, err := range created {
			if err != nil {
				tb.Fatalf("waiting for the page's worker: %v", err)
			}
			if ev.TargetInfo.Type == "worker" {
				id = ev.TargetInfo.TargetID
				break
			}
		}
	}
	ctx, cancelWorker := chromedp.NewContext(p.Ctx, chromedp.WithTargetID(id))
	tb.Cleanup(cancelWorker)
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("attaching to the worker: %v", err)
	}
	p.watch(ctx, "worker")
	return ctx
}

// HeapUsed is the JavaScript memory a target uses now: its heap and the
// backing stores of its ArrayBuffers (a wasm module's memory among them).
func HeapUsed(ctx context.Context) (int64, error) {
	h, err := chromedp.Call(ctx, runtime.GetHeapUsage, cdp.Empty{})
	if err != nil {
		return 0, err
	}
	return int64(h.UsedSize + h.BackingStorageSize), nil
}

// Screenshot saves the tab as name.png in the folder ScreenshotsEnv names,
// once no transition runs; without that variable it does nothing.
func (p *Phone) Screenshot(tb testing.TB, name string) {
	tb.Helper()
	dir := os.Getenv(ScreenshotsEnv)
	if dir == "" {
		return
	}
	settled := `document.getAnimations().every((a) => a.playState !== 'running' || a.effect.getTiming().iterations === Infinity)`
	if _, err := chromedp.Run(p.Ctx, chromedp.Poll[bool](settled)); err != nil {
		tb.Fatalf("waiting for the page to settle: %v", err)
	}
	shot, err := chromedp.Run(p.Ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), shot, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// Row is a file's row as the page shows it.
type Row struct {
	Name   string `json:"name"`
	State  string `json:"state"`
	Path   string `json:"path"`
	Link   string `json:"link"`
	Title  string `json:"title"` // how long each step took
	Done   bool   `json:"done"`
	Failed bool   `json:"failed"`
}

// RowsJS is JavaScript for the page's rows, as []Row.
const RowsJS = `[...document.querySelectorAll('#files .file')].map((r) => ({
  name: r.querySelector('.name').textContent,
  state: r.querySelector('.state').textContent,
  path: r.querySelector('.path').hidden ? '' : r.querySelector('.path').textContent,
  link: r.querySelector('.link').hidden ? '' : r.querySelector('.field').value,
  title: r.title,
  done: r.classList.contains('done'),
  failed: r.classList.contains('failed'),
}))`

// Rows returns the page's rows now.
func (p *Phone) Rows(tb testing.TB) []Row {
	tb.Helper()
	rows, err := chromedp.Run(p.Ctx, chromedp.Evaluate[[]Row](RowsJS))
	if err != nil {
		tb.Fatalf("reading the rows: %v", err)
	}
	return rows
}

// WaitRows waits until n rows are there and each is done or failed, and
// returns them. timeout is a hang guard.
func (p *Phone) WaitRows(tb testing.TB, n int, timeout time.Duration) []Row {
	tb.Helper()
	js := fmt.Sprintf(`(() => { const rows = %s; return rows.length === %d && rows.every((r) => r.done || r.failed) && rows; })()`, RowsJS, n)
	rows, err := chromedp.Run(p.Ctx, chromedp.Poll[[]Row](js, chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		tb.Fatalf("the rows did not settle: %v\n%+v", err, p.Rows(tb))
	}
	return rows
}

// Pick chooses files in the page's file picker, as a person does.
func (p *Phone) Pick(tb testing.TB, paths ...string) {
	tb.Helper()
	if err := chromedp.Do(p.Ctx, chromedp.SetUploadFiles(chromedp.CSS("#pick"), paths)); err != nil {
		tb.Fatalf("choosing %q: %v", paths, err)
	}
}

// GPSJPEG returns a JPEG photo of w×h whose Exif holds a GPS position (see
// imagetest.GPSTIFF), and its latitude's bytes. noise > 0 adds that much
// random noise (seeded by seed) to each pixel, which makes the photo larger.
func GPSJPEG(tb testing.TB, w, h int, noise int, seed uint64) (photo, latitude []byte) {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rnd := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for y := range h {
		for x := range w {
			c := color.RGBA{uint8(x * 3), uint8(y * 5), uint8(x ^ y), 0xFF}
			if noise > 0 {
				c.R += uint8(rnd.IntN(noise))
				c.G += uint8(rnd.IntN(noise))
				c.B += uint8(rnd.IntN(noise))
			}
			img.SetRGBA(x, y, c)
		}
	}
	quality := 80
	if noise > 0 {
		quality = 95
	}
	return imagetest.WithGPS(imagetest.EncodeJPEG(tb, img, quality)), imagetest.GPSLatitude
}

// PNG returns a small PNG image.
func PNG(tb testing.TB) []byte {
	tb.Helper()
	return imagetest.EncodePNG(tb, imagetest.Picture(64, 40, 1))
}
