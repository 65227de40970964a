//go:build !linux && !windows

package hotkey

import (
	"context"
	"runtime"
)

// start: no backend on this system.
func start(ctx context.Context, keys []planned, pressed func(string)) (*Set, error) {
	return nil, noBackend(runtime.GOOS)
}
