package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"github.com/godbus/dbus/v5"

	"upshot/assets"
	"upshot/internal/store"
)

// busTimeout bounds the D-Bus look-ups made at start.
const busTimeout = 2 * time.Second

// desktopBus reports, on Linux and the BSDs, whether the D-Bus session
// bus has a notification server (running or activatable) and a
// StatusNotifierWatcher (a tray host). Elsewhere both are always there.
// Without a session bus, setting a tray menu logs errors and a later Quit
// panics (fyne issue #6403), so the app sets no tray at all then.
func desktopBus(ctx context.Context) (notify, tray bool) {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd":
	default:
		return true, true
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		// godbus would otherwise start a bus of its own (dbus-launch
		// --autolaunch), which has neither tray host nor notifications.
		if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err != nil {
			return false, false
		}
	}
	ctx, cancel := context.WithTimeout(ctx, busTimeout)
	defer cancel()
	conn, err := dbus.ConnectSessionBus(dbus.WithContext(ctx))
	if err != nil {
		return false, false
	}
	defer conn.Close()
	bus := conn.BusObject()
	has := func(name string) bool {
		var ok bool
		return bus.CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, name).Store(&ok) == nil && ok
	}
	var activatable []string
	_ = bus.CallWithContext(ctx, "org.freedesktop.DBus.ListActivatableNames", 0).Store(&activatable)
	notify = has(notificationsName) || slices.Contains(activatable, notificationsName)
	return notify, has("org.kde.StatusNotifierWatcher")
}

const notificationsName = "org.freedesktop.Notifications"

// Tray icons for the three states.
var (
	trayIdle      = fyne.NewStaticResource("tray_idle.png", assets.TrayIdle)
	trayUploading = fyne.NewStaticResource("tray_uploading.png", assets.TrayUploading)
	trayError     = fyne.NewStaticResource("tray_error.png", assets.TrayError)
)

// tray is the system tray menu and icon. Its methods run on the UI thread.
type tray struct {
	u      *ui
	desk   desktop.App
	menu   *fyne.Menu
	pause  *fyne.MenuItem
	recent *fyne.MenuItem
	icon   fyne.Resource
	shown  string // what the menu shows, to refresh only on change
}

func newTray(u *ui, desk desktop.App) *tray {
	t := &tray{u: u, desk: desk}
	t.pause = fyne.NewMenuItem("Pause watching", func() { u.setPaused(!u.status.paused) })
	t.recent = fyne.NewMenuItem("Recent", nil)
	t.recent.ChildMenu = fyne.NewMenu("")
	quit := fyne.NewMenuItem("Quit", u.quit)
	quit.IsQuit = true
	var captures []*fyne.MenuItem
	for _, m := range captureMenu {
		captures = append(captures, fyne.NewMenuItem(m.label, func() { u.capture(m.mode) }))
	}
	t.menu = fyne.NewMenu("Upshot", append(captures,
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Upload file…", func() { u.showWindow(); u.pickFile() }),
		fyne.NewMenuItem("Upload clipboard image", u.paste),
		fyne.NewMenuItem("Phone inbox…", func() { u.raise("phone") }),
		t.pause,
		t.recent,
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Open Upshot", u.showWindow),
		quit,
	)...)
	desk.SetSystemTrayIcon(trayIdle)
	t.icon = trayIdle
	// The menu is complete before the tray gets it: each change rebuilds
	// the tray's menu, and a click on the menu it replaced is lost.
	t.update()
	desk.SetSystemTrayMenu(t.menu)
	desk.SetSystemTrayWindow(u.win)
	return t
}

// update shows the current state: icon, pause label and recent uploads.
func (t *tray) update() {
	icon := trayIdle
	switch {
	case t.u.failing:
		icon = trayError
	case t.u.uploading():
		icon = trayUploading
	}
	if icon != t.icon {
		t.icon = icon
		t.desk.SetSystemTrayIcon(icon)
	}
	label := "Pause watching"
	if t.u.status.paused {
		label = "Resume watching"
	}
	shown := label
	var items []*fyne.MenuItem
	for _, e := range t.u.recent {
		name := filepath.Base(e.File)
		shown += "\n" + e.Key
		items = append(items, fyne.NewMenuItem(name, func() { t.u.copyLink(e, t.u.core.Format()) }))
	}
	if len(items) == 0 {
		none := fyne.NewMenuItem("No uploads yet", nil)
		none.Disabled = true
		items = append(items, none)
	}
	if shown == t.shown {
		return
	}
	t.shown = shown
	t.pause.Label = label
	t.recent.ChildMenu.Items = items
	t.menu.Refresh()
}

// recentEntries is the tray's list: the newest five uploads.
func recentEntries(rows []store.Entry) []store.Entry {
	return append([]store.Entry(nil), rows[:min(5, len(rows))]...)
}
