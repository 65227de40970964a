//go:build !windows && !darwin

package capture

import (
	"os"
	"path/filepath"
)

// picturesDir is XDG_PICTURES_DIR from user-dirs.dirs, else ~/Pictures.
func picturesDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		home = os.TempDir()
	}
	config := os.Getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(config) {
		config = filepath.Join(home, ".config")
	}
	if data, err := os.ReadFile(filepath.Join(config, "user-dirs.dirs")); err == nil {
		if dir, ok := parseUserDirs(string(data), home); ok {
			return dir
		}
	}
	return filepath.Join(home, "Pictures")
}

// screenshotsDir is the Pictures folder's Screenshots, where GNOME and
// KDE save.
func screenshotsDir() string { return filepath.Join(picturesDir(), "Screenshots") }
