// Package dbustest starts a private D-Bus session bus for tests that talk
// to real D-Bus services (or stand-ins for them) without touching the
// desktop's own bus.
package dbustest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"upshot/internal/devtools/xvfbtest"
)

// config is a session bus with no service directories: nothing on it is
// activatable, so a test sees only the names that it owns itself, whatever
// services the machine has installed.
const config = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// Start runs a private session bus (dbus-daemon) for the rest of the test
// and returns its address, the value for DBUS_SESSION_BUS_ADDRESS. Without
// dbus-daemon it skips the test, or fails it when UPSHOT_REQUIRE_DISPLAY is
// 1. Start may be called from parallel tests; each call gets its own bus.
func Start(tb testing.TB) string {
	tb.Helper()
	addr, stop, err := StartDaemon()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) && os.Getenv(xvfbtest.RequireEnv) != "1" {
			tb.Skip(err)
		}
		tb.Fatal(err)
	}
	tb.Cleanup(stop)
	return addr
}

// StartDaemon starts a private session bus and returns its address and a
// function that stops it and removes its socket.
func StartDaemon() (addr string, stop func(), err error) {
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		return "", nil, fmt.Errorf("no dbus-daemon: install it (apt-get install dbus-daemon, or run make test): %w", err)
	}
	// A short folder of its own: a socket path must fit in 108 bytes.
	dir, err := os.MkdirTemp("", "dbus")
	if err != nil {
		return "", nil, err
	}
	conf := filepath.Join(dir, "session.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, config, dir), 0o600); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	var errs bytes.Buffer
	cmd := exec.Command(daemon, "--config-file="+conf, "--nofork", "--print-address=1")
	cmd.Stderr = &errs
	cmd.SysProcAttr = sysProcAttr()
	out, err := cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("start dbus-daemon: %w", err)
	}
	stop = func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		os.RemoveAll(dir)
	}
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case addr = <-line:
		if addr != "" {
			return addr, stop, nil
		}
	case <-time.After(30 * time.Second):
	}
	stop()
	return "", nil, fmt.Errorf("dbus-daemon printed no address: %s", strings.TrimSpace(errs.String()))
}
