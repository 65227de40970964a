package web

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"upshot/internal/inbox/filework"
)

const expiredMessage = "This link has expired or is wrong. Scan the QR code on your computer again."

// The files the flow test sends, named for what the fake desktop and bucket
// do with them.
const (
	namePhoto    = "IMG_0412.jpg"        // stripped, sent straight to the bucket
	nameExisting = "IMG_0398.jpg"        // already in the bucket, after one 429 from the desktop
	nameRelay    = "nocors-beach.mp4"    // the bucket refuses CORS: sent through the computer
	nameChanged  = "IMG_0415.jpg"        // the bucket answers BadDigest
	nameTaken    = "taken.jpg"           // the first name is taken meanwhile (412)
	nameExpired  = "Screenshot_0415.png" // the first grant has expired (403)
	nameHuge     = "huge.mp4"            // the desktop answers 413
	nameText     = "notes.txt"           // not a type of the session
	nameSlow     = "Family trip to the seaside with grandma and grandpa – the long version, day 3 (final cut).mp4"
)

// fakeDesktop is the desktop's side of the contract in memory, with a fake
// S3 endpoint on another origin.
type fakeDesktop struct {
	t       *testing.T
	token   string
	s3      string        // the S3 origin
	release chan struct{} // closed at the end: lets the held upload go

	mu      sync.Mutex
	grants  map[string]*grant // by id
	objects map[string][]byte // what the bucket holds, by key
	puts    []put             // the PUTs the bucket stored
	relayed map[string][]byte // by name
	auths   []string          // the Authorization headers the API got
	asked   map[string]int    // grant requests by name
}

type grantReq struct {
	Name string `json:"name"`
	Size int    `json:"size"`
	Type string `json:"type"`
	SHA1 string `json:"sha1"`
	MD5  string `json:"md5"`
}

type grant struct {
	grantReq
	id, key string
	headers map[string]string
	expires time.Time
}

type put struct {
	key     string
	header  http.Header
	grant   *grant
	body    []byte
	outcome int
}

