package app

// Capture and global hotkeys: the window takes screenshots with the
// desktop's own tool (internal/capture), one at a time, and uploads them
// through the core; the hotkeys (internal/hotkey) start that and the
// window's other everyday actions from anywhere.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"upshot/internal/capture"
	"upshot/internal/core"
	"upshot/internal/hotkey"
	"upshot/uploader"
)

// Hotkey binding IDs are the config's field names (uploader.Hotkey.ID).
const (
	hkCaptureRegion   = "capture_region"
	hkCaptureWindow   = "capture_window"
	hkCaptureScreen   = "capture_screen"
	hkUploadClipboard = "upload_clipboard"
	hkOpen            = "open"
	hkPause           = "pause"
)

// captureMenu is the label of each capture mode in the tray and window.
var captureMenu = []struct {
	mode  capture.Mode
	label string
}{
	{capture.Region, "Capture region"},
	{capture.Window, "Capture window"},
	{capture.Screen, "Capture screen"},
}

// hideFor is how long the window takes to disappear from the screen
// before a capture started from it.
const hideFor = 300 * time.Millisecond

// captureFromWindow captures with the window out of the way: it hides
// first, and comes back when the capture is over. UI thread only.
func (u *ui) captureFromWindow(mode capture.Mode) {
	u.win.Hide()
	u.startCapture(mode, hideFor, func() { u.edge.Post(u.showWindow) })
}

// capture takes a screenshot in mode and uploads it, unless a capture is
// running already: a second press of a hotkey while the first capture's
// tool is open must not start another. Safe from any goroutine.
func (u *ui) capture(mode capture.Mode) { u.startCapture(mode, 0, nil) }

// startCapture is capture after wait; over runs, if set, once the
// capture has been taken, cancelled or has failed.
func (u *ui) startCapture(mode capture.Mode, wait time.Duration, over func()) {
	if !u.capturing.CompareAndSwap(false, true) {
		u.edge.Post(func() { u.note("A capture is already running") })
		if over != nil {
			over()
		}
		return
	}
	ctx := u.ctx
	cfg, _ := u.core.Settings()
	opts := core.CaptureOptions(cfg, mode)
	opts.Delay += wait
	go func() {
		shot, err := capture.Take(ctx, mode, opts)
		// The next capture may start while this one uploads.
		u.capturing.Store(false)
		if over != nil {
			over()
		}
		switch {
		case errors.Is(err, capture.ErrCancelled):
			u.edge.Post(func() { u.note("Capture cancelled: nothing was uploaded") })
			return
		case err != nil:
			u.edge.Post(func() { u.showError(fmt.Errorf("capture: %w", err)) })
			return
		}
		if cfg != nil && cfg.Capture.CopyImage {
			data, err := os.ReadFile(shot.Path)
			if err == nil {
				err = u.core.clip.WriteImage(ctx, data)
			}
			if err != nil {
				u.edge.Post(func() { u.showError(fmt.Errorf("the capture is not on the clipboard: %w", err)) })
			}
		}
		// The link, the notification and the list come with the Done
		// event, as for any upload; a failure leaves the capture queued.
		u.core.UploadCapture(ctx, shot.Path)
	}()
}

// hotkeys owns the registered global shortcuts. Its methods are safe
// from any goroutine.
type hotkeys struct {
	mu      sync.Mutex
	set     *hotkey.Set
	current uploader.Hotkeys
	state   hotkeyState
	closed  bool
}

// hotkeyState is what the settings show about the hotkeys.
type hotkeyState struct {
	// backend names what registered them ("X11"); empty when none could.
	backend string
	// unsupported says why this desktop takes no global shortcuts.
	unsupported error
	// errs holds, by binding ID, the hotkeys that are not registered.
	errs map[string]error
}

// apply registers h's hotkeys in place of the current ones, off the UI
// thread, and reports what became of them to the settings.
func (u *ui) applyHotkeys(h uploader.Hotkeys) {
	ctx := u.ctx
	go func() {
		st := u.keys.use(ctx, h, u.hotkeyPressed)
		u.edge.Post(func() {
			u.keyState = st
			if u.settings != nil {
				u.settings.showHotkeys(st)
			}
			for _, hk := range h.List() {
				if err := st.errs[hk.ID]; err != nil {
					u.showError(fmt.Errorf("hotkey for “%s”: %w", hk.Label, err))
					break
				}
			}
		})
	}()
}

// use registers h unless it is what is registered already.
func (k *hotkeys) use(ctx context.Context, h uploader.Hotkeys, pressed func(string)) hotkeyState {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed || (k.set != nil && h == k.current) {
		return k.state
	}
	if k.set != nil {
		_ = k.set.Close()
		k.set = nil
	}
	st := hotkeyState{errs: map[string]error{}}
	var bindings []hotkey.Binding
	for _, hk := range h.List() {
		key, err := hotkey.Parse(hk.Value)
		if err != nil {
			st.errs[hk.ID] = err
			continue
		}
		if !key.IsZero() {
			bindings = append(bindings, hotkey.Binding{ID: hk.ID, Key: key})
		}
	}
	set, err := hotkey.Start(ctx, bindings, pressed)
	if err != nil {
		st.unsupported = err
		k.state, k.current = st, h
		return st
	}
	for id, err := range set.Errors() {
		st.errs[id] = err
	}
	st.backend = set.Backend()
	k.set, k.current, k.state = set, h, st
	return st
}

// close releases every hotkey for good.
func (k *hotkeys) close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
	if k.set != nil {
		_ = k.set.Close()
		k.set = nil
	}
}

// hotkeyPressed runs a hotkey's action; it is called from the hotkeys'
// goroutine. A capture starts at once (it is safe from any goroutine);
// the rest runs on the UI thread.
func (u *ui) hotkeyPressed(id string) {
	switch id {
	case hkCaptureRegion:
		u.capture(capture.Region)
	case hkCaptureWindow:
		u.capture(capture.Window)
	case hkCaptureScreen:
		u.capture(capture.Screen)
	case hkUploadClipboard:
		u.edge.Post(u.paste)
	case hkOpen:
		u.edge.Post(func() { u.raise("") })
	case hkPause:
		u.edge.Post(func() { u.setPaused(!u.status.paused) })
	}
}

// hotkeysFor is cfg's hotkeys, or the defaults before there are settings.
func hotkeysFor(cfg *uploader.Config) uploader.Hotkeys {
	if cfg == nil {
		return uploader.DefaultHotkeys
	}
	return cfg.Hotkeys
}
