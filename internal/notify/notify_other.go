//go:build !linux && !freebsd && !openbsd && !netbsd && !dragonfly && !darwin

package notify

import (
	"context"
	"errors"
	"fmt"
	"runtime"
)

func send(context.Context, string, string) error {
	return fmt.Errorf("notify: no notifications from the command line on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
