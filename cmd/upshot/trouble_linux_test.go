package main

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// dataDir is the watch environment's data folder.
func (w *watchEnv) dataDir() string {
	for _, kv := range w.env {
		if v, ok := strings.CutPrefix(kv, "UPSHOT_DATA_DIR="); ok {
			return v
		}
	}
	return ""
}

// TestWatchFullDisk: the data folder's disk fills up under a running watch.
// Files saved meanwhile are not lost: watch says what is wrong and what to
// do, and once there is room again every one of them uploads, once.
func TestWatchFullDisk(t *testing.T) {
	w := newWatchEnv(t, "")
	data := w.dataDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", data).CombinedOutput(); err != nil {
		t.Fatalf("mount a small tmpfs for the data folder (make test runs as root): %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", data).Run() })
	p := w.start(t, w.dir)
	filler := filepath.Join(data, "filler")
	fillDisk(t, filler)
	want := writeBurst(t, w.dir, "full", 40)
	p.expectErr(t, "is full", "free some space")
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	p.expectErr(t, "work again")
	p.collect(t, want, 2*time.Minute)
	for name, n := range successfulPuts(w.proxy) {
		if n > 1 {
			t.Fatalf("%s was uploaded %d times", name, n)
		}
	}
	p.stop(t)
}

// fillDisk writes path until the disk has no room left.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 64<<10)
	for {
		if _, err := f.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	// Small writes fill what the last large one left.
	for range 64 {
		if _, err := f.Write(block[:512]); err != nil {
			break
		}
	}
}

// TestWatchLockedDatabase: another program holds the database locked.
// watch says so, and uploads what came meanwhile once the lock is gone.
func TestWatchLockedDatabase(t *testing.T) {
	w := newWatchEnv(t, "")
	p := w.start(t, w.dir)
	// Wait for watch's own writes to finish before taking the lock.
	db, err := sql.Open("sqlite", filepath.Join(w.dataDir(), "upshot.db")+"?_pragma=busy_timeout(60000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	want := writeBurst(t, w.dir, "locked", 5)
	p.expectErr(t, "another program holds", "locked")
	if _, err := conn.ExecContext(context.WithoutCancel(t.Context()), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	p.expectErr(t, "work again")
	p.collect(t, want, 2*time.Minute)
	p.stop(t)
}

// TestWatchCorruptDatabase: a damaged database stops watch at once with
// advice; moved aside, a new one is made and watching works.
func TestWatchCorruptDatabase(t *testing.T) {
	w := newWatchEnv(t, "")
	db := filepath.Join(w.dataDir(), "upshot.db")
	if err := os.WriteFile(db, []byte(strings.Repeat("this is not a database\n", 4096)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs, _ := runBin(t, nil, w.env, "watch", "--config", w.config, "--no-clipboard", w.dir)
	if code != exitFailed || !strings.Contains(errs, "damaged or not an Upshot database") || !strings.Contains(errs, "move the file aside") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if err := os.Rename(db, db+".damaged"); err != nil {
		t.Fatal(err)
	}
	p := w.start(t, w.dir)
	want := writeBurst(t, w.dir, "after", 3)
	p.collect(t, want, 2*time.Minute)
	p.stop(t)
}

// TestWatchReadOnlyDataFolder: a data folder this user cannot write is
// named with the fix, and once fixed, watching works. Root writes
// anywhere, so as root upshot runs as nobody.
func TestWatchReadOnlyDataFolder(t *testing.T) {
	w := newWatchEnv(t, "")
	data := w.dataDir()
	var cred *syscall.Credential
	fix := func() error { return os.Chmod(data, 0o755) }
	if os.Geteuid() == 0 {
		cred = &syscall.Credential{Uid: 65534, Gid: 65534}
		for _, d := range []string{w.dir, filepath.Dir(upshotBin), filepath.Dir(w.config), filepath.Dir(data)} {
			openPath(t, d)
		}
		if err := os.Chmod(w.config, 0o644); err != nil {
			t.Fatal(err)
		}
		fix = func() error { return errors.Join(os.Chown(data, 65534, 65534), os.Chmod(data, 0o755)) }
	}
	if err := os.Chmod(data, 0o555); err != nil { // not writable by the user upshot runs as
		t.Fatal(err)
	}
	code, _, errs, _ := runBin(t, cred, w.env, "watch", "--config", w.config, "--no-clipboard", w.dir)
	if code != exitFailed || !strings.Contains(errs, "cannot be written") || !strings.Contains(errs, "make it writable") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if err := fix(); err != nil {
		t.Fatal(err)
	}
	code, _, errs, _ = runBin(t, cred, w.env, "history")
	if code != exitOK {
		t.Fatalf("after the fix: history exit %d, %s", code, errs)
	}
}