func newFakeDesktop(t *testing.T) *fakeDesktop {
	d := &fakeDesktop{
		t: t, token: "Zm9vYmFyYmF6cXV4cXV1eA", release: make(chan struct{}),
		grants: map[string]*grant{}, objects: map[string][]byte{}, relayed: map[string][]byte{}, asked: map[string]int{},
	}
	d.objects["2026/11/"+nameTaken] = []byte("someone else's photo")
	s3 := httptest.NewServer(http.HandlerFunc(d.serveS3))
	t.Cleanup(s3.Close)
	t.Cleanup(func() { close(d.release) }) // before s3.Close
	d.s3 = onHost(t, s3.URL, s3Host)
	return d
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (d *fakeDesktop) link(key string) map[string]string {
	u := "https://img.example.com/" + key
	return map[string]string{"key": key, "url": u, "link": u}
}

// ServeHTTP is the desktop's API.
func (d *fakeDesktop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.auths = append(d.auths, r.Header.Get("Authorization"))
	if r.Header.Get("Authorization") != "Bearer "+d.token {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": expiredMessage})
		return
	}
	switch r.Method + " " + r.URL.Path {
	case "GET /api/session":
		writeJSON(w, 200, map[string]any{"desktop": "upshot on mybox", "max_size": 2 << 30, "types": []string{"image/*", "video/*"}, "strip": true})
	case "POST /api/grant":
		var req grantReq
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.SHA1) != 40 || len(req.MD5) != 32 || req.Size <= 0 {
			writeJSON(w, 400, map[string]string{"error": fmt.Sprintf("bad grant request %+v (%v)", req, err)})
			return
		}
		d.asked[req.Name]++
		switch {
		case req.Name == nameHuge:
			writeJSON(w, 413, map[string]string{"error": "This file is larger than the 2 GB the inbox takes."})
			return
		case req.Name == nameExisting && d.asked[req.Name] == 1:
			w.Header().Set("Retry-After", "1")
			writeJSON(w, 429, map[string]string{"error": "Too many files at once."})
			return
		}
		if req.Name == nameExisting {
			writeJSON(w, 200, map[string]any{"existing": true, "key": "2026/11/" + req.Name, "url": "https://img.example.com/2026/11/" + req.Name, "link": "https://img.example.com/2026/11/" + req.Name})
			return
		}
		g := &grant{grantReq: req, id: fmt.Sprintf("g%d", len(d.grants)+1), key: "2026/11/" + req.Name, expires: time.Now().Add(time.Hour)}
		n := 0
		for _, o := range d.grants {
			if o.Name == req.Name {
				n++
			}
		}
		if n > 0 {
			g.key = fmt.Sprintf("2026/11/%d-%s", n+1, req.Name)
		} else if req.Name == nameExpired {
			g.expires = time.Now().Add(-time.Minute)
		}
		md5raw, _ := hex.DecodeString(req.MD5)
		if req.Name == nameChanged {
			md5raw[0] ^= 0xFF // the bytes sent will not be the bytes granted
		}
		// Cache-Control is granted as the desktop sets it: without it,
		// Chromium sends its own "max-age=0" with a conditional request
		// (If-None-Match), and the bucket would keep that.
		g.headers = map[string]string{
			"Content-Md5": base64.StdEncoding.EncodeToString(md5raw), "Content-Type": req.Type,
			"X-Amz-Meta-Sha1": req.SHA1, "If-None-Match": "*", "Cache-Control": "public, max-age=31536000, immutable",
		}
		d.grants[g.id] = g
		putURL := d.s3 + (&url.URL{Path: "/bucket/" + g.key}).EscapedPath() + "?X-Amz-Signature=" + g.id
		writeJSON(w, 200, map[string]any{"existing": false, "id": g.id, "key": g.key, "method": "PUT", "put_url": putURL,
			"headers": g.headers, "expires": g.expires.UTC().Format(time.RFC3339)})
	case "POST /api/done":
		var req struct{ ID string }
		json.NewDecoder(r.Body).Decode(&req)
		g := d.grants[req.ID]
		if g == nil || d.objects[g.key] == nil {
			writeJSON(w, 409, map[string]string{"error": "The file is not in your bucket."})
			return
		}
		writeJSON(w, 200, mapsWith(d.link(g.key), "path", "direct"))
	case "PUT /api/relay":
		body, _ := io.ReadAll(r.Body)
		name := r.URL.Query().Get("name")
		if s, _ := sums(body); s != r.Header.Get("X-Upshot-Sha1") {
			writeJSON(w, 422, map[string]string{"error": "The file changed on the way."})
			return
		}
		d.relayed[name] = body
		writeJSON(w, 200, mapsWith(d.link("2026/11/"+name), "path", "relay"))
	default:
		writeJSON(w, 404, map[string]string{"error": "no such call"})
	}
}

func mapsWith(m map[string]string, k, v string) map[string]string {
	m = maps.Clone(m)
	m[k] = v
	return m
}

