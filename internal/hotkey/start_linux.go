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
