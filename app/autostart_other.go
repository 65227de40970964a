//go:build !linux && !windows

package app

import (
	"errors"
	"fmt"
	"runtime"
)

// autostartSupported says "Open at login" works on this system: not yet
// outside Linux and Windows.
const autostartSupported = false

func autostartEnabled() bool { return false }

func setAutostart(bool) error {
	return fmt.Errorf("open at login is not supported on %s yet: add Upshot to your login items by hand: %w", runtime.GOOS, errors.ErrUnsupported)
}
