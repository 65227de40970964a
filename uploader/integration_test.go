package uploader

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"upshot/uploader/s3test"
)

// fixedNow makes keys predictable: 2026/11/<name>.
var fixedNow = func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.Local) }

// testPolicy retries quickly but honours Retry-After as the real one does.
func testPolicy() *Policy {
	return &Policy{Attempts: 5, Base: 10 * time.Millisecond, Max: 100 * time.Millisecond, MaxRetryAfter: 5 * time.Second}
}

// testEnv is a real server, optionally behind a fault proxy, and an
// Uploader pointed at whichever the client should talk to.
type testEnv struct {
	srv   *s3test.Server
	proxy *s3test.Proxy
	up    *Uploader
	cfg   *Config
	state string
}

type envOptions struct {
	// b2 puts the B2-like proxy in front of a server that keeps versions.
	tls, proxy, b2, publicRead bool
	// user starts the server with a second, ordinary account.
	user   bool
	edit   func(*Config)
	policy *Policy
}

func newEnv(t testing.TB, o envOptions) *testEnv {
	t.Helper()
	e := &testEnv{state: t.TempDir()}
	e.srv = s3test.Start(t, s3test.Options{TLS: o.tls, PublicRead: o.publicRead, Versioning: o.b2, User: o.user})
	endpoint, ca := e.srv.Endpoint, e.srv.CAPEM
	if o.proxy || o.b2 {
		e.proxy = s3test.NewProxy(t, e.srv, s3test.ProxyOptions{TLS: o.tls, B2: o.b2})
		endpoint, ca = e.proxy.URL, e.proxy.CAPEM
	}
	e.cfg = &Config{Target: Target{Endpoint: endpoint, Bucket: e.srv.Bucket, KeyID: e.srv.AccessKey,
		Key: NewSecret(e.srv.SecretKey), PathStyle: true}}
	e.cfg.SetDefaults()
	if o.edit != nil {
		o.edit(e.cfg)
	}
	if err := e.cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if o.policy == nil {
		o.policy = testPolicy()
	}
	e.up = e.newUploader(t, o.policy, ca)
	return e
}

