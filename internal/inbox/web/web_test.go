package web

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestWasmIsFresh rebuilds upshot.wasm as scripts/build-wasm.sh does and
// checks that the committed one, and the committed wasm_exec.js, are what
// the current code and Go make.
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
