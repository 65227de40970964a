//go:build linux

package watcher

import (
	"encoding/binary"
	"errors"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// cwMask is what the second inotify instance watches: closes after writing
// and files moved in. IN_EXCL_UNLINK drops events for files already deleted.
const cwMask = unix.IN_CLOSE_WRITE | unix.IN_MOVED_TO | unix.IN_ONLYDIR | unix.IN_EXCL_UNLINK

// closeWatcher is an inotify instance beside fsnotify's that reports
// IN_CLOSE_WRITE and IN_MOVED_TO, which fsnotify (up to v1.10) does not
// export. Its methods are safe for concurrent use and do nothing on a nil
// receiver.
type closeWatcher struct {
	fd     int
	file   *os.File // non-blocking, so Close interrupts Read
	ch     chan rawEvent
	done   chan struct{}
	exited chan struct{}
	once   sync.Once

	mu     sync.Mutex
	closed bool
	broken bool // the reader stopped on an error
	byWd   map[int32]string
	byPath map[string]int32
}

func newCloseWatcher() (*closeWatcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, os.NewSyscallError("inotify_init1", err)
	}
	c := &closeWatcher{
		fd:     fd,
		file:   os.NewFile(uintptr(fd), "inotify"),
		ch:     make(chan rawEvent, 256),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
		byWd:   make(map[int32]string),
		byPath: make(map[string]int32),
	}
	go c.read()
	return c, nil
}

func (c *closeWatcher) events() <-chan rawEvent {
	if c == nil {
		return nil
	}
	return c.ch
}

// add watches dir; adding it again is a no-op.
func (c *closeWatcher) add(dir string) error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	wd, err := unix.InotifyAddWatch(c.fd, dir, cwMask)
	if err != nil {
		return os.NewSyscallError("inotify_add_watch", err)
	}
	w := int32(wd)
	if old, ok := c.byWd[w]; ok && old != dir {
		delete(c.byPath, old) // the same folder under a new name
	}
	c.byWd[w] = dir
	c.byPath[dir] = w
	return nil
}

func (c *closeWatcher) remove(dir string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	wd, ok := c.byPath[dir]
	if !ok {
		return
	}
	delete(c.byPath, dir)
	if c.byWd[wd] == dir {
		delete(c.byWd, wd)
		if !c.closed {
			_, _ = unix.InotifyRmWatch(c.fd, uint32(wd)) // fails if the kernel dropped it already
		}
	}
}

// watching reports whether closes in dir are reported.
func (c *closeWatcher) watching(dir string) bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.byPath[dir]
	return ok && !c.broken
}

func (c *closeWatcher) close() {
	if c == nil {
		return
	}
	c.once.Do(func() {
		close(c.done)
		c.mu.Lock()
		c.closed = true
		c.file.Close()
		c.mu.Unlock()
		<-c.exited
	})
}

func (c *closeWatcher) send(ev rawEvent) bool {
	select {
	case c.ch <- ev:
		return true
	case <-c.done:
		return false
	}
}

func (c *closeWatcher) read() {
	defer close(c.exited)
	buf := make([]byte, 64*1024)
	for {
		n, err := c.file.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrClosed) {
				return
			}
			c.mu.Lock()
			c.broken = true
			c.mu.Unlock()
			c.send(rawEvent{err: err})
			return
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			wd := int32(binary.NativeEndian.Uint32(buf[off:]))
			mask := binary.NativeEndian.Uint32(buf[off+4:])
			nameLen := int(binary.NativeEndian.Uint32(buf[off+12:]))
			name := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+nameLen]
			off += unix.SizeofInotifyEvent + nameLen
			for len(name) > 0 && name[len(name)-1] == 0 {
				name = name[:len(name)-1]
			}
			switch {
			case mask&unix.IN_Q_OVERFLOW != 0:
				if !c.send(rawEvent{overflow: true}) {
					return
				}
				continue
			case mask&unix.IN_IGNORED != 0:
				c.mu.Lock()
				if dir, ok := c.byWd[wd]; ok {
					delete(c.byWd, wd)
					if c.byPath[dir] == wd {
						delete(c.byPath, dir)
					}
				}
				c.mu.Unlock()
				continue
			case mask&unix.IN_ISDIR != 0 || len(name) == 0:
				continue
			}
			c.mu.Lock()
			dir, ok := c.byWd[wd]
			c.mu.Unlock()
			if !ok {
				continue
			}
			if !c.send(rawEvent{path: dir + "/" + string(name), moved: mask&unix.IN_MOVED_TO != 0}) {
				return
			}
		}
	}
}
