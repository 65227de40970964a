//go:build linux

package autostart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Supported says "Open at login" works on this system: on Linux
// through an XDG autostart entry.
const Supported = true

// autostartPath is ~/.config/autostart/upshot.desktop (honouring
// XDG_CONFIG_HOME).
func autostartPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the autostart folder: %w", err)
	}
	return filepath.Join(dir, "autostart", "upshot.desktop"), nil
}

// Enabled reports whether Upshot opens at login.
func Enabled() bool {
	p, err := autostartPath()
	if err != nil {
		return false
	}
	_, err = os.Stat(p)
	return err == nil
}

// Set writes or removes the autostart entry, which starts the running
// executable and shows the icon named icon.
func Set(enabled bool, icon string) error {
	p, err := autostartPath()
	if err != nil {
		return err
	}
	if !enabled {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", p, err)
		}
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find Upshot's own path for the autostart entry: %w", err)
	}
	entry := "[Desktop Entry]\n" +
		"Type=Application\n" +
		"Name=Upshot\n" +
		"Comment=Upload screenshots and share their links\n" +
		"Exec=" + quoteExec(exe) + "\n" +
		"Icon=" + icon + "\n" +
		"Terminal=false\n" +
		"X-GNOME-Autostart-enabled=true\n"
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("create the autostart folder: %w", err)
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(entry), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// quoteExec quotes a path for a desktop entry's Exec key: in double
// quotes, with ", `, $ and \ escaped by a backslash, and that backslash
// escaped again because Exec is a string value.
func quoteExec(s string) string {
	r := strings.NewReplacer(`\`, `\\\\`, `"`, `\\"`, "`", "\\\\`", `$`, `\\$`)
	return `"` + r.Replace(s) + `"`
}
