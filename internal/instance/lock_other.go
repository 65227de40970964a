//go:build !unix && !windows

package instance

import "os"

// lock has no OS lock to take here: a second instance is not detected.
func lock(*os.File) error { return nil }
