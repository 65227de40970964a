//go:build !(linux || freebsd || netbsd || openbsd || dragonfly || darwin || windows)

package capture

import (
	"context"
	"runtime"
)

func pick(context.Context, Mode) (backend, error) {
	return nil, &UnavailableError{Reason: "screen capture is not supported on " + runtime.GOOS}
}
