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
