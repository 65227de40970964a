package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"upshot/internal/inbox/filework"
	"upshot/internal/inbox/web/webtest"
)

// pageCSP is the Content-Security-Policy of the contract; %s is the S3
// endpoint's origin.
const pageCSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; style-src 'self'; " +
	"img-src 'self' blob: data:; connect-src 'self' %s; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// phoneHost is the page's host name: not loopback, so that the page is not
// a secure context, as on a LAN address. Chromium maps it to 127.0.0.1.
const (
	phoneHost = "phone.test"
	s3Host    = "s3.test"
)

// newPhone starts a Chromium tab at a phone's size in which phoneHost and
// s3Host are 127.0.0.1.
func newPhone(t *testing.T) (context.Context, *webtest.Phone) {
	t.Helper()
	p := webtest.NewPhone(t, phoneHost, s3Host)
	return p.Ctx, p
}

// servePage serves the embedded files with the contract's CSP, for tests
// of the worker alone; the page itself is tested against the real desktop
// in package inbox. It returns the page's URL on phoneHost.
func servePage(t *testing.T, csp string) string {
	t.Helper()
	static := http.FileServerFS(Files)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("Cache-Control", "no-store")
		static.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return onHost(t, srv.URL, phoneHost) + "/"
}

// onHost gives the URL of a server on 127.0.0.1 under another host name.
func onHost(t *testing.T, serverURL, host string) string {
	t.Helper()
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = host + ":" + u.Port()
	return u.String()
}

// workerHarness starts a worker of its own in the page, as app.js does, and
// defines window.harness to drive it: ready (a promise of "ready" or the
// fatal message), run(blob, strip) (a promise of the worker's final
// message, with the bytes of its blob in base64 and the progress seen) and
// csp (the violations the worker reported).
const workerHarness = `(() => {
  const w = new Worker('worker.js');
  const waiting = new Map(), progress = new Map(), csp = [];
  let settle;
  const ready = new Promise((resolve) => { settle = resolve; });
  w.onmessage = ({ data }) => {
    if (data.kind === 'ready') return settle('ready');
    if (data.kind === 'fatal') return settle('fatal: ' + data.message);
    if (data.kind === 'csp') return csp.push(data.text);
    if (data.kind === 'progress') return progress.get(data.id).push(data.done);
    waiting.get(data.id)(data);
  };
  const b64 = (u8) => {
    let s = '';
    for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
    return btoa(s);
  };
  let n = 0;
  const run = async (blob, strip, wantBytes) => {
    const id = ++n;
    progress.set(id, []);
    const m = await new Promise((resolve) => { waiting.set(id, resolve); w.postMessage({ id, file: blob, strip }); });
    const bytes = m.blob && wantBytes ? b64(new Uint8Array(await m.blob.arrayBuffer())) : '';
    return { ...m, blob: undefined, blobType: m.blob ? m.blob.type : '', bytes, progress: progress.get(id) };
  };
  window.harness = { ready, run, csp };
  return true;
})()`

// workerResult is the worker's final message for a job.
type workerResult struct {
	Kind     string   `json:"kind"`
	Message  string   `json:"message"`
	Size     int      `json:"size"`
	SHA1     string   `json:"sha1"`
	MD5      string   `json:"md5"`
	Changed  bool     `json:"changed"`
	Removed  []string `json:"removed"`
	Format   string   `json:"format"`
	BlobType string   `json:"blobType"`
	Bytes    string   `json:"bytes"` // base64
	Progress []int    `json:"progress"`
}

