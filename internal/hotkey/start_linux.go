package hotkey

import (
	"context"
	"os"
)

// start picks the portal on Wayland and X11 otherwise.
func start(ctx context.Context, keys []planned, pressed func(string)) (*Set, error) {
	if os.Getenv("WAYLAND_DISPLAY") != "" || os.Getenv("XDG_SESSION_TYPE") == "wayland" {
		return startPortal(ctx, keys, pressed)
	}
	display := os.Getenv("DISPLAY")
	if display == "" {
		return nil, unsupported("no X display (DISPLAY is not set)", nil)
	}
	return startX11(ctx, display, keys, pressed)
}

// dial runs connect, which cannot be canceled, and returns its result, or
// ctx's error when ctx ends first; a connection made after that is closed.
func dial[C any](ctx context.Context, connect func() (C, error), closeConn func(C)) (C, error) {
	type result struct {
		conn C
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := connect()
		ch <- result{c, err}
	}()
	select {
	case r := <-ch:
		return r.conn, r.err
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.err == nil {
				closeConn(r.conn)
			}
		}()
		var zero C
		return zero, ctx.Err()
	}
}
