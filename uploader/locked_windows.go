package uploader

import (
	"errors"

	"golang.org/x/sys/windows"
)

// isLocked reports an open or read refused because another program holds
// the file locked (it is still writing it, or keeps it open).
func isLocked(err error) bool {
	return errors.Is(err, windows.ERROR_SHARING_VIOLATION) || errors.Is(err, windows.ERROR_LOCK_VIOLATION)
}
