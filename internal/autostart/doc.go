// Package autostart turns "Open at login" on and off for the running
// executable: an XDG autostart entry on Linux, the user's Run key on
// Windows. Elsewhere it is not supported (Supported is false).
package autostart
