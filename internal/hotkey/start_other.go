//go:build !linux && !windows

package hotkey

import (
	"context"
	"runtime"
)

// start: no backend on this system.
func start(ctx context.Context, keys []planned, pressed func(string)) (*Set, error) {
	name := runtime.GOOS
	if name == "darwin" {
		name = "macOS"
	}
	return nil, unsupported(name, nil)
}
