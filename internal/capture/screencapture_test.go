package capture

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestScreencaptureArgs(t *testing.T) {
	const f = "/tmp/x/capture.png"
	for mode, want := range map[Mode][]string{
		Screen: {"-x", f},
		Region: {"-i", "-x", f},
		Window: {"-i", "-W", "-x", f},
	} {
		if got := screencaptureArgs(mode, f); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", mode, got, want)
		}
	}
}

func TestFindScreencapture(t *testing.T) {
	notFound := func(string) (string, error) { return "", exec.ErrNotFound }
	var checked string
	got, err := findScreencapture(func(p string) bool { checked = p; return true }, notFound)
	if err != nil || got != "/usr/sbin/screencapture" || checked != "/usr/sbin/screencapture" {
		t.Errorf("with /usr/sbin/screencapture: %q, %v (checked %q)", got, err, checked)
	}

	// Elsewhere on PATH, found by exec.LookPath.
	bin := t.TempDir()
	prog := filepath.Join(bin, "screencapture")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	absent := func(string) bool { return false }
	if got, err := findScreencapture(absent, exec.LookPath); err != nil || got != prog {
		t.Errorf("on PATH: %q, %v; want %q", got, err, prog)
	}

	_, err = findScreencapture(absent, notFound)
	var ue *UnavailableError
	if !errors.As(err, &ue) || !strings.Contains(ue.Reason, "/usr/sbin/screencapture is part of macOS") {
		t.Errorf("without screencapture: %v, want an UnavailableError naming /usr/sbin/screencapture", err)
	}
}

func TestScreencaptureOutcome(t *testing.T) {
	dir := t.TempDir()
	saved := filepath.Join(dir, "saved.png")
	if err := os.WriteFile(saved, []byte("\x89PNG\r\n\x1a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.png")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.png")
	exit1 := errors.New("exit status 1")
	const denied = "could not create image from display"

	// A saved picture counts, whatever screencapture said.
	for _, mode := range []Mode{Screen, Region, Window} {
		if err := screencaptureOutcome(mode, saved, "", nil); err != nil {
			t.Errorf("%s, saved: %v", mode, err)
		}
		if err := screencaptureOutcome(mode, saved, "some warning", exit1); err != nil {
			t.Errorf("%s, saved with a complaint: %v", mode, err)
		}
	}

	// Esc in an interactive capture: no file, no words.
	for _, mode := range []Mode{Region, Window} {
		for _, file := range []string{missing, empty} {
			if err := screencaptureOutcome(mode, file, "", nil); !errors.Is(err, ErrCancelled) {
				t.Errorf("%s, %s without a word: %v, want ErrCancelled", mode, filepath.Base(file), err)
			}
			if err := screencaptureOutcome(mode, file, "", exit1); !errors.Is(err, ErrCancelled) {
				t.Errorf("%s, %s, exit 1 without a word: %v, want ErrCancelled", mode, filepath.Base(file), err)
			}
		}
	}

	// Failures: screencapture's words, its exit and the permission to give.
	cases := []struct {
		mode     Mode
		file     string
		line     string
		runErr   error
		mentions []string
	}{
		{Screen, missing, "", nil, []string{"took no screenshot"}},
		{Screen, missing, "", exit1, []string{"(exit status 1)"}},
		{Screen, empty, denied, exit1, []string{"(exit status 1): " + denied}},
		{Region, missing, denied, exit1, []string{"(exit status 1): " + denied}},
		{Window, missing, denied, nil, []string{"took no screenshot: " + denied}},
	}
	for _, c := range cases {
		err := screencaptureOutcome(c.mode, c.file, c.line, c.runErr)
		if err == nil || errors.Is(err, ErrCancelled) {
			t.Errorf("%s, %s, %q, %v: %v, want a failure", c.mode, filepath.Base(c.file), c.line, c.runErr, err)
			continue
		}
		for _, s := range append(c.mentions, "Privacy & Security → Screen Recording") {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s, %s, %q: %q does not mention %q", c.mode, filepath.Base(c.file), c.line, err, s)
			}
		}
	}
}
