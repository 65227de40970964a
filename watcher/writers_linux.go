package watcher

import (
	"errors"

	"golang.org/x/sys/unix"
)

// openForWriting says whether some process has path open for writing, by
// asking for a read lease, which Linux grants only when no one does
// (fcntl F_SETLEASE). known is false when the kernel would not say (a
// network file system, a file this user neither owns nor may lease):
// the caller then falls back to waiting.
func openForWriting(path string) (open, known bool) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return false, false
	}
	defer unix.Close(fd)
	_, err = unix.FcntlInt(uintptr(fd), unix.F_SETLEASE, unix.F_RDLCK)
	switch {
	case err == nil:
		_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETLEASE, unix.F_UNLCK)
		return false, true
	case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EBUSY):
		return true, true
	}
	return false, false
}
