package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	pngenc "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"upshot/uploader"
	"upshot/uploader/s3test"
)

// upshotBin is the real binary, built once by TestMain for the tests that
// need a separate process (peak memory, another user, exit status).
var upshotBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "upshot-bin-")
	if err != nil {
		panic(err)
	}
	upshotBin = filepath.Join(dir, "upshot")
	build := exec.Command("go", "build", "-o", upshotBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building upshot:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cliEnv is a server and a config file pointing at it.
type cliEnv struct {
	srv    *s3test.Server
	config string
	data   string
}

// newCLIEnv writes a config for endpoint (default: the server) with the
// credentials in the environment, as most users keep them.
func newCLIEnv(t *testing.T, extra string) *cliEnv {
	t.Helper()
	srv := s3test.Start(t, s3test.Options{})
	e := &cliEnv{srv: srv, data: t.TempDir()}
	t.Setenv("B2_APPLICATION_KEY_ID", srv.AccessKey)
	t.Setenv("B2_APPLICATION_KEY", srv.SecretKey)
	t.Setenv("UPSHOT_DATA_DIR", e.data)
	body := fmt.Sprintf("[target]\nendpoint = %q\nbucket = %q\npath_template = \"shots/{name}{ext}\"\n%s", srv.Endpoint, srv.Bucket, extra)
	e.config = filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(e.config, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

// upshot runs the CLI in-process.
func upshot(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(t.Context(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func tempFile(t *testing.T, name string, size int) string {
	t.Helper()
	b := make([]byte, size)
	rand.Read(b)
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUploadJSON(t *testing.T) {
	e := newCLIEnv(t, "")
	a, b := tempFile(t, "a.png", 1000), tempFile(t, "b b.png", 2000)
	code, out, errs := upshot(t, "upload", "--config", e.config, "--json", "--no-clipboard", a, b)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %q", out)
	}
	for i, want := range []struct{ file, key string }{{a, "shots/a.png"}, {b, "shots/b b.png"}} {
		var got map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &got); err != nil {
			t.Fatal(err)
		}
		for _, field := range []string{"file", "key", "url", "link", "sha1", "size", "deduplicated"} {
			if _, ok := got[field]; !ok {
				t.Fatalf("line %d lacks %q: %s", i, field, lines[i])
			}
		}
		if got["file"] != want.file || got["key"] != want.key || got["deduplicated"] != false || got["link"] != got["url"] {
			t.Fatalf("line %d = %s, want file %s key %s", i, lines[i], want.file, want.key)
		}
	}
	// Again: the same links, deduplicated.
	_, out2, _ := upshot(t, "upload", "--config", e.config, "--json", "--no-clipboard", a)
	if !strings.Contains(out2, `"deduplicated":true`) || !strings.Contains(out2, `"key":"shots/a.png"`) {
		t.Fatalf("re-upload: %s", out2)
	}
}

func TestUploadFormatsAndFlagOrder(t *testing.T) {
	e := newCLIEnv(t, "[output]\nformat = \"html\"\n")
	png := filepath.Join(t.TempDir(), "pic.png")
	var img bytes.Buffer
	if err := pngenc.Encode(&img, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(png, img.Bytes(), 0o644)
	url := e.srv.Endpoint + "/" + e.srv.Bucket + "/shots/pic.png"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"upload", "--config", e.config, "--no-clipboard", png}, `<img src="` + url + `" alt="pic.png">`},
		{[]string{"upload", png, "--format", "markdown", "--config", e.config, "--no-clipboard"}, "![pic.png](" + url + ")"},
		{[]string{"upload", "--config", e.config, "--no-clipboard", "--format=bbcode", "--", png}, "[img]" + url + "[/img]"},
		{[]string{"upload", "--config", e.config, "--no-clipboard", "--format", "url", png}, url},
	} {
		code, out, errs := upshot(t, c.args...)
		if code != 0 || strings.TrimSpace(out) != c.want {
			t.Errorf("%v: exit %d, out %q (stderr %q), want %q", c.args[1:], code, out, errs, c.want)
		}
	}
}

func TestExitCodes(t *testing.T) {
	e := newCLIEnv(t, "")
	good := tempFile(t, "good.png", 100)
	missing := filepath.Join(t.TempDir(), "missing.png")

	writeCfg := func(body string) string {
		p := filepath.Join(t.TempDir(), "c.toml")
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	closedPort := func() string { // a loopback port with nothing listening
		srv := s3test.Start(t, s3test.Options{})
		ep := srv.Endpoint
		srv.Close()
		return ep
	}()

	for _, c := range []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		errHas []string
		outHas string
	}{
		{"no files", nil, []string{"upload", "--config", e.config}, 2, []string{"name at least one file"}, ""},
		{"bad flag", nil, []string{"upload", "--jsn", good}, 2, []string{"-jsn"}, ""},
		{"unknown command", nil, []string{"uplod"}, 2, []string{`unknown command "uplod"`}, ""},
		{"plain http to a remote host", nil, []string{"upload", "--config", writeCfg("[target]\nendpoint = \"http://s3.example.com\"\nbucket = \"abc\"\n"), good}, 2,
			[]string{"target.endpoint", "plain http", "https://"}, ""},
		{"wrong key", map[string]string{"B2_APPLICATION_KEY": "not-the-key"}, []string{"upload", "--config", e.config, "--no-clipboard", good}, 2,
			[]string{"rejected the application key", "B2_APPLICATION_KEY"}, ""},
		{"missing bucket", nil, []string{"upload", "--config", writeCfg(fmt.Sprintf("[target]\nendpoint = %q\nbucket = \"nope-bucket\"\n", e.srv.Endpoint)), "--no-clipboard", good}, 2,
			[]string{`bucket "nope-bucket" does not exist`, "target.bucket"}, ""},
		{"server down", nil, []string{"upload", "--config", writeCfg(fmt.Sprintf("[target]\nendpoint = %q\nbucket = \"abc\"\n", closedPort)), "--no-clipboard", good}, 1,
			[]string{"cannot reach " + closedPort, "target.endpoint"}, ""},
		{"one missing file", nil, []string{"upload", "--config", e.config, "--no-clipboard", missing, good}, 1,
			[]string{missing + ": no such file"}, "shots/good.png"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			code, out, errs := upshot(t, c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, c.code, errs)
			}
			for _, want := range c.errHas {
				if !strings.Contains(errs, want) {
					t.Errorf("stderr %q lacks %q", errs, want)
				}
			}
			if c.code != 0 && c.name != "bad flag" && c.name != "unknown command" && strings.Count(strings.TrimSpace(errs), "\n") > 1 {
				t.Errorf("want a short reason, got %d lines: %s", strings.Count(errs, "\n"), errs)
			}
			if !strings.Contains(out, c.outHas) {
				t.Errorf("stdout %q lacks %q", out, c.outHas)
			}
			if strings.Contains(out+errs, e.srv.SecretKey) {
				t.Error("output shows the secret")
			}
		})
	}
}

func TestCheckCommand(t *testing.T) {
	e := newCLIEnv(t, "")
	code, out, errs := upshot(t, "check", "--config", e.config)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	for _, want := range []string{"endpoint", e.srv.Endpoint, "write", "confirmed", "If-None-Match", "deleted", "shots/Screenshot"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	t.Setenv("B2_APPLICATION_KEY", "wrong")
	code, out, _ = upshot(t, "check", "--config", e.config, "--json")
	if code != 1 {
		t.Fatalf("check with a wrong key: exit %d", code)
	}
	var failed bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var f struct{ Level, Detail string }
		json.Unmarshal(sc.Bytes(), &f)
		failed = failed || f.Level == "error" && strings.Contains(f.Detail, "rejected the application key")
	}
	if !failed {
		t.Fatalf("check --json with a wrong key: %s", out)
	}
}

// TestCheckPhoneInbox: check warns while the bucket's CORS rules keep the
// inbox's page from uploading, says how to fix it, and is content once the
// rule is there.
func TestCheckPhoneInbox(t *testing.T) {
	const origin = "http://192.168.1.10:8765"
	e := newCLIEnv(t, "[inbox]\nlisten = \"192.168.1.10:8765\"\n")
	code, out, errs := upshot(t, "check", "--config", e.config)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	t.Logf("upshot check:\n%s", out)
	want := "warning  phone inbox   phones cannot upload straight to the bucket from " + origin + " (the bucket has no CORS rules)"
	if !strings.Contains(out, want) || !strings.Contains(out, "run upshot inbox --setup-cors to allow it") {
		t.Fatalf("check output lacks the phone inbox warning:\n%s", out)
	}

	cfg, err := uploader.Load(e.config)
	if err != nil {
		t.Fatal(err)
	}
	up, err := uploader.New(cfg, uploader.Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := up.SetInboxCORS(t.Context(), []string{origin}); err != nil {
		t.Fatal(err)
	}
	code, out, errs = upshot(t, "check", "--config", e.config, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	var found bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var f struct{ Level, Topic, Detail string }
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		if f.Topic == "phone inbox" {
			found = true
			if f.Level != "ok" || !strings.Contains(f.Detail, "let a phone upload straight to the bucket from "+origin) {
				t.Fatalf("with the rule: %+v", f)
			}
		}
	}
	if !found {
		t.Fatalf("no phone inbox finding:\n%s", out)
	}
}

func TestParseInterleaved(t *testing.T) {
	fs := newFlags("x", &bytes.Buffer{})
	j := fs.Bool("json", false, "")
	f := fs.String("format", "", "")
	pos, err := parseInterleaved(fs, []string{"a", "--json", "b", "--format", "md", "--", "--c"})
	if err != nil || !*j || *f != "md" || strings.Join(pos, ",") != "a,b,--c" {
		t.Fatalf("pos %q json %v format %q err %v", pos, *j, *f, err)
	}
}

// TestAboutFile: a failure is led by its file's name once, whether or not
// the error names the file itself, and takes one line.
func TestAboutFile(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{errors.New(`C:\shots\held.png: another program has the file open and locked`), `C:\shots\held.png: another program has the file open and locked`},
		{errors.New("the server did not answer\ntry again"), `C:\shots\held.png: the server did not answer; try again`},
	} {
		if got := aboutFile(`C:\shots\held.png`, c.err); got != c.want {
			t.Errorf("aboutFile(%q) = %q, want %q", c.err, got, c.want)
		}
	}
}

func TestShareCommand(t *testing.T) {
	e := newCLIEnv(t, "")
	file := tempFile(t, "s.png", 100)
	if code, _, errs := upshot(t, "upload", "--config", e.config, "--no-clipboard", file); code != 0 {
		t.Fatal(errs)
	}
	code, out, errs := upshot(t, "share", "--config", e.config, "--no-clipboard", "--expires", "2h", "shots/s.png")
	if code != 0 || !strings.Contains(out, "X-Amz-Expires=7200") || !strings.Contains(out, "/shots/s.png?") {
		t.Fatalf("exit %d, out %q, err %q", code, out, errs)
	}
	code, _, errs = upshot(t, "share", "--config", e.config, "--expires", "200h", "shots/s.png")
	if code != 2 || !strings.Contains(errs, "7 days") {
		t.Fatalf("200h: exit %d, %q", code, errs)
	}
	code, _, errs = upshot(t, "share", "--config", e.config, "--no-clipboard", "shots/missing.png")
	if code != 1 || !strings.Contains(errs, "shots/missing.png is not in bucket") {
		t.Fatalf("missing key: exit %d, %q", code, errs)
	}
}

func TestCDNSetupCommand(t *testing.T) {
	e := newCLIEnv(t, "url_template = \"https://img.example.com/{key}\"\ndownload_url = \"https://f004.backblazeb2.com\"\n")
	code, out, errs := upshot(t, "cdn-setup", "--config", e.config)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"Type: CNAME   Name: img.example.com   Target: f004.backblazeb2.com",
		`(http.host eq "img.example.com")`,
		`concat("/file/` + e.srv.Bucket + `", http.request.uri.path)`,
		"Cache-Control: public, max-age=31536000, immutable",
		"https://img.example.com/shots/Screenshot%202026-11-22%20at%2010.15.00.png",
		"https://f004.backblazeb2.com/file/" + e.srv.Bucket + "/shots/Screenshot%202026-11-22%20at%2010.15.00.png",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("cdn-setup output lacks %q:\n%s", want, out)
		}
	}
	e2 := newCLIEnv(t, "")
	if code, _, errs := upshot(t, "cdn-setup", "--config", e2.config); code != 1 || !strings.Contains(errs, "--domain") {
		t.Fatalf("without a domain: exit %d, %q", code, errs)
	}
}

// TestWatchMissingFolderExits: a folder that does not exist is a usage
// error, and watch ends at once instead of waiting for a signal.
func TestWatchMissingFolderExits(t *testing.T) {
	e := newCLIEnv(t, "")
	missing := filepath.Join(t.TempDir(), "does-not-exist")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"watch", "--config", e.config, "--no-clipboard", missing}, &out, &errb)
	if ctx.Err() != nil {
		t.Fatalf("watch on a missing folder was still running after a minute (it ended only when its context did); stderr %q", errb.String())
	}
	if code != exitUsage || !strings.Contains(errb.String(), missing) {
		t.Fatalf("exit %d, stderr %q; want 2 naming the folder", code, errb.String())
	}
}

// TestLinksNoWindowLibraries: the command line stays free of the window
// program's libraries (Fyne, and the hotkeys' X11 and Windows code).
func TestLinksNoWindowLibraries(t *testing.T) {
	out, err := exec.CommandContext(t.Context(), "go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "fyne.io/") || strings.HasPrefix(pkg, "github.com/jezek/xgb") || pkg == "upshot/internal/hotkey" || pkg == "upshot/app" {
			t.Errorf("upshot links %s", pkg)
		}
	}
}
