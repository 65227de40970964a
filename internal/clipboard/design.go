//go:build windows || (linux && cgo && !android) || (darwin && cgo && !ios)

package clipboard

import (
	"context"
	"fmt"

	design "golang.design/x/clipboard"
)

// libAvailable says golang.design/x/clipboard is built in: on Windows
// always, on Linux and macOS with cgo only (without it, its calls panic).
const libAvailable = true

func libInit() error { return design.Init() }

func (f format) lib() design.Format {
	if f == fmtImage {
		return design.FmtImage
	}
	return design.FmtText
}

// libWrite calls design.Write, which returns a channel that closes when
// another program takes the clipboard. It must only run after libInit
// succeeded. The call runs in its own goroutine so that ctx and libTimeout
// bound the wait; a call that never returns is left behind.
func libWrite(ctx context.Context, f format, data []byte) (<-chan struct{}, error) {
	type result struct {
		changed <-chan struct{}
		err     error
	}
	res := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				res <- result{err: fmt.Errorf("golang.design/x/clipboard: Write(%s) panicked: %v", f, r)}
			}
		}()
		ch := design.Write(f.lib(), data)
		if ch == nil {
			res <- result{err: fmt.Errorf("golang.design/x/clipboard: Write(%s) failed: could not take the clipboard", f)}
			return
		}
		res <- result{changed: ch}
	}()
	ctx, cancel := context.WithTimeout(ctx, libTimeout)
	defer cancel()
	select {
	case r := <-res:
		return r.changed, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("golang.design/x/clipboard: Write(%s): %w", f, ctx.Err())
	}
}

// libRead calls design.Read, which returns nil both for an empty
// clipboard and on failure; libRead returns that as (nil, nil).
func libRead(ctx context.Context, f format) ([]byte, error) {
	type result struct {
		data []byte
		err  error
	}
	res := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				res <- result{err: fmt.Errorf("golang.design/x/clipboard: Read(%s) panicked: %v", f, r)}
			}
		}()
		res <- result{data: design.Read(f.lib())}
	}()
	ctx, cancel := context.WithTimeout(ctx, libTimeout)
	defer cancel()
	select {
	case r := <-res:
		return r.data, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("golang.design/x/clipboard: Read(%s): %w", f, ctx.Err())
	}
}
