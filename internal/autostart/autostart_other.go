//go:build !linux && !windows

package autostart

import (
	"errors"
	"fmt"
	"runtime"
)

// Supported says "Open at login" works on this system: not yet
// outside Linux and Windows.
const Supported = false

// Enabled reports whether Upshot opens at login: never here.
func Enabled() bool { return false }

// Set says this system is not supported.
func Set(bool, string) error {
	return fmt.Errorf("open at login is not supported on %s yet: add Upshot to your login items by hand: %w", runtime.GOOS, errors.ErrUnsupported)
}