// serveS3 is the bucket: it checks what a presigned PUT would.
func (d *fakeDesktop) serveS3(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.URL.Path, "/bucket/")
	if !strings.Contains(key, "nocors") {
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		w.Header().Set("Access-Control-Expose-Headers", "ETag")
	}
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Methods", "PUT")
		w.Header().Set("Access-Control-Allow-Headers", r.Header.Get("Access-Control-Request-Headers"))
		return
	}
	s3Error := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<Error><Code>%s</Code><Message>%s</Message></Error>", code, msg)
	}
	if strings.HasPrefix(path.Base(key), "Family trip") {
		io.CopyN(io.Discard, r.Body, 1<<20)
		select { // hold the upload part way
		case <-d.release:
		case <-r.Context().Done():
		}
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	g := d.grants[r.URL.Query().Get("X-Amz-Signature")]
	p := put{key: key, header: r.Header.Clone(), grant: g, body: body}
	sum := md5.Sum(body)
	switch {
	case g == nil || g.key != key:
		p.outcome = 403
		s3Error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match")
	case time.Now().After(g.expires):
		p.outcome = 403
		s3Error(403, "AccessDenied", "Request has expired")
	case r.Header.Get("Content-Md5") != base64.StdEncoding.EncodeToString(sum[:]):
		p.outcome = 400
		s3Error(400, "BadDigest", "The Content-MD5 you specified did not match what we received.")
	case d.objects[key] != nil && r.Header.Get("If-None-Match") == "*":
		p.outcome = 412
		s3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
	default:
		p.outcome = 200
		d.objects[key] = body
		w.Header().Set("ETag", fmt.Sprintf("%q", hex.EncodeToString(sum[:])))
	}
	d.puts = append(d.puts, p)
}

// shown is a file's row as the page shows it.
type shown struct {
	Name   string `json:"name"`
	State  string `json:"state"`
	Path   string `json:"path"`
	Link   string `json:"link"`
	Done   bool   `json:"done"`
	Failed bool   `json:"failed"`
}

const readRows = `[...document.querySelectorAll('#files .file')].map((r) => ({
  name: r.querySelector('.name').textContent,
  state: r.querySelector('.state').textContent,
  path: r.querySelector('.path').hidden ? '' : r.querySelector('.path').textContent,
  link: r.querySelector('.link').hidden ? '' : r.querySelector('.field').value,
  done: r.classList.contains('done'),
  failed: r.classList.contains('failed'),
}))`

