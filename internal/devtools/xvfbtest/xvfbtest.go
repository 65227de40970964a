// Package xvfbtest starts a private X server (Xvfb) for tests that run a
// real program with a display: clipboard and window smoke tests.
package xvfbtest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// RequireEnv, set to 1 (as make test does), turns a missing Xvfb into a
// test failure instead of a skip.
const RequireEnv = "UPSHOT_REQUIRE_DISPLAY"

// Start runs Xvfb on a free display for the rest of the test and returns
// the DISPLAY value (":N"). Without Xvfb it skips the test, or fails it when
// RequireEnv is 1.
func Start(tb testing.TB, width, height int) string {
	tb.Helper()
	display, stop, err := StartServer(width, height)
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) && os.Getenv(RequireEnv) != "1" {
			tb.Skip(err)
		}
		tb.Fatal(err)
	}
	tb.Cleanup(stop)
	return display
}

// StartServer starts Xvfb on a free display (it picks the number itself via
// -displayfd) and returns the DISPLAY value and a function that stops it.
func StartServer(width, height int) (display string, stop func(), err error) {
	xvfb, err := exec.LookPath("Xvfb")
	if err != nil {
		return "", nil, fmt.Errorf("no Xvfb: install it (apt-get install xvfb, or run make test): %w", err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return "", nil, err
	}
	defer pr.Close()
	var xlog bytes.Buffer
	srv := exec.Command(xvfb, "-displayfd", "3", "-screen", "0", fmt.Sprintf("%dx%dx24", width, height), "-nolisten", "tcp", "-noreset")
	srv.ExtraFiles = []*os.File{pw}
	srv.Stdout, srv.Stderr = &xlog, &xlog
	srv.SysProcAttr = sysProcAttr()
	err = srv.Start()
	pw.Close()
	if err != nil {
		return "", nil, fmt.Errorf("start Xvfb: %w", err)
	}
	stop = func() {
		_ = srv.Process.Kill()
		_ = srv.Wait()
	}
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(pr).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case num := <-line:
		if num != "" {
			return ":" + num, stop, nil
		}
	case <-time.After(30 * time.Second):
	}
	stop()
	return "", nil, fmt.Errorf("the X server (Xvfb) reported no display number: %s", strings.TrimSpace(xlog.String()))
}
