package winpipe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"
)

// ErrNotFound means no pipe of that name exists: nobody listens.
var ErrNotFound = errors.New("no such pipe")

// bufSize is each pipe instance's buffer in either direction.
const bufSize = 64 << 10

// Addr is a pipe's name as a net.Addr.
type Addr string

// Network is "pipe".
func (Addr) Network() string { return "pipe" }

// String is the pipe's name.
func (a Addr) String() string { return string(a) }

// conn is one end of a connected pipe instance.
type conn struct {
	*os.File
	name Addr
}

func (c *conn) LocalAddr() net.Addr  { return c.name }
func (c *conn) RemoteAddr() net.Addr { return c.name }

// Listener accepts connections on a named pipe. Accept may be called from
// one goroutine at a time; Close from any.
type Listener struct {
	name   string
	sa     *windows.SecurityAttributes
	closed windows.Handle // an event, set by Close
	once   sync.Once

	mu        sync.Mutex
	next      windows.Handle // the instance that waits for the next client
	accepting bool           // an Accept waits on next, and closes it if told to stop
}

// Listen creates the pipe name (`\\.\pipe\…`), which must not exist yet,
// with an access list of its owner only, and listens on it.
func Listen(name string) (*Listener, error) {
	sa, err := ownerOnly()
	if err != nil {
		return nil, err
	}
	l := &Listener{name: name, sa: sa}
	if l.next, err = l.instance(true); err != nil {
		return nil, err
	}
	if l.closed, err = windows.CreateEvent(nil, 1, 0, nil); err != nil {
		windows.CloseHandle(l.next)
		return nil, fmt.Errorf("make an event: %w", err)
	}
	return l, nil
}

// ownerOnly is a security descriptor that lets this process's user, and
// no one else, open the pipe.
func ownerOnly() (*windows.SecurityAttributes, error) {
	user, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("read this process's user: %w", err)
	}
	sd, err := windows.SecurityDescriptorFromString("D:P(A;;GA;;;" + user.User.Sid.String() + ")")
	if err != nil {
		return nil, fmt.Errorf("make the pipe's access list: %w", err)
	}
	sa := &windows.SecurityAttributes{SecurityDescriptor: sd}
	sa.Length = uint32(unsafe.Sizeof(*sa))
	return sa, nil
}

// instance creates one instance of the pipe, ready for a client.
func (l *Listener) instance(first bool) (windows.Handle, error) {
	name, err := windows.UTF16PtrFromString(l.name)
	if err != nil {
		return 0, err
	}
	flags := uint32(windows.PIPE_ACCESS_DUPLEX | windows.FILE_FLAG_OVERLAPPED)
	if first {
		flags |= windows.FILE_FLAG_FIRST_PIPE_INSTANCE
	}
	h, err := windows.CreateNamedPipe(name, flags,
		windows.PIPE_TYPE_BYTE|windows.PIPE_READMODE_BYTE|windows.PIPE_WAIT|windows.PIPE_REJECT_REMOTE_CLIENTS,
		windows.PIPE_UNLIMITED_INSTANCES, bufSize, bufSize, 0, l.sa)
	if err != nil {
		return 0, &os.PathError{Op: "create pipe", Path: l.name, Err: err}
	}
	return h, nil
}

// Accept waits for a client on the waiting instance and returns the
// connection; a new instance then waits for the next client.
func (l *Listener) Accept() (net.Conn, error) {
	l.mu.Lock()
	h := l.next
	l.accepting = h != 0
	l.mu.Unlock()
	if h == 0 {
		return nil, net.ErrClosed
	}
	err := l.connect(h)
	for errors.Is(err, errGaveUp) {
		err = l.connect(h)
	}
	if err != nil {
		l.mu.Lock()
		l.accepting = false
		if l.next == 0 { // closed meanwhile: this Accept releases what Close left
			windows.CloseHandle(h)
			windows.CloseHandle(l.closed)
		}
		l.mu.Unlock()
		return nil, err
	}
	next, err := l.instance(false)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.accepting = false
	if l.next == 0 { // closed meanwhile
		if err == nil {
			windows.CloseHandle(next)
		}
		windows.CloseHandle(h)
		windows.CloseHandle(l.closed)
		return nil, net.ErrClosed
	}
	// Without a new instance the pipe ends with this client; the next
	// Accept says closed.
	l.next = next
	return &conn{File: os.NewFile(uintptr(h), l.name), name: Addr(l.name)}, nil
}