func (e *testEnv) newUploader(t testing.TB, p *Policy, ca []byte) *Uploader {
	t.Helper()
	up, err := New(e.cfg, Options{Client: ClientOptions{CAPEM: ca}, StateDir: e.state, Policy: p, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	return up
}

// get downloads key straight from the server.
func (e *testEnv) get(t *testing.T, key string) []byte {
	t.Helper()
	out, err := e.srv.Client().GetObject(t.Context(), &s3.GetObjectInput{Bucket: &e.srv.Bucket, Key: &key})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (e *testEnv) exists(t *testing.T, key string) bool {
	t.Helper()
	_, err := e.srv.Client().HeadObject(context.WithoutCancel(t.Context()), &s3.HeadObjectInput{Bucket: &e.srv.Bucket, Key: &key})
	if err == nil {
		return true
	}
	if _, _, status := apiDetails(err); status != 404 {
		t.Fatalf("head %s: %v", key, err)
	}
	return false
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func sha1Hex(b []byte) string { s := sha1.Sum(b); return hex.EncodeToString(s[:]) }

func TestRoundTrip(t *testing.T) {
	e := newEnv(t, envOptions{edit: func(c *Config) { c.Target.CacheControl = "public, max-age=60" }})
	data := randomBytes(t, 3<<20)
	path := writeFile(t, t.TempDir(), "shot.png", append([]byte("\x89PNG\r\n\x1a\n"), data...))
	want, _ := os.ReadFile(path)

	res, err := e.up.Upload(t.Context(), Request{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if res.Key != "2026/11/shot.png" || res.Deduplicated || res.SHA1 != sha1Hex(want) || res.Size != int64(len(want)) {
		t.Fatalf("result %+v", res)
	}
	if got := e.get(t, res.Key); !bytes.Equal(got, want) {
		t.Fatal("downloaded bytes differ from the file")
	}
	h, err := e.srv.Client().HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: &e.srv.Bucket, Key: &res.Key, ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(want)
	if h.Metadata["sha1"] != res.SHA1 || aws.ToString(h.ChecksumSHA1) != (Digest{SHA1: sum}).SHA1Base64() {
		t.Fatalf("stored sha1 metadata %q, checksum %q; want %s", h.Metadata["sha1"], aws.ToString(h.ChecksumSHA1), res.SHA1)
	}
	if aws.ToString(h.ContentType) != "image/png" || aws.ToString(h.CacheControl) != "public, max-age=60" {
		t.Fatalf("content type %q, cache control %q", aws.ToString(h.ContentType), aws.ToString(h.CacheControl))
	}
	if res.URL != e.srv.Endpoint+"/"+e.srv.Bucket+"/2026/11/shot.png" {
		t.Fatalf("URL %s", res.URL)
	}
}

func TestContentTypeFromContent(t *testing.T) {
	e := newEnv(t, envOptions{})
	// A JPEG saved with a .png name is served as what it is.
	jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0}, randomBytes(t, 1000)...)
	res, err := e.up.Upload(t.Context(), Request{Path: writeFile(t, t.TempDir(), "really-a-jpeg.png", jpeg)})
	if err != nil {
		t.Fatal(err)
	}
	if res.ContentType != "image/jpeg" {
		t.Fatalf("content type %q, want image/jpeg", res.ContentType)
	}
}

func TestZeroByteFile(t *testing.T) {
	e := newEnv(t, envOptions{})
	res, err := e.up.Upload(t.Context(), Request{Path: writeFile(t, t.TempDir(), "empty.txt", nil)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Size != 0 || res.SHA1 != sha1Hex(nil) || len(e.get(t, res.Key)) != 0 {
		t.Fatalf("result %+v", res)
	}
}

func TestDedupAndNoOverwrite(t *testing.T) {
	e := newEnv(t, envOptions{proxy: true})
	a := writeFile(t, t.TempDir(), "shot.png", []byte("first content"))
	b := writeFile(t, t.TempDir(), "shot.png", []byte("second content"))
	c := writeFile(t, t.TempDir(), "shot.png", []byte("third content"))

	r1, err := e.up.Upload(t.Context(), Request{Path: a})
	if err != nil {
		t.Fatal(err)
	}
	puts := countPuts(e.proxy)
	again, err := e.up.Upload(t.Context(), Request{Path: a})
	if err != nil {
		t.Fatal(err)
	}
	if !again.Deduplicated || again.Key != r1.Key || again.URL != r1.URL {
		t.Fatalf("identical re-upload: %+v, want deduplicated %s", again, r1.Key)
	}
	if n := countPuts(e.proxy) - puts; n > 1 {
		t.Fatalf("identical re-upload sent %d PUTs", n)
	}
	r2, err := e.up.Upload(t.Context(), Request{Path: b})
	if err != nil {
		t.Fatal(err)
	}
	r3, err := e.up.Upload(t.Context(), Request{Path: c})
	if err != nil {
		t.Fatal(err)
	}
	if r2.Key != "2026/11/shot-1.png" || r3.Key != "2026/11/shot-2.png" || r2.Deduplicated || r3.Deduplicated {
		t.Fatalf("keys %s, %s; want shot-1.png and shot-2.png", r2.Key, r3.Key)
	}
	for key, want := range map[string]string{r1.Key: "first content", r2.Key: "second content", r3.Key: "third content"} {
		if got := string(e.get(t, key)); got != want {
			t.Fatalf("%s holds %q, want %q: something was overwritten", key, got, want)
		}
	}
}

func countPuts(p *s3test.Proxy) int {
	n := 0
	for _, r := range p.Requests() {
		if r.Method == http.MethodPut && r.BodyBytes > 0 {
			n++
		}
	}
	return n
}

func TestConcurrentSameFileDeduplicates(t *testing.T) {
	e := newEnv(t, envOptions{})
	path := writeFile(t, t.TempDir(), "race.png", randomBytes(t, 256<<10))
	var wg sync.WaitGroup
	results := make([]Result, 6)
	errs := make([]error, 6)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = e.up.Upload(t.Context(), Request{Path: path}) })
	}
	wg.Wait()
	fresh := 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if r.Key != "2026/11/race.png" {
			t.Fatalf("upload %d got key %s: identical content must share one key", i, r.Key)
		}
		if !r.Deduplicated {
			fresh++
		}
	}
	if fresh != 1 {
		t.Fatalf("%d uploads claim to have written the object, want exactly 1", fresh)
	}
}

func TestFlippedByteIsRejectedAndRetried(t *testing.T) {
	e := newEnv(t, envOptions{proxy: true})
	e.proxy.Inject(s3test.Fault{Kind: s3test.FlipByte, Match: s3test.MatchPut})
	data := randomBytes(t, 1<<20)
	path := writeFile(t, t.TempDir(), "flip.png", data)

	key := "2026/11/flip.png"
	var corruptSeen []bool
	p := testPolicy()
	p.OnRetry = func(op string, attempt int, err error, wait time.Duration) {
		// Between attempts, the damaged upload must not have produced an object.
		corruptSeen = append(corruptSeen, e.exists(t, key))
	}
	e.up = e.newUploader(t, p, nil)
	res, err := e.up.Upload(t.Context(), Request{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if len(corruptSeen) != 1 || corruptSeen[0] {
		t.Fatalf("retries %d, object existed after the damaged attempt: %v", len(corruptSeen), corruptSeen)
	}
	var flipped *s3test.Record
	for _, r := range e.proxy.Requests() {
		if r.Fault == "FlipByte" {
			flipped = &r
		}
	}
	if flipped == nil || flipped.Status != 400 {
		t.Fatalf("the flipped request was not refused by the server: %+v", flipped)
	}
	if !bytes.Equal(e.get(t, res.Key), data) {
		t.Fatal("stored object differs from the file")
	}
}

func TestSlowDownHonoursRetryAfter(t *testing.T) {
	e := newEnv(t, envOptions{proxy: true})
	e.proxy.Inject(s3test.Fault{Kind: s3test.SlowDown, Match: s3test.MatchPut, RetryAfter: "1"})
	path := writeFile(t, t.TempDir(), "slow.png", randomBytes(t, 64<<10))
	if _, err := e.up.Upload(t.Context(), Request{Path: path}); err != nil {
		t.Fatal(err)
	}
	var slow, next time.Time
	for _, r := range e.proxy.Requests() {
		switch {
		case r.Fault == "SlowDown":
			slow = r.At
		case !slow.IsZero() && next.IsZero() && r.Method == http.MethodPut:
			next = r.At
		}
	}
	wait := next.Sub(slow)
	t.Logf("503 SlowDown with Retry-After: 1, next PUT %v later", wait)
	// A lower bound only: a loaded machine may take longer, never shorter.
	if slow.IsZero() || next.IsZero() || wait < time.Second {
		t.Fatalf("waited %v after SlowDown, want at least Retry-After's 1 s (test policy backoff is 10 ms)", wait)
	}
}

func TestConnectionResetRetried(t *testing.T) {
	e := newEnv(t, envOptions{proxy: true})
	e.proxy.Inject(s3test.Fault{Kind: s3test.ResetMidBody, Match: s3test.MatchPut})
	data := randomBytes(t, 2<<20)
	res, err := e.up.Upload(t.Context(), Request{Path: writeFile(t, t.TempDir(), "reset.png", data)})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.get(t, res.Key), data) {
		t.Fatal("stored object differs")
	}
}

// TestB2LikeOverTLS is the path where B2 failed: https (the SDK would use
// UNSIGNED-PAYLOAD and aws-chunked trailers), checksum headers refused with
// 400, conditional writes refused with 501, and every version kept.
func TestB2LikeOverTLS(t *testing.T) {
	e := newEnv(t, envOptions{tls: true, b2: true})
	data := randomBytes(t, 1<<20)
	path := writeFile(t, t.TempDir(), "b2.png", data)
	res, err := e.up.Upload(t.Context(), Request{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if res.Key != "2026/11/b2.png" || !bytes.Equal(e.get(t, res.Key), data) {
		t.Fatalf("result %+v, or the stored object differs", res)
	}
	refused := map[string]int{}
	accepted := 0
	for _, r := range e.proxy.Requests() {
		if r.Header.Get("Content-Encoding") == "aws-chunked" || r.Header.Get("X-Amz-Trailer") != "" || r.Header.Get("X-Amz-Checksum-Crc32") != "" {
			t.Fatalf("request %s %s carries SDK default checksums: %v", r.Method, r.Path, r.Header)
		}
		if r.Fault != "" {
			refused[r.Fault]++
			continue
		}
		if r.Method == http.MethodPut && strings.HasSuffix(r.Path, "/b2.png") {
			accepted++
			if r.Header.Get("Content-Md5") == "" || r.Header.Get("X-Amz-Meta-Sha1") != res.SHA1 || r.Header.Get("If-None-Match") != "" {
				t.Fatalf("upload PUT: want Content-MD5 and x-amz-meta-sha1, no If-None-Match: %v", r.Header)
			}
		}
	}
	// The probe learns both refusals once; the upload sends neither header.
	if refused["RejectConditionalWrite"] != 1 || refused["RejectChecksumHeaders"] != 1 || accepted != 1 {
		t.Fatalf("refused %v, %d upload PUTs accepted; want one 501, one 400 and one PUT", refused, accepted)
	}
	h, err := e.srv.Client().HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: &e.srv.Bucket, Key: &res.Key})
	if err != nil || h.Metadata["sha1"] != sha1Hex(data) {
		t.Fatalf("stored object's x-amz-meta-sha1: %v, %v", h, err)
	}

	// Remembered per endpoint, across runs: a new uploader with the same
	// state dir sends neither header again, for single and multipart
	// uploads, and still never overwrites.
	e.proxy.Reset()
	e.cfg.Transfer.PartSize, e.cfg.Transfer.MultipartThreshold = MinPartSize, MinPartSize
	up2 := e.newUploader(t, testPolicy(), e.proxy.CAPEM)
	big := randomBytes(t, 2*MinPartSize+1)
	bigRes, err := up2.Upload(t.Context(), Request{Path: writeFile(t, t.TempDir(), "b2.png", big)})
	if err != nil {
		t.Fatal(err)
	}
	if bigRes.Key != "2026/11/b2-1.png" || !bigRes.Multipart || !bytes.Equal(e.get(t, bigRes.Key), big) {
		t.Fatalf("multipart upload under a taken name: %+v", bigRes)
	}
	again, err := up2.Upload(t.Context(), Request{Path: path})
	if err != nil || !again.Deduplicated || again.Key != res.Key {
		t.Fatalf("identical content again: %+v, %v; want deduplicated at %s", again, err, res.Key)
	}
	other, err := up2.Upload(t.Context(), Request{Path: writeFile(t, t.TempDir(), "b2.png", randomBytes(t, 1000))})
	if err != nil || other.Key != "2026/11/b2-2.png" {
		t.Fatalf("other content under the same name: %+v, %v; want b2-2.png", other, err)
	}
	for _, r := range e.proxy.Requests() {
		if r.Fault != "" || r.Header.Get("If-None-Match") != "" || r.Header.Get("X-Amz-Checksum-Sha1") != "" || r.Header.Get("X-Amz-Checksum-Algorithm") != "" {
			t.Fatalf("a refused header was sent again after the endpoint refused it: %s %s?%s %v", r.Method, r.Path, r.RawQuery, r.Header)
		}
	}
	if !bytes.Equal(e.get(t, res.Key), data) {
		t.Fatal("the first upload was overwritten")
	}
}

// TestB2LikeRace: two uploaders (two computers, each with its own state)
// both look at a free name, then write it at the same moment, on an
// endpoint with versions and no conditional writes. The older version
// keeps the name; the other writer takes its own version back and moves
// to the next name. Both files end up whole under distinct keys.
func TestB2LikeRace(t *testing.T) {
	for _, multipart := range []bool{false, true} {
		t.Run(map[bool]string{false: "single", true: "multipart"}[multipart], func(t *testing.T) {
			e := newEnv(t, envOptions{b2: true, edit: func(c *Config) {
				c.Transfer.PartSize, c.Transfer.MultipartThreshold = MinPartSize, MinPartSize
			}})
			size := 64 << 10
			match := s3test.MatchPut
			if multipart {
				size, match = 2*MinPartSize+7, s3test.MatchComplete
			}
			ups := []*Uploader{e.up, e.up2(t)}
			for _, up := range ups { // learn the endpoint first, outside the race
				if r := up.Check(t.Context()); r.Failed() {
					t.Fatal(r.Findings)
				}
			}
			for round := range 3 {
				name := fmt.Sprintf("race-%d.png", round)
				e.proxy.Inject(s3test.Fault{Kind: s3test.Gather, Times: 2, Match: func(r *http.Request) bool {
					return match(r) && strings.HasSuffix(r.URL.Path, "/"+name)
				}})
				datas := [][]byte{randomBytes(t, size), randomBytes(t, size)}
				results := make([]Result, 2)
				errs := make([]error, 2)
				var wg sync.WaitGroup
				for i, up := range ups {
					path := writeFile(t, t.TempDir(), name, datas[i])
					wg.Go(func() { results[i], errs[i] = up.Upload(t.Context(), Request{Path: path}) })
				}
				wg.Wait()
				if err := errors.Join(errs...); err != nil {
					t.Fatal(err)
				}
				base, next := "2026/11/"+name, "2026/11/"+strings.TrimSuffix(name, ".png")+"-1.png"
				keys := []string{results[0].Key, results[1].Key}
				slices.Sort(keys)
				if !slices.Equal(keys, []string{next, base}) {
					t.Fatalf("round %d: keys %v, want %s and %s: both writers wrote the free name, so one must have moved on", round, keys, base, next)
				}
				// The loser took its version back: one version per name.
				list, err := e.srv.Client().ListObjectVersions(t.Context(), &s3.ListObjectVersionsInput{Bucket: &e.srv.Bucket, Prefix: &base})
				if err != nil || len(list.Versions) != 1 || len(list.DeleteMarkers) != 0 {
					t.Fatalf("round %d: %s has %d versions and %d markers (%v), want 1 and 0", round, base, len(list.Versions), len(list.DeleteMarkers), err)
				}
				for i, r := range results {
					if !bytes.Equal(e.get(t, r.Key), datas[i]) {
						t.Fatalf("round %d: %s does not hold writer %d's bytes", round, r.Key, i)
					}
				}
			}
		})
	}
}

// up2 is a second uploader on the same endpoint with a state dir of its own.
func (e *testEnv) up2(t *testing.T) *Uploader {
	t.Helper()
	ca := e.srv.CAPEM
	if e.proxy != nil {
		ca = e.proxy.CAPEM
	}
	up, err := New(e.cfg, Options{Client: ClientOptions{CAPEM: ca}, StateDir: t.TempDir(), Policy: testPolicy(), Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	return up
}

func TestTLSChecksumHeaderAccepted(t *testing.T) {
	e := newEnv(t, envOptions{tls: true, proxy: true})
	data := randomBytes(t, 1<<20)
	res, err := e.up.Upload(t.Context(), Request{Path: writeFile(t, t.TempDir(), "tls.png", data)})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(data)
	var put *s3test.Record
	for _, r := range e.proxy.Requests() {
		if r.Method == http.MethodPut && r.BodyBytes > 0 {
			put = &r
		}
	}
	if put == nil || put.Header.Get("X-Amz-Checksum-Sha1") != (Digest{SHA1: sum}).SHA1Base64() || put.Header.Get("X-Amz-Content-Sha256") != "UNSIGNED-PAYLOAD" ||
		put.Header.Get("Content-Encoding") == "aws-chunked" || put.Header.Get("If-None-Match") != "*" {
		t.Fatalf("PUT over TLS: %+v", put)
	}
	if !bytes.Equal(e.get(t, res.Key), data) {
		t.Fatal("stored object differs")
	}
}

// hostileNames are file names that break naive key and URL handling.
var hostileNames = []string{
	"space name.png", "plus+sign.png", "a+b+c d.png", "hash#tag.png", "question?.png", "percent%.png",
	"percent%20encoded.png", "emoji 😀🎉.png", "שלום עולם.png", "مرحبا بالعالم.png", strings.Repeat("l", 196) + ".png",
	".leading-dot.png", "..two-leading-dots.png", "a..b.png", "amp&eq=semi;.png", `quote'"s.png`,
	"brackets [1] (2) {3}.png", "tab\tand\nnewline.png", `back\slash.png`, "cafe\u0301 nfd.png", "日本語のスクリーンショット.png",
	"colon: star* pipe| lt< gt>.png", "dollar$ at@ comma, tilde~ caret^.png", "~tilde-start.png", "-dash-start.png",
}

func TestHostileNames(t *testing.T) {
	e := newEnv(t, envOptions{publicRead: true})
	cdn := s3test.NewCDN(t, e.srv, s3test.CDNOptions{PlusAsSpace: true})
	withCDN := *e.cfg
	withCDN.Target.URLTemplate = cdn.URL + "/{key}"
	upCDN, err := New(&withCDN, Options{StateDir: e.state, Policy: testPolicy(), Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keys := map[string]bool{}
	for i, name := range hostileNames {
		data := []byte(fmt.Sprintf("file %d: %s", i, name))
		path := writeFile(t, dir, name, data)
		up := e.up
		if i%2 == 0 {
			up = upCDN
		}
		res, err := up.Upload(t.Context(), Request{Path: path})
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		if keys[res.Key] {
			t.Fatalf("%q: key %q used twice", name, res.Key)
		}
		keys[res.Key] = true
		for _, r := range res.Key {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("%q: key %q has a control character", name, res.Key)
			}
		}
		// Fetch the link anonymously, as a browser would.
		resp, err := http.Get(res.URL)
		if err != nil {
			t.Fatalf("%q: GET %s: %v", name, res.URL, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Equal(got, data) {
			t.Fatalf("%q: GET %s = %d %q, want the file's bytes", name, res.URL, resp.StatusCode, got)
		}
	}
	if len(hostileNames) < 20 {
		t.Fatal("need at least 20 hostile names")
	}
}

func TestMultipart(t *testing.T) {
	for _, b2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "checksum header", true: "B2-like fallback"}[b2], func(t *testing.T) {
			e := newEnv(t, envOptions{proxy: true, b2: b2, edit: func(c *Config) {
				c.Transfer.PartSize = MinPartSize
				c.Transfer.MultipartThreshold = MinPartSize
			}})
			data := randomBytes(t, 2*MinPartSize+12345)
			res, err := e.up.Upload(t.Context(), Request{Path: writeFile(t, t.TempDir(), "big.bin", data)})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Multipart || !bytes.Equal(e.get(t, res.Key), data) {
				t.Fatalf("multipart %v, or stored object differs", res.Multipart)
			}
			parts := 0
			for _, r := range e.proxy.Requests() {
				if !strings.Contains(r.RawQuery, "partNumber=") || r.Fault != "" {
					continue
				}
				parts++
				if r.Header.Get("Content-Md5") == "" || (r.Header.Get("X-Amz-Checksum-Sha1") == "") != b2 {
					t.Fatalf("part %s: Content-MD5 %q, SHA1 %q", r.RawQuery, r.Header.Get("Content-Md5"), r.Header.Get("X-Amz-Checksum-Sha1"))
				}
			}
			if parts != 3 {
				t.Fatalf("%d parts uploaded, want 3", parts)
			}
			// Uploading it again is recognised as the same content.
			again, err := e.up.Upload(t.Context(), Request{Path: writeFile(t, t.TempDir(), "big.bin", data)})
			if err != nil || !again.Deduplicated {
				t.Fatalf("re-upload of the large file: %+v, %v", again, err)
			}
		})
	}
}

func TestMultipartFailureAborts(t *testing.T) {
	p := testPolicy()
	p.Attempts = 2
	e := newEnv(t, envOptions{proxy: true, policy: p, edit: func(c *Config) {
		c.Transfer.PartSize = MinPartSize
		c.Transfer.MultipartThreshold = MinPartSize
	}})
	e.proxy.Inject(s3test.Fault{Kind: s3test.ResetMidBody, Match: s3test.MatchPart, Times: 100})
	_, err := e.up.Upload(t.Context(), Request{Path: writeFile(t, t.TempDir(), "doomed.bin", randomBytes(t, 2*MinPartSize))})
	if err == nil {
		t.Fatal("upload succeeded through a link that resets every part")
	}
	list, lerr := e.srv.Client().ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: &e.srv.Bucket})
	if lerr != nil {
		t.Fatal(lerr)
	}
	if len(list.Uploads) != 0 {
		t.Fatalf("%d multipart uploads left after a failure, want 0 (aborted)", len(list.Uploads))
	}
	if e.exists(t, "2026/11/doomed.bin") {
		t.Fatal("a failed upload left an object")
	}
}

func TestErrorsAreExplained(t *testing.T) {
	t.Run("wrong key", func(t *testing.T) {
		e := newEnv(t, envOptions{edit: func(c *Config) { c.Target.Key = NewSecret("wrong-secret-value") }})
		_, err := e.up.Upload(t.Context(), Request{Path: writeFile(t, t.TempDir(), "a.png", []byte("x"))})
		if !errors.Is(err, ErrCredentials) || !strings.Contains(err.Error(), EnvKey) {
			t.Fatalf("err = %v, want ErrCredentials with advice", err)
		}
		if strings.Contains(err.Error(), "wrong-secret-value") {
			t.Fatal("error shows the secret")
		}
	})
	t.Run("missing bucket", func(t *testing.T) {
		e := newEnv(t, envOptions{edit: func(c *Config) { c.Target.Bucket = "no-such-bucket" }})
		_, err := e.up.Upload(t.Context(), Request{Path: writeFile(t, t.TempDir(), "a.png", []byte("x"))})
		if !errors.Is(err, ErrNoBucket) || !strings.Contains(err.Error(), "no-such-bucket") {
			t.Fatalf("err = %v, want ErrNoBucket naming the bucket", err)
		}
	})
	t.Run("server down", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		if err := e.srv.Close(); err != nil {
			t.Fatal(err)
		}
		_, err := e.up.Upload(t.Context(), Request{Path: writeFile(t, t.TempDir(), "a.png", []byte("x"))})
		if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "target.endpoint") {
			t.Fatalf("err = %v, want ErrUnreachable with advice", err)
		}
	})
	t.Run("unreadable file", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		dir := t.TempDir()
		_, err := e.up.Upload(t.Context(), Request{Path: dir})
		if !errors.Is(err, ErrFile) || !strings.Contains(err.Error(), dir) {
			t.Fatalf("folder: err = %v, want ErrFile naming it", err)
		}
		missing := filepath.Join(dir, "gone.png")
		if _, err := e.up.Upload(t.Context(), Request{Path: missing}); !errors.Is(err, ErrFile) || !strings.Contains(err.Error(), missing) {
			t.Fatalf("missing: err = %v", err)
		}
	})
}

