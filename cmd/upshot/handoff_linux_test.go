package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// uploadLines parses "upshot upload --json" output.
func uploadLines(t *testing.T, out string) []uploadLine {
	t.Helper()
	var ls []uploadLine
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var l uploadLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%v in %q", err, sc.Text())
		}
		ls = append(ls, l)
	}
	return ls
}

// TestUploadHandsOffToWatch: "upshot upload" while a watch runs the queue
// gives its files to that queue (the watch reports them too), prints the
// same lines and exit codes as on its own, and "upshot status" says who
// runs the queue.
func TestUploadHandsOffToWatch(t *testing.T) {
	w := newWatchEnv(t, "")
	p := w.start(t, w.dir)
	a, b := tempFile(t, "handed-a.png", 3000), tempFile(t, "handed-b.png", 5000)
	code, out, errs, _ := runBin(t, nil, w.env, "upload", "--config", w.config, "--json", "--no-clipboard", a, b)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	ls := uploadLines(t, out)
	if len(ls) != 2 || ls[0].File != a || ls[1].File != b || ls[0].Key != "handed-a.png" || ls[1].SHA1 != fileSHA1(t, b) {
		t.Fatalf("lines %+v", ls)
	}
	// The watch ran the uploads: it reports them as its own.
	p.collect(t, map[string]bool{"handed-a.png": true, "handed-b.png": true}, time.Minute)
	if got := w.objectSHA1(t, "handed-a.png"); got != ls[0].SHA1 {
		t.Fatalf("bucket holds %s, want %s", got, ls[0].SHA1)
	}

	code, out, errs, _ = runBin(t, nil, w.env, "status", "--json")
	var st struct {
		Running  bool
		Role     string
		Uploaded int64
		Watching int
	}
	if err := json.Unmarshal([]byte(out), &st); code != 0 || err != nil || !st.Running || st.Role != "watch" || st.Uploaded != 2 || st.Watching != 1 {
		t.Fatalf("status: exit %d, %q (%v), %s", code, out, err, errs)
	}
	code, out, errs, _ = runBin(t, nil, w.env, "status")
	if first, _, _ := strings.Cut(out, "\n"); code != 0 || !strings.HasPrefix(first, "running: upshot watch (process ") || !strings.HasSuffix(first, "), watching 1 folder") {
		t.Fatalf("status: exit %d, %q, %s", code, out, errs)
	}

	// A file that cannot be read: exit 1, its name and the reason, and
	// the good one still uploaded.
	missing := filepath.Join(t.TempDir(), "gone.png")
	c := tempFile(t, "handed-c.png", 700)
	code, out, errs, _ = runBin(t, nil, w.env, "upload", "--config", w.config, "--no-clipboard", missing, c)
	if code != 1 || !strings.Contains(errs, missing) || !strings.HasSuffix(strings.TrimSpace(out), "/handed-c.png") {
		t.Fatalf("exit %d, out %q, err %q", code, out, errs)
	}
	p.stop(t)

	code, out, _, _ = runBin(t, nil, w.env, "status")
	if code != 0 || !strings.HasPrefix(out, "not running") {
		t.Fatalf("status after the watch: exit %d, %q", code, out)
	}
	if h := historyFiles(t, w); !h["handed-a.png"] || !h["handed-b.png"] || !h["handed-c.png"] {
		t.Fatalf("history %v", h)
	}
}

// TestUploadsShareOneQueue: uploads started at once from several processes
// all finish, each file once, whichever of them runs the queue.
func TestUploadsShareOneQueue(t *testing.T) {
	w := newWatchEnv(t, "")
	const procs, each = 4, 5
	var wg sync.WaitGroup
	outs := make([]string, procs)
	for i := range procs {
		var files []string
		for j := range each {
			files = append(files, tempFile(t, fmt.Sprintf("p%d-%d.png", i, j), 2000+i*100+j))
		}
		wg.Go(func() {
			cmd := exec.Command(upshotBin, append([]string{"upload", "--config", w.config, "--json", "--no-clipboard"}, files...)...)
			cmd.Env = append(os.Environ(), w.env...)
			var errb strings.Builder
			cmd.Stderr = &errb
			out, err := cmd.Output()
			if err != nil {
				t.Errorf("process %d: %v: %s", i, err, errb.String())
			}
			outs[i] = string(out)
		})
	}
	wg.Wait()
	for i, out := range outs {
		ls := uploadLines(t, out)
		if len(ls) != each {
			t.Fatalf("process %d printed %d lines: %q", i, len(ls), out)
		}
		for j, l := range ls {
			if want := fmt.Sprintf("p%d-%d.png", i, j); l.Key != want || l.SHA1 != w.objectSHA1(t, want) {
				t.Fatalf("process %d line %d: %+v", i, j, l)
			}
		}
	}
	for key, n := range successfulPuts(w.proxy) {
		if n != 1 {
			t.Fatalf("%s written %d times", key, n)
		}
	}
	if h := historyFiles(t, w); len(h) != procs*each {
		t.Fatalf("history has %d files, want %d", len(h), procs*each)
	}
}

