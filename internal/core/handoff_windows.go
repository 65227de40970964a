//go:build windows

package core

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"

	"upshot/internal/winpipe"
)

// pipeName is the named pipe of dataDir: one per data folder, named by a
// hash of its path, which Windows compares without case.
func pipeName(dataDir string) string {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		abs = dataDir
	}
	sum := sha256.Sum256([]byte(strings.ToLower(filepath.Clean(abs))))
	return fmt.Sprintf(`\\.\pipe\upshot-%x`, sum[:12])
}

// listenHandoff listens on dataDir's named pipe, open to this user only,
// and returns it with its name.
func listenHandoff(dataDir string) (net.Listener, string, error) {
	name := pipeName(dataDir)
	ln, err := winpipe.Listen(name)
	if err != nil {
		return nil, "", fmt.Errorf("listen for other Upshot commands on %s: %w", name, err)
	}
	return ln, name, nil
}

// dialHandoff connects to dataDir's named pipe; ErrNotRunning when there
// is none.
func dialHandoff(ctx context.Context, dataDir string) (net.Conn, error) {
	name := pipeName(dataDir)
	conn, err := winpipe.Dial(ctx, name)
	if errors.Is(err, winpipe.ErrNotFound) {
		return nil, ErrNotRunning
	}
	if err != nil {
		return nil, fmt.Errorf("reach the running Upshot on %s: %w", name, err)
	}
	return conn, nil
}
