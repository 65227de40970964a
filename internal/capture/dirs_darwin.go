package capture

import "os"

// picturesDir is ~/Pictures.
func picturesDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		home = ""
	}
	return homePictures(home, os.TempDir())
}

// screenshotsDir is the Desktop, where macOS saves screenshots unless
// told otherwise.
func screenshotsDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		home = ""
	}
	return homeDesktop(home, os.TempDir())
}
