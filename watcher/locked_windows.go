package watcher

import (
	"errors"

	"golang.org/x/sys/windows"
)

// lockedByWriter says whether another program holds path open in a way
// that keeps readers out (Windows' share modes: a writer that shares no
// read access). It opens the file sharing everything, so the probe
// itself never disturbs the writer.
func lockedByWriter(path string) bool {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return false
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
		windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return errors.Is(err, windows.ERROR_SHARING_VIOLATION) || errors.Is(err, windows.ERROR_LOCK_VIOLATION)
	}
	windows.CloseHandle(h)
	return false
}