// TestWatchFollowsConfig: settings changed under a running watch are used
// at once; the upload that failed for the old ones goes through, and
// settings that cannot be used are reported while the old ones stay.
func TestWatchFollowsConfig(t *testing.T) {
	w := newWatchEnv(t, "")
	good, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	wrong := strings.Replace(string(good), "bucket = ", "bucket = \"no-such-bucket\"\n#", 1)
	if err := os.WriteFile(w.config, []byte(wrong), 0o644); err != nil {
		t.Fatal(err)
	}
	p := w.start(t, w.dir)
	if err := os.WriteFile(filepath.Join(w.dir, "while-wrong.png"), []byte("picture taken while the bucket was wrong"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.expectErr(t, "while-wrong.png", "no-such-bucket", "retrying at")

	if err := os.WriteFile(w.config, []byte("[target\nbroken"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.expectErr(t, "settings changed but cannot be used", "previous ones stay")

	// Saved the way editors save: a new file renamed over the old one.
	if err := os.WriteFile(w.config+".new", good, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(w.config+".new", w.config); err != nil {
		t.Fatal(err)
	}
	p.expectErr(t, "settings reloaded from", w.config)
	got := p.collect(t, map[string]bool{"while-wrong.png": true}, time.Minute)
	if sha := w.objectSHA1(t, "while-wrong.png"); sha != got["while-wrong.png"].SHA1 {
		t.Fatalf("bucket holds %s, reported %s", sha, got["while-wrong.png"].SHA1)
	}
	p.stop(t)
}

// TestDeleteCommand: delete asks (or takes --yes), removes the object,
// marks the history, and refuses keys Upshot did not upload unless forced.
func TestDeleteCommand(t *testing.T) {
	e := newCLIEnv(t, "")
	file := tempFile(t, "d.png", 1234)
	if code, _, errs := upshot(t, "upload", "--config", e.config, "--no-clipboard", file); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs, _ := runBin(t, nil, nil, "delete", "--config", e.config, "shots/d.png"); code != 2 || !strings.Contains(errs, "--yes") {
		t.Fatalf("without a terminal or --yes: exit %d, %q", code, errs)
	}
	if code, _, errs := upshot(t, "delete", "--config", e.config, "--yes", "shots/other.png"); code != 2 || !strings.Contains(errs, "not in Upshot's history") {
		t.Fatalf("unknown key: exit %d, %q", code, errs)
	}
	code, out, errs := upshot(t, "delete", "--config", e.config, "--yes", "shots/d.png")
	if code != 0 || out != "deleted shots/d.png\n" {
		t.Fatalf("exit %d, out %q, err %q", code, out, errs)
	}
	if _, err := e.srv.Client().HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: &e.srv.Bucket, Key: aws.String("shots/d.png")}); err == nil {
		t.Fatal("the object is still in the bucket")
	}
	_, out, _ = upshot(t, "history", "--json")
	if out != "" {
		t.Fatalf("history without --deleted lists %q", out)
	}
	_, out, _ = upshot(t, "history", "--json", "--deleted")
	if !strings.Contains(out, `"deleted":true`) || !strings.Contains(out, `"key":"shots/d.png"`) {
		t.Fatalf("history --deleted: %q", out)
	}
	// A file uploaded again after its delete is a new upload, not a reuse.
	code, out, errs = upshot(t, "upload", "--config", e.config, "--json", "--no-clipboard", file)
	if code != 0 || strings.Contains(out, `"deduplicated":true`) {
		t.Fatalf("upload after delete: exit %d, %q, %q", code, out, errs)
	}
	if code, _, errs := upshot(t, "delete", "--config", e.config, "--yes", "--force", "shots/never.png"); code != 0 {
		t.Fatalf("--force on an unknown key: exit %d, %q", code, errs)
	}
}

// TestWatchLinkCheckedAfterward: the link goes out as soon as the server
// has the file; a link that then turns out broken is reported afterwards,
// on stderr, in a later JSON line and in the history.
func TestWatchLinkCheckedAfterward(t *testing.T) {
	w := newWatchEnv(t, "")
	body, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing listens on port 9: the custom domain is down.
	withCDN := strings.Replace(string(body), "[transfer]", "url_template = \"http://127.0.0.1:9/{key}\"\n[transfer]", 1)
	if err := os.WriteFile(w.config, []byte(withCDN), 0o644); err != nil {
		t.Fatal(err)
	}
	p := w.start(t, w.dir)
	if err := os.WriteFile(filepath.Join(w.dir, "cdn-down.png"), []byte("a picture behind a broken domain"), 0o644); err != nil {
		t.Fatal(err)
	}
	var first, later watchLine
	for _, l := range []*watchLine{&first, &later} {
		select {
		case *l = <-p.lines:
		case <-p.done:
			t.Fatal("upshot watch exited")
		case <-time.After(5 * time.Minute): // a hang guard
			t.Fatal("no line")
		}
	}
	if first.Event != "" || first.Link != "http://127.0.0.1:9/cdn-down.png" || first.LinkStatus != "" {
		t.Fatalf("first line %+v", first)
	}
	if later.Event != "link broken" || later.Key != "cdn-down.png" || !strings.HasPrefix(later.LinkStatus, "link broken") {
		t.Fatalf("later line %+v", later)
	}
	p.expectErr(t, "cdn-down.png: uploaded, but link broken")
	p.stop(t)
	_, out, _, _ := runBin(t, nil, w.env, "history", "--json")
	if !strings.Contains(out, `"link_status":"link broken`) {
		t.Fatalf("history %q", out)
	}
}
