package capture

import (
	"os"
	"path/filepath"
)

// picturesDir is %USERPROFILE%\Pictures.
func picturesDir() string {
	profile := os.Getenv("USERPROFILE")
	if profile == "" {
		if home, err := os.UserHomeDir(); err == nil {
			profile = home
		} else {
			profile = os.TempDir()
		}
	}
	return filepath.Join(profile, "Pictures")
}
