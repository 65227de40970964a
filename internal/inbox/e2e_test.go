package inbox

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"upshot/internal/inbox/web/webtest"
	"upshot/internal/metastrip"
	"upshot/internal/store"
	"upshot/uploader"
	"upshot/uploader/s3test"
)

// The page in real Chromium against the real desktop: the inbox server,
// the core with its queue and history, and versitygw behind the B2-like
// proxy, which records every request. The page is opened on phoneHost,
// which Chromium maps to 127.0.0.1, so that it is not a secure context,
// as on a LAN address.

// phoneHost is the page's host name.
const phoneHost = "phone.test"

const (
	direct   = "Sent straight to your bucket"
	relayed  = "Sent through your computer"
	existing = "Already uploaded"
	stripped = " · location data removed"
	wrongMsg = "This link has expired or is wrong. Scan the QR code on your computer again."
)

// phoneBed is a bed whose page a phone opens.
type phoneBed struct {
	*bed
	phone  *webtest.Phone
	origin string // the page's origin, http://phone.test:PORT
	files  string // a folder for the files the phone picks
}

// newPhoneBed starts a bed behind the B2-like proxy and a tab of phone
// on its page. With cors, the bucket's CORS rules let the page upload.
func newPhoneBed(tb testing.TB, phone *webtest.Phone, o bedOptions, cors bool) *phoneBed {
	tb.Helper()
	o.b2 = true
	pb := &phoneBed{bed: newBed(tb, o), phone: phone.Tab(tb), files: tb.TempDir()}
	_, port, err := net.SplitHostPort(pb.inbox.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	pb.origin = "http://" + phoneHost + ":" + port
	if cors {
		_, up := pb.core.Settings()
		if err := up.SetInboxCORS(tb.Context(), []string{pb.origin}); err != nil {
			tb.Fatalf("SetInboxCORS: %v", err)
		}
	}
	return pb
}

// open opens the page with token in its fragment and waits until it may
// pick files.
func (pb *phoneBed) open(tb testing.TB) {
	tb.Helper()
	pb.phone.Open(tb, pb.origin+"/#"+pb.token)
	if _, err := chromedp.Run(pb.phone.Ctx, chromedp.Poll[bool](`document.body.classList.contains('ready') && !document.getElementById('pick').disabled`,
		chromedp.WithPollingTimeout(time.Minute))); err != nil {
		status, _ := chromedp.Run(pb.phone.Ctx, chromedp.Text(chromedp.CSS("#status")))
		tb.Fatalf("the page did not get ready: %v (it says %q)", err, status)
	}
}

// file writes a file the phone picks and returns its path.
func (pb *phoneBed) file(tb testing.TB, name string, data []byte) string {
	tb.Helper()
	p := filepath.Join(pb.files, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// puts returns the PUTs of key the proxy saw.
func (pb *phoneBed) puts(key string) []s3test.Record {
	var out []s3test.Record
	for _, r := range pb.proxy.Requests() {
		if r.Method == http.MethodPut && r.Path == "/"+pb.srv.Bucket+"/"+key {
			out = append(out, r)
		}
	}
	return out
}

// object returns what the bucket holds at key.
func (pb *phoneBed) object(tb testing.TB, key string) []byte {
	tb.Helper()
	out, err := pb.srv.Client().GetObject(tb.Context(), &s3.GetObjectInput{Bucket: &pb.srv.Bucket, Key: &key})
	if err != nil {
		tb.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// missing fails the test if the bucket holds anything at key.
func (pb *phoneBed) missing(tb testing.TB, key string) {
	tb.Helper()
	_, err := pb.srv.Client().HeadObject(tb.Context(), &s3.HeadObjectInput{Bucket: &pb.srv.Bucket, Key: &key})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		tb.Errorf("HEAD %s: %v, want NotFound", key, err)
	}
}

// uploadSHA1 is the SHA1 that `upshot upload` gives the file at path,
// stripped as the settings say.
func (pb *phoneBed) uploadSHA1(tb testing.TB, path string) string {
	tb.Helper()
	_, up := pb.core.Settings()
	p, err := up.Prepare(tb.Context(), uploader.Request{Path: path, StripMetadata: true})
	if err != nil {
		tb.Fatal(err)
	}
	defer p.Close()
	return p.SHA1()
}

// fromBrowser reports whether r came from the page: the browser names the
// page's origin.
func (pb *phoneBed) fromBrowser(r s3test.Record) bool { return r.Header.Get("Origin") == pb.origin }

// onPut holds the first PUT whose key ends in suffix until release is
// closed; held tells when it arrives.
func (pb *phoneBed) onPut(suffix string) (held chan s3test.Record, release chan struct{}) {
	held, release = make(chan s3test.Record, 1), make(chan struct{})
	pb.proxy.Inject(s3test.Fault{Kind: s3test.Hold, Release: release, Held: held, Match: func(r *http.Request) bool {
		return s3test.MatchPut(r) && strings.HasSuffix(r.URL.Path, suffix)
	}})
	return held, release
}

// await receives from ch, or fails after a generous hang guard.
func await[T any](tb testing.TB, ch <-chan T, what string) T {
	tb.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(3 * time.Minute):
		tb.Fatalf("no %s", what)
		panic("unreachable")
	}
}

// poll waits for a JavaScript condition in the page; timeout is a hang
// guard.
func poll(tb testing.TB, ctx context.Context, js string, timeout time.Duration) {
	tb.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(timeout))); err != nil {
		tb.Fatalf("waiting for %s: %v", js, err)
	}
}

// TestPhonePage drives the page in Chromium against the real desktop and
// a real bucket: each subtest has a bed and a tab of its own.
func TestPhonePage(t *testing.T) {
	phone := webtest.NewPhone(t, phoneHost)

	t.Run("three files at once, then one again", func(t *testing.T) {
		pb := newPhoneBed(t, phone, bedOptions{}, true)
		photo, latitude := webtest.GPSJPEG(t, 640, 480, 0, 0)
		video := bytes.Repeat([]byte("\x00\x00\x00\x18ftypmp42 a beach, waves, gulls. "), 400_000) // 14 MB
		const (
			nPhoto = "IMG_0412.jpg"
			nPNG   = "Screenshot_0415.png"
			nVideo = "Family trip to the seaside with grandma and grandpa – day 3 (final cut).mp4"
		)
		paths := []string{pb.file(t, nVideo, video), pb.file(t, nPhoto, photo), pb.file(t, nPNG, webtest.PNG(t))}
		held, release := pb.onPut(nVideo)
		pb.open(t)
		href, _ := chromedp.Run(pb.phone.Ctx, chromedp.Evaluate[string](`location.href`))
		if strings.Contains(href, pb.token) || strings.Contains(href, "#") {
			t.Errorf("the address bar still shows the token: %s", href)
		}
		if status, _ := chromedp.Run(pb.phone.Ctx, chromedp.Text(chromedp.CSS("#status"))); status != "Sending to Upshot on the test bed" {
			t.Errorf("status %q, want the desktop's name", status)
		}
		if secure, _ := chromedp.Run(pb.phone.Ctx, chromedp.Evaluate[bool](`window.isSecureContext`)); secure {
			t.Fatal("the page is a secure context; the test must run it as on a LAN address")
		}
		pb.phone.Screenshot(t, "inbox-empty")

		pb.phone.Pick(t, paths...)
		// The video is held on its way to the bucket; the others go by.
		await(t, held, "PUT of the video")
		poll(t, pb.phone.Ctx, fmt.Sprintf(`(() => { const r = %s; return r.length === 3 && r[1].done && r[2].done && /^Uploading \d+%%$/.test(r[0].state); })()`,
			webtest.RowsJS), 3*time.Minute)
		pb.phone.Screenshot(t, "inbox-uploading")
		close(release)
		rows := pb.phone.WaitRows(t, 3, 3*time.Minute)

		keys := map[string]string{nVideo: "phone/" + nVideo, nPhoto: "phone/" + nPhoto, nPNG: "phone/" + nPNG}
		wantPath := map[string]string{nVideo: direct, nPhoto: direct + stripped, nPNG: direct}
		hist := map[string]store.Entry{}
		for _, e := range pb.history(t) {
			hist[e.Key] = e
		}
		if len(hist) != 3 {
			t.Errorf("history has %d entries, want 3: %+v", len(hist), hist)
		}
		for _, r := range rows {
			key := keys[r.Name]
			if !r.Done || r.State != "Done" || r.Path != wantPath[r.Name] || r.Link == "" {
				t.Errorf("%s: %+v, want Done, %q and a link", r.Name, r, wantPath[r.Name])
			}
			if e := hist[key]; e.Source != store.SourcePhone || e.URL != r.Link || e.File != r.Name {
				t.Errorf("%s: history entry %+v, want one from the phone whose URL is the page's link %q", r.Name, e, r.Link)
			}
			puts := pb.puts(key)
			if len(puts) != 1 || !pb.fromBrowser(puts[0]) || puts[0].Status != http.StatusOK {
				t.Errorf("%s: the bucket saw the PUTs %+v; want one from the browser at %s, stored", r.Name, puts, pb.origin)
			}
		}
		done := map[string]bool{}
		for range 3 {
			ev := pb.nextDone(t)
			if ev.Job.Source != store.SourcePhone || ev.Entry.Deduplicated {
				t.Errorf("Done event %+v, want a fresh upload from the phone", ev)
			}
			done[ev.Entry.Key] = true
		}
		for _, k := range keys {
			if !done[k] {
				t.Errorf("no Done event for %s (%v)", k, done)
			}
		}

		// The stored photo has no location, and is what `upshot upload`
		// makes of the same file.
		stored := pb.object(t, "phone/"+nPhoto)
		res, err := metastrip.Strip(io.Discard, bytes.NewReader(stored))
		if err != nil || res.Format != "jpeg" || res.Changed || bytes.Contains(stored, latitude) {
			t.Errorf("the stored photo: metadata left %q (changed %v, %v), latitude left %v", res.Removed, res.Changed, err, bytes.Contains(stored, latitude))
		}
		if got, want := sha1hex(stored), pb.uploadSHA1(t, paths[1]); got != want || hist["phone/"+nPhoto].SHA1 != want {
			t.Errorf("the stored photo's SHA1 is %s (history %s); upshot upload makes %s", got, hist["phone/"+nPhoto].SHA1, want)
		}
		if !bytes.Equal(pb.object(t, "phone/"+nVideo), video) {
			t.Errorf("the stored video is not the phone's")
		}

		// Copy: plain http has no navigator.clipboard, so the page copies
		// the old way.
		copyButton := `#files .file:nth-child(2) .copy`
		if err := chromedp.Do(pb.phone.Ctx, chromedp.Click(chromedp.CSS(copyButton))); err != nil {
			t.Fatalf("tapping Copy: %v", err)
		}
		poll(t, pb.phone.Ctx, `document.querySelector('`+copyButton+`').textContent === 'Copied'`, time.Minute)
		pb.phone.Screenshot(t, "inbox-files")
		if os.Getenv(webtest.ScreenshotsEnv) != "" {
			dark := emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}
			if _, err := chromedp.Call(pb.phone.Ctx, emulation.SetEmulatedMedia, dark); err != nil {
				t.Fatal(err)
			}
			pb.phone.Screenshot(t, "inbox-dark")
			if _, err := chromedp.Call(pb.phone.Ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
				t.Fatal(err)
			}
		}

		// The same photo again: nothing is sent, the link comes back.
		before := len(pb.puts("phone/" + nPhoto))
		pb.phone.Pick(t, paths[1])
		rows = pb.phone.WaitRows(t, 4, 3*time.Minute)
		again := rows[3]
		if !again.Done || again.Path != existing || again.Link != hist["phone/"+nPhoto].URL {
			t.Errorf("the photo again: %+v, want %q with the link %s", again, existing, hist["phone/"+nPhoto].URL)
		}
		if n := len(pb.puts("phone/" + nPhoto)); n != before {
			t.Errorf("the bucket saw %d PUTs of the photo sent again, want none", n-before)
		}
		if ev := pb.nextDone(t); !ev.Entry.Deduplicated || ev.Entry.Key != "phone/"+nPhoto {
			t.Errorf("the repeat's Done event %+v, want the photo, deduplicated", ev)
		}
		pb.phone.CheckClean(t)
	})

	t.Run("an expired grant is granted again", func(t *testing.T) {
		pb := newPhoneBed(t, phone, bedOptions{grantTTL: 5 * time.Second}, true)
		const name = "late.png"
		path := pb.file(t, name, webtest.PNG(t))
		held, release := pb.onPut(name)
		pb.open(t)
		pb.phone.Pick(t, path)
		first := await(t, held, "PUT of the file")
		// Let it go once the grant has expired by its own signature.
		q, _ := url.ParseQuery(first.RawQuery)
		signed, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
		if err != nil {
			t.Fatal(err)
		}
		secs, _ := strconv.Atoi(q.Get("X-Amz-Expires"))
		time.Sleep(time.Until(signed.Add(time.Duration(secs+1) * time.Second)))
		close(release)
		rows := pb.phone.WaitRows(t, 1, 3*time.Minute)
		if r := rows[0]; !r.Done || r.Path != direct {
			t.Fatalf("row %+v, want it sent straight to the bucket after a new grant", r)
		}
		puts := pb.puts("phone/" + name)
		if len(puts) != 2 || puts[0].Status != http.StatusForbidden || puts[1].Status != http.StatusOK ||
			puts[0].RawQuery == puts[1].RawQuery || !pb.fromBrowser(puts[1]) {
			t.Errorf("the bucket saw %d PUTs: %+v; want one refused as expired, then one with a new grant", len(puts), puts)
		}
		if n := strings.Count(rows[0].Title, "granted"); n != 2 {
			t.Errorf("the row's steps %q: %d grants, want 2", rows[0].Title, n)
		}
		if h := pb.history(t); len(h) != 1 || h[0].Key != "phone/"+name || h[0].Source != store.SourcePhone {
			t.Errorf("history %+v, want the file once, from the phone", h)
		}
		pb.phone.CheckClean(t)
	})

	t.Run("a wrong token", func(t *testing.T) {
		pb := newPhoneBed(t, phone, bedOptions{}, true)
		for _, tc := range []struct{ fragment, want, shot string }{
			{"#wrongtoken", wrongMsg, "inbox-expired"},
			{"", "Open this page by scanning the QR code on your computer.", ""},
		} {
			tab := phone.Tab(t) // a tab keeps its token for a reload
			tab.Open(t, pb.origin+"/"+tc.fragment)
			js := fmt.Sprintf(`document.getElementById('status').textContent === %q && document.getElementById('status').classList.contains('bad')`, tc.want)
			if _, err := chromedp.Run(tab.Ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(time.Minute))); err != nil {
				status, _ := chromedp.Run(tab.Ctx, chromedp.Text(chromedp.CSS("#status")))
				t.Errorf("with %q the page says %q, want %q", tc.fragment, status, tc.want)
			}
			picking, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[bool](`!document.getElementById('pick').disabled || !document.getElementById('camera').disabled || !document.getElementById('camera-button').hidden`))
			if err != nil || picking {
				t.Errorf("with %q the page offers picking (%v)", tc.fragment, err)
			}
			if tc.shot != "" {
				tab.Screenshot(t, tc.shot)
			}
			tab.CheckClean(t)
		}
		if h := pb.history(t); len(h) != 0 {
			t.Errorf("history %+v, want nothing", h)
		}
	})

	t.Run("no CORS rule: through the computer", func(t *testing.T) {
		pb := newPhoneBed(t, phone, bedOptions{}, false)
		const name = "IMG_0007.jpg"
		photo, latitude := webtest.GPSJPEG(t, 320, 240, 0, 0)
		path := pb.file(t, name, photo)
		pb.open(t)
		pb.phone.Pick(t, path)
		rows := pb.phone.WaitRows(t, 1, 3*time.Minute)
		h := pb.history(t)
		if r := rows[0]; !r.Done || r.Path != relayed+stripped || len(h) != 1 || r.Link != h[0].URL {
			t.Fatalf("row %+v, history %+v; want it sent through the computer, with the history's link", r, h)
		}
		if h[0].Source != store.SourcePhone || h[0].Key != "phone/"+name {
			t.Errorf("history %+v, want the photo from the phone", h)
		}
		var preflight bool
		for _, r := range pb.proxy.Requests() {
			switch {
			case r.Method == http.MethodOptions && pb.fromBrowser(r):
				preflight = true
			case r.Method == http.MethodPut && pb.fromBrowser(r):
				t.Errorf("the browser's PUT reached the bucket: %+v", r)
			}
		}
		puts := pb.puts("phone/" + name)
		if !preflight || len(puts) != 1 || puts[0].Status != http.StatusOK {
			t.Errorf("preflight seen %v, PUTs %+v: want the browser's preflight refused, then the computer's PUT", preflight, puts)
		}
		stored := pb.object(t, "phone/"+name)
		if bytes.Contains(stored, latitude) || sha1hex(stored) != pb.uploadSHA1(t, path) {
			t.Errorf("the stored photo is not the stripped one")
		}
		if ev := pb.nextDone(t); ev.Job.Source != store.SourcePhone || ev.Entry.Key != "phone/"+name {
			t.Errorf("Done event %+v", ev)
		}
		pb.phone.CheckClean(t)
	})

	t.Run("hashing with and without byte streams", func(t *testing.T) {
		pb := newPhoneBed(t, phone, bedOptions{}, true)
		pb.open(t)
		const n = 10_000_000 + 12_345
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i*7 + i>>11)
		}
		s, m := sha1.Sum(data), md5.Sum(data)
		want := hex.EncodeToString(s[:]) + " " + hex.EncodeToString(m[:])
		hash := fmt.Sprintf(`(async () => {
  const u = new Uint8Array(%d);
  for (let i = 0; i < u.length; i++) u[i] = (i * 7 + (i >>> 11)) & 255;
  const seen = [];
  const r = await prepare(new Blob([u], { type: 'video/mp4' }), true, (f) => seen.push(f));
  return r.sha1 + ' ' + r.md5 + ' ' + r.size + ' ' + seen.length;
})()`, n)
		for _, byob := range []bool{true, false} {
			if !byob {
				// A browser whose files are not byte streams: the worker
				// reads each slice on its own.
				const noByob = `(() => {
  const get = ReadableStream.prototype.getReader;
  ReadableStream.prototype.getReader = function (o) {
    if (o && o.mode === 'byob') throw new TypeError('not a byte stream');
    return get.call(this, o);
  };
})()`
				if err := chromedp.Do(pb.phone.Worker(t), chromedp.Evaluate[chromedp.Void](noByob)); err != nil {
					t.Fatal(err)
				}
			}
			got, err := chromedp.Run(pb.phone.Ctx, chromedp.Evaluate[string](hash, chromedp.EvalAwaitPromise))
			if err != nil || got != fmt.Sprintf("%s %d 3", want, n) {
				t.Errorf("byte stream %v: the worker says %q (%v); want %s, %d bytes, 3 slices", byob, got, err, want, n)
			}
		}
		pb.phone.CheckClean(t)
	})

	t.Run("a lying client records nothing", func(t *testing.T) {
		pb := newPhoneBed(t, phone, bedOptions{}, true)
		pb.open(t)
		data := webtest.PNG(t)
		m := md5.Sum(data)
		other := md5.Sum(append(data, 0))
		for _, tc := range []struct {
			name string
			size int
			md5  string
		}{
			{"wrong-md5.png", len(data), hex.EncodeToString(other[:])},
			{"wrong-size.png", len(data) + 1, hex.EncodeToString(m[:])},
		} {
			// From inside the page: its token, its origin, the bucket's CORS.
			js := fmt.Sprintf(`(async () => {
  const bytes = Uint8Array.from(atob(%q), (c) => c.charCodeAt(0));
  const auth = { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' };
  const g = await (await fetch('/api/grant', { method: 'POST', headers: auth,
    body: JSON.stringify({ name: %q, size: %d, type: 'image/png', sha1: %q, md5: %q }) })).json();
  if (!g.put_url) return { error: JSON.stringify(g) };
  let put = 0;
  try { put = (await fetch(g.put_url, { method: 'PUT', headers: g.headers, body: bytes })).status; } catch { put = 0; }
  const d = await fetch('/api/done', { method: 'POST', headers: auth, body: JSON.stringify({ id: g.id }) });
  return { key: g.key, put, done: d.status, error: (await d.json()).error };
})()`, base64.StdEncoding.EncodeToString(data), tc.name, tc.size, sha1hex(data), tc.md5)
			type answer struct {
				Key   string `json:"key"`
				Put   int    `json:"put"`
				Done  int    `json:"done"`
				Error string `json:"error"`
			}
			a, err := chromedp.Run(pb.phone.Ctx, chromedp.Evaluate[answer](js, chromedp.EvalAwaitPromise))
			if err != nil || a.Key == "" {
				t.Fatalf("%s: %+v, %v", tc.name, a, err)
			}
			puts := pb.puts(a.Key)
			if len(puts) != 1 || !pb.fromBrowser(puts[0]) || puts[0].Status/100 != 4 {
				t.Errorf("%s: the bucket saw %+v; want the browser's PUT, refused", tc.name, puts)
			}
			if a.Done != http.StatusConflict || !strings.Contains(a.Error, "not recorded") {
				t.Errorf("%s: done answered %d %q, want 409", tc.name, a.Done, a.Error)
			}
			t.Logf("%s: the bucket answered %d (the page saw %d), done %d", tc.name, puts[0].Status, a.Put, a.Done)
			pb.missing(t, a.Key)
		}
		if h := pb.history(t); len(h) != 0 {
			t.Errorf("history %+v, want nothing", h)
		}
		pb.phone.CheckClean(t)
	})
}

