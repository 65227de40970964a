package dbustest

import (
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// Notification is one notification the stand-in received.
type Notification struct {
	App, Title, Body string
}

// Notifications stands in for the desktop's notification service
// (org.freedesktop.Notifications) on a private bus and records what it is
// asked to show.
type Notifications struct {
	got chan Notification
}

// notificationServer is the exported D-Bus interface.
type notificationServer struct{ n *Notifications }

// Notify implements org.freedesktop.Notifications.Notify.
func (s notificationServer) Notify(app string, _ uint32, _, title, body string, _ []string, _ map[string]dbus.Variant, _ int32) (uint32, *dbus.Error) {
	s.n.got <- Notification{App: app, Title: title, Body: body}
	return 1, nil
}

// StartNotifications connects the stand-in to the bus at addr.
func StartNotifications(t testing.TB, addr string) *Notifications {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	n := &Notifications{got: make(chan Notification, 16)}
	if err := conn.Export(notificationServer{n}, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own org.freedesktop.Notifications: %v, %v", reply, err)
	}
	return n
}

// Next waits for the next notification.
func (n *Notifications) Next(t testing.TB) Notification {
	t.Helper()
	select {
	case got := <-n.got:
		return got
	case <-time.After(hangGuard):
		t.Fatal("no notification was sent")
	}
	return Notification{}
}

// None reports whether no notification has arrived so far.
func (n *Notifications) None() bool { return len(n.got) == 0 }
