package capture

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
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

// screenshotsDir is the Screenshots known folder, else Pictures\Screenshots.
func screenshotsDir() string {
	if dir, err := windows.KnownFolderPath(windows.FOLDERID_Screenshots, windows.KF_FLAG_DONT_VERIFY); err == nil && dir != "" {
		return dir
	}
	return filepath.Join(picturesDir(), "Screenshots")
}
