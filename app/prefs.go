package app

import (
	"time"

	"fyne.io/fyne/v2"
)

// Preferences of this computer's app, kept with Fyne's preferences rather
// than in the config file, which the CLI shares.
const (
	prefNotifications = "notifications" // bool, default true
	prefAlwaysShare   = "alwaysShare"   // bool: copy expiring links instead of public ones
	prefShareExpiry   = "shareExpiry"   // int: seconds an expiring link lives
	prefNoTrayNoted   = "noTrayNoted"   // bool: the "closing quits" note was shown
	prefTrayNoted     = "trayNoted"     // bool: the "still running in the tray" note was shown
)

// expiry is a choice of lifetime for expiring links.
type expiry struct {
	name string
	d    time.Duration
}

// expiries are the lifetimes offered; presigned links live at most 7 days.
var expiries = []expiry{
	{"10 minutes", 10 * time.Minute},
	{"1 hour", time.Hour},
	{"1 day", 24 * time.Hour},
	{"7 days", 7 * 24 * time.Hour},
}

const defaultExpiry = 24 * time.Hour

func expiryNames() []string {
	names := make([]string, len(expiries))
	for i, e := range expiries {
		names[i] = e.name
	}
	return names
}

func expiryName(d time.Duration) string {
	for _, e := range expiries {
		if e.d == d {
			return e.name
		}
	}
	return d.String()
}

// shareExpiry is the lifetime chosen for expiring links.
func shareExpiry(p fyne.Preferences) time.Duration {
	d := time.Duration(p.IntWithFallback(prefShareExpiry, int(defaultExpiry/time.Second))) * time.Second
	for _, e := range expiries {
		if e.d == d {
			return d
		}
	}
	return defaultExpiry
}