// runInWorker sends a Blob made by the JavaScript expression blobJS to the
// worker and returns its answer.
func runInWorker(ctx context.Context, t *testing.T, blobJS string, strip, wantBytes bool) workerResult {
	t.Helper()
	js := fmt.Sprintf(`harness.run(%s, %v, %v)`, blobJS, strip, wantBytes)
	res, err := chromedp.Run(ctx, chromedp.Evaluate[workerResult](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("running the worker: %v", err)
	}
	return res
}

// openHarness opens the page and starts the worker harness; it returns
// what the worker said when it started.
func openHarness(ctx context.Context, t *testing.T, pageURL string) string {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatalf("opening %s: %v", pageURL, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](workerHarness)); err != nil {
		t.Fatalf("starting the worker: %v", err)
	}
	ready, err := chromedp.Run(ctx, chromedp.Evaluate[string](`harness.ready`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("waiting for the worker: %v", err)
	}
	return ready
}

// jsBlob is JavaScript for a Blob of data with a type.
func jsBlob(data []byte, typ string) string {
	return fmt.Sprintf(`new Blob([Uint8Array.from(atob(%q), (c) => c.charCodeAt(0))], { type: %q })`,
		base64.StdEncoding.EncodeToString(data), typ)
}

// TestWorkerInBrowser runs the real worker and wasm in Chromium, on a page
// that is not a secure context and under the contract's CSP, and checks
// that they strip and hash exactly as filework does natively.
func TestWorkerInBrowser(t *testing.T) {
	ctx, phone := newPhone(t)
	pageURL := servePage(t, fmt.Sprintf(pageCSP, "http://"+s3Host+":9"))
	if got := openHarness(ctx, t, pageURL); got != "ready" {
		t.Fatalf("the worker did not start: %s", got)
	}
	secure, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.isSecureContext`))
	if err != nil || secure {
		t.Fatalf("isSecureContext = %v (%v); the test must run the page as on a LAN address", secure, err)
	}

	t.Run("strip a JPEG with GPS", func(t *testing.T) {
		photo, latitude := webtest.GPSJPEG(t, 120, 80, 0, 0)
		want, err := filework.Strip(photo)
		if err != nil || !want.Changed || bytes.Contains(want.Bytes, latitude) {
			t.Fatalf("filework.Strip: changed %v, latitude left %v, %v: the test photo proves nothing", want.Changed, bytes.Contains(want.Bytes, latitude), err)
		}
		got := runInWorker(ctx, t, jsBlob(photo, "image/jpeg"), true, true)
		if got.Kind != "done" {
			t.Fatalf("the worker answered %s: %s", got.Kind, got.Message)
		}
		gotBytes, _ := base64.StdEncoding.DecodeString(got.Bytes)
		if !bytes.Equal(gotBytes, want.Bytes) {
			t.Errorf("the worker's stripped photo (%d bytes) differs from filework.Strip's (%d bytes)", len(gotBytes), len(want.Bytes))
		}
		wantSHA1, wantMD5 := sums(want.Bytes)
		if got.SHA1 != wantSHA1 || got.MD5 != wantMD5 || got.Size != len(want.Bytes) {
			t.Errorf("the worker says %d bytes, SHA1 %s, MD5 %s; want %d, %s, %s", got.Size, got.SHA1, got.MD5, len(want.Bytes), wantSHA1, wantMD5)
		}
		if !got.Changed || got.Format != "jpeg" || !slices.Equal(got.Removed, want.Removed) || got.BlobType != "image/jpeg" {
			t.Errorf("the worker says changed %v, format %q, removed %q, type %q; want true, jpeg, %q, image/jpeg", got.Changed, got.Format, got.Removed, got.BlobType, want.Removed)
		}
	})

	t.Run("a photo is not stripped when the session says so", func(t *testing.T) {
		photo, _ := webtest.GPSJPEG(t, 40, 30, 0, 0)
		got := runInWorker(ctx, t, jsBlob(photo, "image/jpeg"), false, true)
		gotBytes, _ := base64.StdEncoding.DecodeString(got.Bytes)
		if got.Kind != "done" || got.Changed || !bytes.Equal(gotBytes, photo) {
			t.Fatalf("the worker answered %s (%s), changed %v, same bytes %v; want the photo as it is", got.Kind, got.Message, got.Changed, bytes.Equal(gotBytes, photo))
		}
		if s, m := sums(photo); got.SHA1 != s || got.MD5 != m {
			t.Errorf("sums %s %s, want %s %s", got.SHA1, got.MD5, s, m)
		}
	})

	t.Run("a damaged JPEG is refused in plain words", func(t *testing.T) {
		photo, _ := webtest.GPSJPEG(t, 120, 80, 0, 0)
		got := runInWorker(ctx, t, jsBlob(photo[:len(photo)/2], "image/jpeg"), true, false)
		if got.Kind != "error" || !strings.Contains(got.Message, "looks damaged or cut short") {
			t.Errorf("the worker answered %s: %q; want an error saying the photo looks damaged", got.Kind, got.Message)
		}
	})

	t.Run("hash 20 MB in slices", func(t *testing.T) {
		const n = 20_000_000 + 12_345
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i*7 + i>>11)
		}
		const build = `(() => {
  const u = new Uint8Array(20012345);
  for (let i = 0; i < u.length; i++) u[i] = (i * 7 + (i >>> 11)) & 255;
  return new Blob([u], { type: 'video/mp4' });
})()`
		got := runInWorker(ctx, t, build, true, false)
		wantSHA1, wantMD5 := sums(data)
		if got.Kind != "done" || got.SHA1 != wantSHA1 || got.MD5 != wantMD5 || got.Size != n {
			t.Errorf("the worker answered %s (%s): %d bytes, %s %s; want %d bytes, %s %s", got.Kind, got.Message, got.Size, got.SHA1, got.MD5, n, wantSHA1, wantMD5)
		}
		// Read in 4 MiB slices: a progress message after each.
		want := []int{4 << 20, 8 << 20, 12 << 20, 16 << 20, n}
		if !slices.Equal(got.Progress, want) {
			t.Errorf("progress %v, want %v (4 MiB slices)", got.Progress, want)
		}
	})

	phone.CheckClean(t)
	if csp, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`harness.csp`)); err != nil || len(csp) > 0 {
		t.Errorf("the worker broke its Content-Security-Policy: %q (%v)", csp, err)
	}
}

// TestViolationsAreSeen checks that the test above would see a CSP that
// blocks something: without 'wasm-unsafe-eval' the worker reports a fatal
// error and a violation, and without style-src the page reports one.
func TestViolationsAreSeen(t *testing.T) {
	ctx, _ := newPhone(t)
	csp := strings.Replace(fmt.Sprintf(pageCSP, ""), " 'wasm-unsafe-eval'", "", 1)
	csp = strings.Replace(csp, " style-src 'self';", "", 1)
	got := openHarness(ctx, t, servePage(t, csp))
	if !strings.HasPrefix(got, "fatal: This page could not start its file checker") {
		t.Errorf("without 'wasm-unsafe-eval' the worker said %q, want a fatal error", got)
	}
	v, err := chromedp.Run(ctx, chromedp.Poll[[]string](`harness.csp.length && harness.csp`))
	if err != nil || !strings.Contains(strings.Join(v, " "), "script-src") {
		t.Errorf("the worker reported the violations %q (%v), want one of script-src", v, err)
	}
	v, err = chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.cspViolations`))
	if err != nil || !strings.Contains(strings.Join(v, " "), "style-src") {
		t.Errorf("the page reported the violations %q (%v), want one of style-src", v, err)
	}
}
