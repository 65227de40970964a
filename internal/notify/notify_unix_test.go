//go:build linux || freebsd || openbsd || netbsd || dragonfly

package notify

import (
	"testing"

	"upshot/internal/devtools/dbustest"
)

// TestSendReachesService sends through a private session bus to a
// stand-in notification service.
func TestSendReachesService(t *testing.T) {
	addr := dbustest.Start(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	n := dbustest.StartNotifications(t, addr)
	if err := Send(t.Context(), "Screenshot uploaded", "https://img.example.com/a.png"); err != nil {
		t.Fatal(err)
	}
	if got := n.Next(t); got != (dbustest.Notification{App: App, Title: "Screenshot uploaded", Body: "https://img.example.com/a.png"}) {
		t.Fatalf("got %+v", got)
	}
}

// TestSendWithoutService fails with a reason rather than hanging.
func TestSendWithoutService(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", dbustest.Start(t))
	if err := Send(t.Context(), "x", "y"); err == nil {
		t.Fatal("sent with no notification service")
	}
}