func TestCheck(t *testing.T) {
	for _, b2 := range []bool{false, true} {
		e := newEnv(t, envOptions{proxy: true, b2: b2})
		r := e.up.Check(t.Context())
		if r.Failed() {
			t.Fatalf("check failed: %+v", r.Findings)
		}
		text := fmt.Sprint(r.Findings)
		if !strings.Contains(text, "probe object deleted") {
			t.Fatalf("check findings: %s", text)
		}
		if b2 != strings.Contains(text, "refuses checksum headers") || b2 == strings.Contains(text, "honours If-None-Match") ||
			b2 != strings.Contains(text, "no conditional writes: Upshot looks before it writes") {
			t.Fatalf("b2=%v: findings %s", b2, text)
		}
		if strings.Contains(text, "try again later") {
			t.Fatalf("check gives transient advice: %s", text)
		}
		// Nothing is left behind: no object, and, where versions are
		// kept, no version or hide marker either.
		list, err := e.srv.Client().ListObjectVersions(t.Context(), &s3.ListObjectVersionsInput{Bucket: &e.srv.Bucket})
		if err != nil || len(list.Versions)+len(list.DeleteMarkers) != 0 {
			t.Fatalf("check left versions behind: %+v %v", list, err)
		}
	}
	e := newEnv(t, envOptions{edit: func(c *Config) { c.Target.Bucket = "missing-bucket" }})
	if r := e.up.Check(t.Context()); !r.Failed() {
		t.Fatalf("check passed on a missing bucket: %+v", r.Findings)
	}
}