func sha1hex(data []byte) string { s := sha1.Sum(data); return hex.EncodeToString(s[:]) }

// TestPhonePageMemory sends a 300 MB video and samples the JavaScript
// memory of the page and of its worker meanwhile: the page reads the file
// in slices, so the memory stays flat.
func TestPhonePageMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 300 MB")
	}
	const size = 300 << 20
	const bound = 64 << 20
	phone := webtest.NewPhone(t, phoneHost)
	pb := newPhoneBed(t, phone, bedOptions{edit: func(c *uploader.Config) { c.Inbox.MaxSize = 1 << 30 }}, true)
	path := filepath.Join(pb.files, "long.mp4")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	// Sparse, but not all zeros: a few marks along the way.
	for off := int64(0); off < size; off += 37 << 20 {
		if _, err := f.WriteAt([]byte("\x00\x00\x00\x18ftypmp42 upshot "+strconv.FormatInt(off, 10)), off); err != nil {
			t.Fatal(err)
		}
	}
	if err := errors.Join(f.Truncate(size), f.Close()); err != nil {
		t.Fatal(err)
	}
	pb.open(t)
	worker := pb.phone.Worker(t)

	var peak struct {
		sync.Mutex
		page, worker int64
		samples      int
	}
	sample := func() {
		p, err1 := webtest.HeapUsed(pb.phone.Ctx)
		w, err2 := webtest.HeapUsed(worker)
		if err1 != nil || err2 != nil {
			return // the sampler may race the test's end
		}
		peak.Lock()
		peak.page, peak.worker = max(peak.page, p), max(peak.worker, w)
		peak.samples++
		peak.Unlock()
	}
	sample()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				sample()
			}
		}
	})
	start := time.Now()
	pb.phone.Pick(t, path)
	rows := pb.phone.WaitRows(t, 1, 10*time.Minute)
	took := time.Since(start)
	close(stop)
	wg.Wait()
	sample()

	if r := rows[0]; !r.Done || r.Path != direct {
		t.Fatalf("row %+v, want it sent straight to the bucket", r)
	}
	if h := pb.history(t); len(h) != 1 || h[0].Size != size {
		t.Fatalf("history %+v, want the video", h)
	}
	peak.Lock()
	defer peak.Unlock()
	steps := parseSteps(t, rows[0].Title)
	t.Logf("300 MB video: pick to link in %v (%s); peak JS memory (heap and ArrayBuffers): page %.1f MB, worker %.1f MB, over %d samples",
		took.Round(time.Millisecond), rows[0].Title, float64(peak.page)/1e6, float64(peak.worker)/1e6, peak.samples)
	if c := steps["checked"]; c > 0 {
		t.Logf("the worker hashed the file from disk at %.0f MB/s", float64(size)/1e6/c.Seconds())
	}
	if peak.samples < 3 || peak.page > bound || peak.worker > bound {
		t.Errorf("peak JS memory: page %d, worker %d bytes over %d samples; want each under %d, far below the file's %d",
			peak.page, peak.worker, peak.samples, bound, size)
	}
	pb.phone.CheckClean(t)
}

