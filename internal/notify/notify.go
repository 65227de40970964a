// Package notify shows a desktop notification from a program without a
// window: "upshot capture" run from a keyboard shortcut has no terminal,
// so a notification is how it says that the link is on the clipboard, or
// why it is not. The window program uses Fyne's notifications instead.
//
// Linux and the BSDs use the freedesktop Notifications service on the
// D-Bus session bus; macOS uses osascript's "display notification".
// Elsewhere Send returns an error wrapping [errors.ErrUnsupported].
package notify

import (
	"context"
	"strings"
	"time"
)

// timeout bounds one notification.
const timeout = 5 * time.Second

// App is the name notifications come from.
const App = "Upshot"

// Send shows a notification with title and body. It returns once the
// desktop has taken it, or with the reason it could not.
func Send(ctx context.Context, title, body string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return send(ctx, title, body)
}

// appleString quotes s as an AppleScript string literal.
func appleString(s string) string {
	s = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", " ", "\n", " ").Replace(s)
	return `"` + s + `"`
}

// appleScript is the osascript program that shows the notification.
func appleScript(title, body string) string {
	return "display notification " + appleString(body) + " with title " + appleString(title)
}

// osascriptArgs is osascript's command line that shows the notification.
func osascriptArgs(title, body string) []string {
	return []string{"-e", appleScript(title, body)}
}