// screenshots returns a func that saves the tab as name.png in the folder
// UPSHOT_SCREENSHOTS names, once no transition runs; without that
// variable it does nothing.
func screenshots(ctx context.Context, t *testing.T) func(name string) {
	dir := os.Getenv("UPSHOT_SCREENSHOTS")
	return func(name string) {
		t.Helper()
		if dir == "" {
			return
		}
		settled := `document.getAnimations().every((a) => a.playState !== 'running' || a.effect.getTiming().iterations === Infinity)`
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](settled)); err != nil {
			t.Fatalf("waiting for the page to settle: %v", err)
		}
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPageSendsFiles drives the page in Chromium against a fake desktop
// and bucket: one file for each outcome of the contract.
func TestPageSendsFiles(t *testing.T) {
	ctx := newPhone(t)
	d := newFakeDesktop(t)
	pageURL := servePage(t, fmt.Sprintf(pageCSP, d.s3), d)
	shot := screenshots(ctx, t)

	photo, latitude := gpsJPEG(t, 640, 480)
	changed, _ := gpsJPEG(t, 300, 200)
	taken, _ := gpsJPEG(t, 200, 300)
	video := bytes.Repeat([]byte("\x00\x00\x00\x18ftypmp42 a beach, waves, gulls. "), 8000)
	slow := bytes.Repeat([]byte("0123456789abcdef"), 1<<20) // 16 MiB
	files := []struct {
		name string
		data []byte
	}{
		{nameSlow, slow}, {namePhoto, photo}, {nameExisting, photo}, {nameRelay, video},
		{nameChanged, changed}, {nameTaken, taken}, {nameExpired, encodeTestPNG(t)},
		{nameHuge, video[:1000]}, {nameText, []byte("a shopping list")},
	}
	dir := t.TempDir()
	var paths []string
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, f.data, 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL+"#"+d.token), chromedp.WaitEnabled(chromedp.CSS("#pick"))); err != nil {
		t.Fatalf("opening the page: %v", err)
	}
	href, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
	if strings.Contains(href, d.token) || strings.Contains(href, "#") {
		t.Errorf("the address bar still shows the token: %s", href)
	}
	status, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#status")))
	if status != "Sending to upshot on mybox" {
		t.Errorf("status %q, want the desktop's name", status)
	}
	accept, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('pick').accept`))
	if accept != "image/*,video/*" {
		t.Errorf("the picker accepts %q, want the session's types", accept)
	}
	shot("inbox-empty")

	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS("#pick"), paths)); err != nil {
		t.Fatalf("choosing the files: %v", err)
	}
	settled := fmt.Sprintf(`(() => {
  const rows = %s;
  return rows.length === %d && rows.every((r) => r.done || r.failed || /^Uploading [1-9][0-9]?%%$/.test(r.state)) && rows;
})()`, readRows, len(files))
	rows, err := chromedp.Run(ctx, chromedp.Poll[[]shown](settled, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(2*time.Minute)))
	if err != nil {
		now, _ := chromedp.Run(ctx, chromedp.Evaluate[[]shown](readRows))
		t.Fatalf("the rows did not settle: %v\n%+v", err, now)
	}

	const direct, relay, existing = "Sent straight to your bucket", "Sent through your computer", "Already uploaded"
	const stripped = " · location data removed"
	link := func(key string) string { return "https://img.example.com/2026/11/" + key }
	want := map[string]shown{
		namePhoto:    {State: "Done", Path: direct + stripped, Link: link(namePhoto), Done: true},
		nameExisting: {State: "Done", Path: existing, Link: link(nameExisting), Done: true},
		nameRelay:    {State: "Done", Path: relay, Link: link(nameRelay), Done: true},
		nameChanged:  {State: "The upload was refused: the file changed while it was being sent", Failed: true},
		nameTaken:    {State: "Done", Path: direct + stripped, Link: link("2-" + nameTaken), Done: true},
		nameExpired:  {State: "Done", Path: direct, Link: link("2-" + nameExpired), Done: true},
		nameHuge:     {State: "This file is larger than the 2 GB the inbox takes.", Failed: true},
		nameText:     {State: "This kind of file is not accepted here.", Failed: true},
	}
	for i, r := range rows {
		if r.Name != files[i].name {
			t.Errorf("row %d is %q, want %q", i, r.Name, files[i].name)
			continue
		}
		w, ok := want[r.Name]
		if !ok { // the held upload
			if r.Done || r.Failed || !regexp.MustCompile(`^Uploading \d+%$`).MatchString(r.State) {
				t.Errorf("%s: %+v, want it uploading", r.Name, r)
			}
			continue
		}
		w.Name = r.Name
		if r != w {
			t.Errorf("%s:\n got %+v\nwant %+v", r.Name, r, w)
		}
	}

	// Copy: navigator.clipboard is missing here, so the page selects the
	// field and copies the old way.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#files .file:nth-child(2) .copy`))); err != nil {
		t.Fatalf("tapping Copy: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#files .file:nth-child(2) .copy').textContent === 'Copied'`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		label, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#files .file:nth-child(2) .copy`)))
		t.Errorf("after Copy the button says %q, want Copied (%v)", label, err)
	}
	shot("inbox-files")
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, document.body.scrollHeight)`)); err != nil {
		t.Fatal(err)
	}
	shot("inbox-files-end")
	if os.Getenv("UPSHOT_SCREENSHOTS") != "" {
		dark := emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}
		if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, dark); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`)); err != nil {
			t.Fatal(err)
		}
		shot("inbox-dark")
	}
	noViolations(ctx, t)

	d.mu.Lock()
	defer d.mu.Unlock()
	for _, a := range d.auths {
		if a != "Bearer "+d.token {
			t.Errorf("an API call carried Authorization %q", a)
		}
	}
	want0, err := filework.Strip(photo)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.objects["2026/11/"+namePhoto]; !bytes.Equal(got, want0.Bytes) || bytes.Contains(got, latitude) {
		t.Errorf("the bucket got %d bytes for %s, want the %d stripped ones, without the GPS position", len(got), namePhoto, len(want0.Bytes))
	}
	if !bytes.Equal(d.relayed[nameRelay], video) {
		t.Errorf("the computer got %d bytes through the relay for %s, want %d", len(d.relayed[nameRelay]), nameRelay, len(video))
	}
	if d.asked[nameExisting] != 2 || d.asked[nameText] != 0 {
		t.Errorf("grants asked for %s: %d, want 2 (once more after a 429); for %s: %d, want none", nameExisting, d.asked[nameExisting], nameText, d.asked[nameText])
	}
	if _, ok := d.relayed[nameChanged]; ok {
		t.Errorf("%s was relayed after the bucket refused it; it must not be", nameChanged)
	}
	var outcomes []string
	for _, p := range d.puts {
		outcomes = append(outcomes, fmt.Sprintf("%s %d", p.key, p.outcome))
		if p.outcome != 200 {
			continue
		}
		for k, v := range p.grant.headers {
			if p.header.Get(k) != v {
				t.Errorf("PUT %s: %s is %q, want the granted %q", p.key, k, p.header.Get(k), v)
			}
		}
		for k := range p.header {
			if _, granted := p.grant.headers[k]; !granted && !browserHeader(k) {
				t.Errorf("PUT %s carried %s: %q, which was not granted", p.key, k, p.header.Get(k))
			}
		}
	}
	slices.Sort(outcomes)
	wantOutcomes := []string{
		"2026/11/2-" + nameExpired + " 200", "2026/11/2-" + nameTaken + " 200", "2026/11/" + namePhoto + " 200",
		"2026/11/" + nameChanged + " 400", "2026/11/" + nameExpired + " 403", "2026/11/" + nameTaken + " 412",
	}
	slices.Sort(wantOutcomes)
	if !slices.Equal(outcomes, wantOutcomes) {
		t.Errorf("the bucket's answers:\n got %q\nwant %q", outcomes, wantOutcomes)
	}
}