// stepRE reads one step of a row's tooltip, e.g. "granted in 35 ms".
var stepRE = regexp.MustCompile(`(?i)([a-z][a-z ()0-9]*?) in (\d+) ms`)

// parseSteps reads how long each step took from a row's tooltip, summing
// steps of the same name.
func parseSteps(tb testing.TB, title string) map[string]time.Duration {
	tb.Helper()
	out := map[string]time.Duration{}
	for _, m := range stepRE.FindAllStringSubmatch(title, -1) {
		ms, _ := strconv.Atoi(m[2])
		out[strings.ToLower(m[1])] += time.Duration(ms) * time.Millisecond
	}
	if len(out) == 0 {
		tb.Fatalf("no steps in the row's tooltip %q", title)
	}
	return out
}

// photo5MB returns a JPEG photo of about 5 MB with GPS Exif, different
// for each seed.
func photo5MB(tb testing.TB, seed uint64) []byte {
	tb.Helper()
	photo, _ := webtest.GPSJPEG(tb, 2560, 1920, 90, seed) // 5 MP
	return photo
}

// figures are how long one photo took from pick to link, by step.
type figures struct {
	check, grant, put, confirm, total time.Duration
}

// sendPhoto picks the photo at path (the page's n-th file) and returns
// its figures.
func sendPhoto(tb testing.TB, pb *phoneBed, path string, n int) figures {
	tb.Helper()
	pb.phone.Pick(tb, path)
	rows := pb.phone.WaitRows(tb, n, 3*time.Minute)
	r := rows[n-1]
	if !r.Done || r.Path != direct+stripped {
		tb.Fatalf("row %+v, want it sent straight to the bucket", r)
	}
	s := parseSteps(tb, r.Title)
	f := figures{check: s["checked"], grant: s["granted"], put: s["sent"], confirm: s["confirmed"]}
	f.total = f.check + f.grant + f.put + f.confirm
	pb.nextDone(tb)
	return f
}

