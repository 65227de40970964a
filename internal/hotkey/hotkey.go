// Package hotkey registers Upshot's global keyboard shortcuts (capture a
// region, capture the screen, upload the clipboard, open Upshot, pause
// watching) with the desktop, so that they work whichever program has the
// keyboard focus. Only the window program uses it; it needs no cgo.
//
// Backends, chosen by Start:
//
//   - Linux on Wayland (WAYLAND_DISPLAY set, or XDG_SESSION_TYPE=wayland):
//     the xdg-desktop-portal GlobalShortcuts interface over the session
//     D-Bus; the desktop may ask the user to confirm or change the keys.
//     Without that portal Wayland allows no global shortcuts.
//   - Linux on X11 (DISPLAY set): passive key grabs on the root window, with
//     and without CapsLock and NumLock.
//   - Windows: RegisterHotKey on a dedicated thread with its own message
//     loop.
//   - macOS and any other system: none; Start returns an error wrapping
//     [ErrUnsupported], and the user binds Upshot's commands (upshot capture
//     region, ...) in the desktop's own keyboard settings instead.
package hotkey

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
)

// ErrUnsupported means this desktop lets Upshot set no global shortcuts.
// Start wraps it with the reason ("no X display", "macOS", ...).
var ErrUnsupported = errors.New("this desktop lets Upshot set no global shortcuts: bind `upshot capture region` (and the other actions you want) to keys in the desktop's own keyboard settings")

// TakenError means another program already holds the key, so Upshot cannot
// have it.
type TakenError struct {
	Key Key
}

func (e *TakenError) Error() string {
	return e.Key.String() + " is already taken by another program: choose another in Settings → Capture"
}

// Binding is one action's shortcut. ID names the action; it is what Start
// passes to its pressed callback.
type Binding struct {
	ID  string
	Key Key
}

// Set is the shortcuts Start registered. Its methods are safe for
// concurrent use.
type Set struct {
	backend string
	errs    map[string]error
	stop    func() error // releases the keys; pressed is not called after it returns

	closeOnce sync.Once
	closeErr  error
}

// Start registers bindings with the desktop and calls pressed(id) each time
// one of their keys is pressed. Bindings with the zero Key are skipped.
// pressed runs on a goroutine of the Set, one call at a time, so a slow
// pressed delays the next; it must not call Close. Holding a key down calls
// pressed once.
//
// A binding that cannot be registered (another program holds its key, the
// keyboard has no such key, its ID or key repeats an earlier binding's) does
// not stop the others: its error, by binding ID, is in [Set.Errors], and is a
// *[TakenError] when the key is taken. Start fails only when no backend
// works, with an error wrapping [ErrUnsupported], when ctx ends first, or
// when two bindings have the same ID.
// ctx bounds the registration only (on Wayland the desktop may ask the user
// first); the keys stay registered until Close.
func Start(ctx context.Context, bindings []Binding, pressed func(id string)) (*Set, error) {
	if pressed == nil {
		return nil, errors.New("hotkey.Start: pressed is nil")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	keys, errs, err := plan(bindings)
	if err != nil {
		return nil, err
	}
	s, err := start(ctx, keys, pressed)
	if err != nil {
		return nil, err
	}
	maps.Copy(s.errs, errs)
	return s, nil
}

// Errors returns, by binding ID, why a binding is not registered. Bindings
// that work are absent. The map is a copy.
func (s *Set) Errors() map[string]error { return maps.Clone(s.errs) }

// Backend names the mechanism in use: "X11", "Windows" or
// "GlobalShortcuts portal".
func (s *Set) Backend() string { return s.backend }

// Close releases every key. It waits for a pressed call in progress to
// return, and once it returns pressed is never called again. It is safe to
// call more than once and from several goroutines, but not from pressed.
func (s *Set) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.stop() })
	return s.closeErr
}

// planned is one binding that passed the checks every backend shares.
type planned struct {
	id   string
	key  Key
	info keyInfo
}

// plan drops zero keys and sets aside bindings that cannot work anywhere:
// unknown key names, keys already used by an earlier binding. An ID used
// twice is the caller's mistake, and an error.
func plan(bindings []Binding) ([]planned, map[string]error, error) {
	ids := map[string]bool{}
	for _, b := range bindings {
		if ids[b.ID] {
			return nil, nil, fmt.Errorf("hotkey.Start: binding ID %q is listed twice", b.ID)
		}
		ids[b.ID] = true
	}
	var keys []planned
	errs := map[string]error{}
	owner := map[Key]string{}
	for _, b := range bindings {
		if b.Key.IsZero() {
			continue
		}
		info, ok := lookupKey(b.Key.Name)
		if !ok {
			errs[b.ID] = fmt.Errorf("%q is not a key Upshot knows: choose another in Settings → Capture", b.Key.Name)
			continue
		}
		k := Key{Mods: b.Key.Mods &^ ^(Ctrl | Shift | Alt | Super), Name: info.name}
		if prev, dup := owner[k]; dup {
			errs[b.ID] = fmt.Errorf("%s is already the shortcut for %s: choose another in Settings → Capture", k, prev)
			continue
		}
		owner[k] = b.ID
		keys = append(keys, planned{id: b.ID, key: k, info: info})
	}
	return keys, errs, nil
}

// noBackend is Start's error on a system, named by its GOOS, where Upshot
// has no way to register shortcuts.
func noBackend(goos string) error {
	if goos == "darwin" {
		goos = "macOS"
	}
	return unsupported(goos, nil)
}

// unsupported wraps ErrUnsupported with the reason and, if any, its cause.
func unsupported(reason string, cause error) error {
	if cause != nil {
		return fmt.Errorf("%s (%w): %w", reason, cause, ErrUnsupported)
	}
	return fmt.Errorf("%s: %w", reason, ErrUnsupported)
}