// TestLostResponseRetried: the server stored the object but the answer was
// lost; the retry meets If-None-Match and recognises its own upload.
func TestLostResponseRetried(t *testing.T) {
	e := newEnv(t, envOptions{proxy: true})
	e.proxy.Inject(s3test.Fault{Kind: s3test.DropResponse, Match: s3test.MatchPut})
	data := randomBytes(t, 512<<10)
	res, err := e.up.Upload(t.Context(), Request{Path: writeFile(t, t.TempDir(), "lost.png", data)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Key != "2026/11/lost.png" || !bytes.Equal(e.get(t, res.Key), data) {
		t.Fatalf("result %+v: want the original key holding the file", res)
	}
}

// TestOneBoundOnRequests: files and the parts of large ones share one bound
// on requests in flight, transfer.concurrency.
func TestOneBoundOnRequests(t *testing.T) {
	e := newEnv(t, envOptions{proxy: true, edit: func(c *Config) {
		c.Transfer.Concurrency = 2
		c.Transfer.PartSize, c.Transfer.MultipartThreshold = MinPartSize, MinPartSize
	}})
	if r := e.up.Check(t.Context()); r.Failed() {
		t.Fatal(r.Findings)
	}
	e.proxy.Reset()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		path := writeFile(t, t.TempDir(), fmt.Sprintf("big%d.bin", i), randomBytes(t, 3*MinPartSize))
		wg.Go(func() { _, errs[i] = e.up.Upload(t.Context(), Request{Path: path}) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	parts := 0
	for _, r := range e.proxy.Requests() {
		if strings.Contains(r.RawQuery, "partNumber") {
			parts++
		}
	}
	if n := e.proxy.MaxInFlight(); n > 2 || parts != 12 {
		t.Fatalf("%d requests in flight at once (want at most 2), %d parts (want 12)", n, parts)
	}
}

// TestCheckReportsProbeLeftBehind: a probe object that cannot be deleted
// is reported, so the user can delete it by hand.
func TestCheckReportsProbeLeftBehind(t *testing.T) {
	e := newEnv(t, envOptions{b2: true})
	e.proxy.Inject(s3test.Fault{Kind: s3test.SlowDown, RetryAfter: s3test.NoRetryAfter, Times: 1000,
		Match: func(r *http.Request) bool { return r.Method == http.MethodDelete }})
	r := e.up.Check(t.Context())
	text := fmt.Sprint(r.Findings)
	if r.Failed() || !strings.Contains(text, "{warning delete") || !strings.Contains(text, "by hand") {
		t.Fatalf("findings %s: want a warning that the probe object must be deleted by hand", text)
	}
}
