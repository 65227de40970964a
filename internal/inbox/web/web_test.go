package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestWasmIsFresh rebuilds upshot.wasm as scripts/build-wasm.sh does and
// checks that the committed one (gzipped), and the committed wasm_exec.js,
// are what the current code and Go make.
func TestWasmIsFresh(t *testing.T) {
	if testing.Short() {
		t.Skip("rebuilding the wasm takes a while")
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "upshot.wasm")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", out, "./internal/inbox/wasm")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the wasm: %v\n%s", err, msg)
	}
	goroot, err := exec.CommandContext(t.Context(), "go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	for name, fresh := range map[string]string{
		"upshot.wasm":  out,
		"wasm_exec.js": filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"),
	} {
		want, err := os.ReadFile(fresh)
		if err != nil {
			t.Fatal(err)
		}
		got, err := fs.ReadFile(Files, name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("the committed %s is stale: run scripts/build-wasm.sh (or go generate ./internal/inbox/web) and commit the result", name)
		}
	}
}

// TestFiles checks that every file of the contract is embedded and that
// the page needs nothing its CSP forbids: no inline script, style or event
// handler, nothing from another origin.
func TestFiles(t *testing.T) {
	for _, name := range []string{"index.html", "app.js", "app.css", "worker.js", "wasm_exec.js", "upshot.wasm"} {
		data, err := fs.ReadFile(Files, name)
		if err != nil {
			t.Errorf("%s is not embedded: %v", name, err)
			continue
		}
		if len(data) == 0 {
			t.Errorf("%s is empty", name)
		}
	}
	html, err := fs.ReadFile(Files, "index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct{ what, re string }{
		{"an inline script", `<script(\s[^>]*)?>\s*[^<\s]`},
		{"a style element", `<style[\s>]`},
		{"a style attribute", `\sstyle\s*=`},
		{"an event handler attribute", `\son[a-z]+\s*=`},
		{"a javascript: URL", `javascript:`},
		{"a resource from another origin", `(?:src|href)\s*=\s*"(?:https?:)?//`},
	} {
		if m := regexp.MustCompile(`(?i)` + bad.re).Find(html); m != nil {
			t.Errorf("index.html has %s, which the CSP blocks: %q", bad.what, m)
		}
	}
	for _, tag := range regexp.MustCompile(`(?i)<script[^>]*>`).FindAll(html, -1) {
		if !regexp.MustCompile(`(?i)\ssrc="[^"/:]+\.js"`).Match(tag) {
			t.Errorf("index.html has a script that is not one of its own files: %s", tag)
		}
	}
	for _, name := range []string{"app.js", "worker.js"} {
		js, _ := fs.ReadFile(Files, name)
		if m := regexp.MustCompile(`\beval\(|new Function\(|https?://`).Find(js); m != nil {
			t.Errorf("%s uses %q, which the CSP blocks", name, m)
		}
	}
}

// TestHandlerGzip: a browser that takes gzip gets the module as embedded,
// gzipped; another gets it unpacked; both are the same module.
func TestHandlerGzip(t *testing.T) {
	want, err := fs.ReadFile(Files, "upshot.wasm")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler())
	t.Cleanup(srv.Close)
	for _, enc := range []string{"gzip, deflate, br", "identity", "gzip;q=0", "gzip; q=0.000"} {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/upshot.wasm", nil)
		req.Header.Set("Accept-Encoding", enc) // set by hand: Go's client then leaves the body as sent
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		gz := resp.Header.Get("Content-Encoding") == "gzip"
		if gz != (enc == "gzip, deflate, br") || resp.Header.Get("Content-Type") != "application/wasm" {
			t.Fatalf("Accept-Encoding %q: %d, Content-Encoding %q, Content-Type %q", enc, resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.Header.Get("Content-Type"))
		}
		if gz {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(body, want) {
			t.Fatalf("Accept-Encoding %q: %d bytes, not the module's %d", enc, len(body), len(want))
		}
	}
	if _, err := Files.Open("upshot.wasm.gz"); err == nil {
		t.Fatal("the gzipped copy is visible in Files")
	}
}
