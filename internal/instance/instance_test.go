package instance

import (
	"errors"
	"os"
	"os/exec"
	"testing"
)

const childEnv = "UPSHOT_INSTANCE_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		if _, err := Acquire(dir); errors.Is(err, ErrRunning) {
			os.Exit(3)
		} else if err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child tries the lock from another process: 0 took it, 3 found it held.
func child(t *testing.T, dir string) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

func TestOneAtATime(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	if code := child(t, dir); code != 3 {
		t.Fatalf("second process: exit %d, want 3 (lock held)", code)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if code := child(t, dir); code != 0 {
		t.Fatalf("after release: exit %d, want 0", code)
	}
}
