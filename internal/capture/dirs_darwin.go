package capture

import "os"

// picturesDir is ~/Pictures.
func picturesDir() string { return underHome("Pictures") }

// screenshotsDir is the Desktop, where macOS saves screenshots unless
// told otherwise.
func screenshotsDir() string { return underHome("Desktop") }

// underHome is the folder name in the user's home folder.
func underHome(name string) string {
	home, _ := os.UserHomeDir() // "" when unknown
	return homeFolder(home, os.TempDir(), name)
}
