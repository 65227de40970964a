//go:build linux || freebsd || openbsd || netbsd || dragonfly

package notify

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/godbus/dbus/v5"
)

// send calls org.freedesktop.Notifications.Notify on the session bus.
func send(ctx context.Context, title, body string) error {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err != nil {
			// godbus would start a bus of its own, with nobody to show it.
			return errors.New("notify: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)")
		}
	}
	conn, err := dbus.ConnectSessionBus(dbus.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("notify: session bus: %w", err)
	}
	defer conn.Close()
	obj := conn.Object("org.freedesktop.Notifications", "/org/freedesktop/Notifications")
	call := obj.CallWithContext(ctx, "org.freedesktop.Notifications.Notify", 0,
		App, uint32(0), "", title, body, []string{}, map[string]dbus.Variant{}, int32(-1))
	if call.Err != nil {
		return fmt.Errorf("notify: %w (is a notification service running?)", call.Err)
	}
	return nil
}