// connect waits until a client opens instance h, or Close is called.
func (l *Listener) connect(h windows.Handle) error {
	if which, err := windows.WaitForSingleObject(l.closed, 0); err == nil && which == windows.WAIT_OBJECT_0 {
		return net.ErrClosed // Close came first
	}
	ev, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		return fmt.Errorf("make an event: %w", err)
	}
	defer windows.CloseHandle(ev)
	ov := &windows.Overlapped{HEvent: ev}
	err = windows.ConnectNamedPipe(h, ov)
	switch {
	case err == nil, errors.Is(err, windows.ERROR_PIPE_CONNECTED):
		return nil
	case errors.Is(err, windows.ERROR_NO_DATA):
		// A client opened the instance and closed it again before this
		// Accept: the instance waits again, for the next client.
		if err := windows.DisconnectNamedPipe(h); err != nil {
			return &net.OpError{Op: "accept", Net: "pipe", Addr: Addr(l.name), Err: err}
		}
		return errGaveUp
	case !errors.Is(err, windows.ERROR_IO_PENDING):
		return l.failed(h, err)
	}
	which, err := windows.WaitForMultipleObjects([]windows.Handle{ev, l.closed}, false, windows.INFINITE)
	var n uint32
	if err != nil || which != windows.WAIT_OBJECT_0 {
		_ = windows.CancelIoEx(h, ov)
		_ = windows.GetOverlappedResult(h, ov, &n, true)
		return net.ErrClosed
	}
	if err := windows.GetOverlappedResult(h, ov, &n, false); err != nil {
		return l.failed(h, err)
	}
	return nil
}

// errGaveUp is connect's word for a client that left before it was
// accepted: Accept waits for the next one, unless Close came meanwhile.
var errGaveUp = errors.New("the client closed the pipe before it was accepted")

// failed handles an instance no client could connect to: the instance is
// made to wait again, and Accept returns the error (the caller may accept
// again).
func (l *Listener) failed(h windows.Handle, err error) error {
	_ = windows.DisconnectNamedPipe(h)
	return &net.OpError{Op: "accept", Net: "pipe", Addr: Addr(l.name), Err: err}
}

// Close stops listening; an Accept under way returns net.ErrClosed.
// Connections already accepted stay open.
func (l *Listener) Close() error {
	l.once.Do(func() {
		_ = windows.SetEvent(l.closed)
		l.mu.Lock()
		if !l.accepting { // else the Accept under way closes both
			if l.next != 0 {
				windows.CloseHandle(l.next)
			}
			windows.CloseHandle(l.closed)
		}
		l.next = 0
		l.mu.Unlock()
	})
	return nil
}

// Addr is the pipe's name.
func (l *Listener) Addr() net.Addr { return Addr(l.name) }

// Dial connects to the pipe name, waiting while every instance is busy,
// until ctx ends. It returns ErrNotFound when no such pipe exists.
func Dial(ctx context.Context, name string) (net.Conn, error) {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, err
	}
	for {
		h, err := windows.CreateFile(p, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil, windows.OPEN_EXISTING,
			windows.FILE_FLAG_OVERLAPPED|windows.SECURITY_SQOS_PRESENT|windows.SECURITY_IDENTIFICATION, 0)
		switch {
		case err == nil:
			return &conn{File: os.NewFile(uintptr(h), name), name: Addr(name)}, nil
		case errors.Is(err, windows.ERROR_FILE_NOT_FOUND):
			return nil, fmt.Errorf("open %s: %w", name, ErrNotFound)
		case !errors.Is(err, windows.ERROR_PIPE_BUSY):
			return nil, &os.PathError{Op: "open", Path: name, Err: err}
		}
		// Every instance is taken for a moment: the server makes a new
		// one as soon as it accepts. Wait for it, in short spells so that
		// ctx is seen.
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		_, _, _ = waitNamedPipe.Call(uintptr(unsafe.Pointer(p)), waitSpell)
	}
}

// waitNamedPipe (kernel32's WaitNamedPipeW, which x/sys/windows lacks)
// returns once an instance of the pipe is free to open, or after the
// given milliseconds, or at once when there is no such pipe.
var waitNamedPipe = windows.NewLazySystemDLL("kernel32.dll").NewProc("WaitNamedPipeW")

// waitSpell is how long, in milliseconds, Dial waits for a free instance
// before it looks at its context again.
const waitSpell = 100
