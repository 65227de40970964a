//go:build !windows

package core

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
)

// socketPath is the hand-off socket of dataDir. Socket paths are limited
// to about 100 bytes: a longer data folder's socket goes in a private
// folder under the temporary folder instead.
func socketPath(dataDir string) (string, error) {
	p := filepath.Join(dataDir, "upshot.sock")
	if len(p) < 100 {
		return p, nil
	}
	sum := sha256.Sum256([]byte(dataDir))
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("upshot-%d-%x", os.Getuid(), sum[:8]))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("make a folder for the hand-off socket: %w", err)
	}
	return filepath.Join(dir, "upshot.sock"), nil
}

// listenHandoff listens on dataDir's socket, open to this user only, and
// returns it with its name. The caller holds the instance lock, so a
// socket file left there is a dead process's and is replaced.
func listenHandoff(dataDir string) (net.Listener, string, error) {
	path, err := socketPath(dataDir)
	if err != nil {
		return nil, "", err
	}
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, "", fmt.Errorf("listen for other Upshot commands on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, "", fmt.Errorf("make %s private: %w", path, err)
	}
	return ln, path, nil
}

// dialHandoff connects to dataDir's socket; ErrNotRunning when nobody
// listens there.
func dialHandoff(ctx context.Context, dataDir string) (net.Conn, error) {
	path, err := socketPath(dataDir)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
		return nil, ErrNotRunning
	}
	if err != nil {
		return nil, fmt.Errorf("reach the running Upshot on %s: %w", path, err)
	}
	return conn, nil
}
