package hotkey

import "context"

func startPortal(ctx context.Context, keys []planned, pressed func(string)) (*Set, error) {
	return nil, unsupported("Wayland without the GlobalShortcuts portal", nil)
}
