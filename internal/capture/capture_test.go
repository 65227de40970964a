package capture

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": Region, "region": Region, "Window": Window, " screen ": Screen} {
		got, err := ParseMode(in)
		if err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := ParseMode("desktop")
	if err == nil {
		t.Fatal(`ParseMode("desktop") succeeded`)
	}
	for _, m := range []string{"region", "window", "screen", `"desktop"`} {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("ParseMode's error %q does not mention %s", err, m)
		}
	}
}

func TestName(t *testing.T) {
	at := time.Date(2026, 11, 29, 9, 18, 5, 999, time.FixedZone("CET", 3600))
	if got, want := Name(at), "Screenshot 2026-11-29 at 09.18.05.png"; got != want {
		t.Errorf("Name = %q, want %q", got, want)
	}
}

func TestUnavailableError(t *testing.T) {
	var err error = &UnavailableError{Reason: "no display"}
	if err.Error() != "no display" {
		t.Errorf("Error() = %q", err)
	}
}

// writeTemp writes a file named name into a new folder and returns its path.
func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSaveNumbersTakenNames(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.Local)
	first, err := save(dir, at, writeTemp(t, "capture.png", "one"))
	if err != nil {
		t.Fatal(err)
	}
	src := writeTemp(t, "capture.png", "two")
	second, err := save(dir, at, src)
	if err != nil {
		t.Fatal(err)
	}
	third, err := save(dir, at, writeTemp(t, "shot.JPG", "three"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Screenshot 2026-01-02 at 03.04.05.png", "Screenshot 2026-01-02 at 03.04.05 (2).png", "Screenshot 2026-01-02 at 03.04.05.jpg"}
	for i, p := range []string{first, second, third} {
		if filepath.Base(p) != want[i] || filepath.Dir(p) != dir {
			t.Errorf("save %d: %s, want %s in %s", i+1, p, want[i], dir)
		}
	}
	if b, err := os.ReadFile(second); err != nil || string(b) != "two" {
		t.Errorf("second file holds %q, %v", b, err)
	}
	if _, err := os.Stat(src); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the source is still there: %v", err)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(second)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("saved file's mode: %v, %v; want 0600", fi.Mode(), err)
		}
	}
}

func TestSaveConcurrentNamesDiffer(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.Local)
	const n = 8
	paths := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		src := writeTemp(t, "capture.png", fmt.Sprint(i))
		wg.Go(func() {
			p, err := save(dir, at, src)
			if err != nil {
				t.Error(err)
			}
			paths[i] = p
		})
	}
	wg.Wait()
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil || string(b) != fmt.Sprint(i) {
			t.Errorf("save %d: %s holds %q, %v", i, p, b, err)
		}
	}
	slices.Sort(paths)
	if len(slices.Compact(paths)) != n {
		t.Errorf("names shared: %q", paths)
	}
}
