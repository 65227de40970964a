package clipboard

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakePasteboard puts stand-ins for macOS's pbcopy and pbpaste, sharing
// one file as the pasteboard, in a folder that becomes PATH. pbcopy
// records the LANG it ran with in the returned file.
func fakePasteboard(t *testing.T, withPaste bool) (lang string) {
	t.Helper()
	cat, err := exec.LookPath("cat")
	if err != nil {
		t.Fatalf("cat: %v", err)
	}
	bin, state := t.TempDir(), t.TempDir()
	board, lang := filepath.Join(state, "board"), filepath.Join(state, "lang")
	scripts := map[string]string{"pbcopy": fmt.Sprintf("printf '%%s' \"$LANG\" > '%s'\nexec '%s' > '%s'", lang, cat, board)}
	if withPaste {
		scripts["pbpaste"] = fmt.Sprintf("exec '%s' '%s'", cat, board)
	}
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin)
	return lang
}

// Without cgo on macOS the clipboard is pbcopy and pbpaste, text only,
// run in a UTF-8 locale.
func TestPasteboardTools(t *testing.T) {
	t.Setenv("LANG", "C")
	langFile := fakePasteboard(t, true)
	b := choosePasteboard()
	if b.name() != "pbcopy" {
		t.Fatalf("backend %q, want pbcopy", b.name())
	}
	const text = "Ünïcode ✓ 📸\nhttps://img.example.com/a b"
	if err := b.writeText(t.Context(), text, true); err != nil {
		t.Fatal(err)
	}
	if lang, err := os.ReadFile(langFile); err != nil || string(lang) != "en_US.UTF-8" {
		t.Errorf("pbcopy ran with LANG=%q (%v), want en_US.UTF-8", lang, err)
	}
	if got, err := b.readText(t.Context()); err != nil || got != text {
		t.Errorf("readText = %q, %v; want %q", got, err, text)
	}
	if _, err := b.readImage(t.Context()); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("readImage: %v, want ErrUnsupported", err)
	}
	if err := b.writeImage(t.Context(), testPNG(t), false); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("writeImage: %v, want ErrUnsupported", err)
	}
}

func TestPasteboardToolsMissing(t *testing.T) {
	fakePasteboard(t, false) // pbcopy alone
	b := choosePasteboard()
	err := b.writeText(t.Context(), "x", false)
	if b.name() != "none" || !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "pbcopy/pbpaste not found") {
		t.Fatalf("backend %q, writeText: %v; want none, ErrUnavailable naming pbcopy/pbpaste", b.name(), err)
	}
}
