package capture

import (
	"os"
	"path/filepath"
)

// picturesDir is ~/Pictures.
func picturesDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		home = os.TempDir()
	}
	return filepath.Join(home, "Pictures")
}
