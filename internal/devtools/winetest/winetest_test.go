package winetest

import (
	"os"
	"strings"
	"testing"
)

// TestStart: a Go program built for Windows starts in a new prefix (which
// it would not without the shim) and sees the prefix's profile.
func TestStart(t *testing.T) {
	w := Start(t)
	exe := Build(t, "upshot/cmd/upshot", false, "-X main.version=9.8.7")
	out, errs, code := w.Run(t, nil, exe, "version")
	if code != 0 || strings.TrimSpace(out) != "upshot 9.8.7" {
		t.Fatalf("upshot.exe version: exit %d, %q %q", code, out, errs)
	}
	if fi, err := os.Stat(w.Host(w.AppData())); err != nil || !fi.IsDir() {
		t.Fatalf("%%APPDATA%% %s: %v", w.AppData(), err)
	}
	if got := Path("/tmp/a b/c.png"); got != `Z:\tmp\a b\c.png` {
		t.Fatalf("Path: %q", got)
	}
}
