//go:build !windows

package uploader

import (
	"fmt"
	"os"
)

// checkPrivate refuses a file that users other than its owner can read.
func checkPrivate(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if m := fi.Mode().Perm(); m&0o077 != 0 {
		return fmt.Errorf("the file holds the application key but has mode %04o, so other users can read it", m)
	}
	return nil
}