// TestPhoneFigures logs how long a 5 MB photo takes from pick to link,
// step by step, and how fast the page's worker hashes.
func TestPhoneFigures(t *testing.T) {
	phone := webtest.NewPhone(t, phoneHost)
	pb := newPhoneBed(t, phone, bedOptions{}, true)
	pb.open(t)
	photo := photo5MB(t, 1)
	f := sendPhoto(t, pb, pb.file(t, "IMG_5MB.jpg", photo), 1)
	t.Logf("a %.1f MB photo, pick to link %v: strip and hash %v, grant %v, PUT %v, confirm %v",
		float64(len(photo))/1e6, f.total, f.check, f.grant, f.put, f.confirm)

	// Hash 100 MB in the page's own worker, as it hashes a video.
	const n = 100_000_000
	ms, err := chromedp.Run(pb.phone.Ctx, chromedp.Evaluate[float64](fmt.Sprintf(`(async () => {
  const blob = new Blob([new Uint8Array(%d).fill(7)], { type: 'video/mp4' });
  const t0 = performance.now();
  const r = await prepare(blob, false, () => {});
  if (r.size !== %d) throw new Error('hashed ' + r.size + ' bytes');
  return performance.now() - t0;
})()`, n, n), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the page's worker hashed 100 MB (SHA1 and MD5) at %.0f MB/s", n/1e6/(ms/1000))
	pb.phone.CheckClean(t)
}

// BenchmarkPhoneUpload5MB sends a different 5 MB photo each time from the
// page and reports the page's own figures for each step, in ms.
func BenchmarkPhoneUpload5MB(b *testing.B) {
	phone := webtest.NewPhone(b, phoneHost)
	pb := newPhoneBed(b, phone, bedOptions{}, true)
	pb.open(b)
	var sum figures
	n := 0
	b.SetBytes(int64(len(photo5MB(b, 0))))
	for b.Loop() {
		b.StopTimer()
		n++
		path := pb.file(b, fmt.Sprintf("IMG_%04d.jpg", n), photo5MB(b, uint64(n)))
		b.StartTimer()
		f := sendPhoto(b, pb, path, n)
		sum.check += f.check
		sum.grant += f.grant
		sum.put += f.put
		sum.confirm += f.confirm
		sum.total += f.total
	}
	per := func(d time.Duration) float64 { return float64(d.Milliseconds()) / float64(n) }
	b.ReportMetric(per(sum.check), "strip+hash-ms/op")
	b.ReportMetric(per(sum.grant), "grant-ms/op")
	b.ReportMetric(per(sum.put), "put-ms/op")
	b.ReportMetric(per(sum.confirm), "confirm-ms/op")
	b.ReportMetric(per(sum.total), "pick-to-link-ms/op")
	pb.phone.CheckClean(b)
}