// browserHeader reports whether the browser adds header k itself.
func browserHeader(k string) bool {
	switch k {
	case "Accept", "Accept-Encoding", "Accept-Language", "Connection", "Content-Length", "Host", "Origin", "User-Agent":
		return true
	}
	return strings.HasPrefix(k, "Sec-")
}

// TestPageWithoutAValidToken checks what the page says to a stale link and
// to no link at all.
func TestPageWithoutAValidToken(t *testing.T) {
	ctx := newPhone(t)
	d := newFakeDesktop(t)
	pageURL := servePage(t, fmt.Sprintf(pageCSP, d.s3), d)
	for _, tc := range []struct{ fragment, want, shot string }{
		{"#AAAAAAAAAAAAAAAAAAAAAA", expiredMessage, "inbox-expired"},
		{"", "Open this page by scanning the QR code on your computer.", ""},
	} {
		// A new tab each time: the page keeps a token for a reload.
		tab, cancel := chromedp.NewContext(ctx)
		defer cancel()
		err := chromedp.Do(tab,
			chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait),
			chromedp.Navigate(pageURL+tc.fragment))
		if err != nil {
			t.Fatal(err)
		}
		js := fmt.Sprintf(`document.getElementById('status').textContent === %q && document.getElementById('status').classList.contains('bad')`, tc.want)
		if _, err := chromedp.Run(tab, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			status, _ := chromedp.Run(tab, chromedp.Text(chromedp.CSS("#status")))
			t.Errorf("with %q the page says %q, want %q", tc.fragment, status, tc.want)
		}
		disabled, err := chromedp.Run(tab, chromedp.Evaluate[bool](`document.getElementById('pick').disabled`))
		if err != nil || !disabled {
			t.Errorf("with %q the picker is enabled", tc.fragment)
		}
		if tc.shot != "" {
			screenshots(tab, t)(tc.shot)
		}
	}
}

func encodeTestPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 64, 40))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 13)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
