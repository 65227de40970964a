package core

import (
	"errors"
	"net"
	"testing"
)

// scriptedListener answers Accept from a script, then says it is closed.
type scriptedListener struct {
	script []error // nil: a connection
}

func (l *scriptedListener) Accept() (net.Conn, error) {
	if len(l.script) == 0 {
		return nil, net.ErrClosed
	}
	err := l.script[0]
	l.script = l.script[1:]
	if err != nil {
		return nil, err
	}
	c, other := net.Pipe()
	other.Close()
	return c, nil
}

func (l *scriptedListener) Close() error   { return nil }
func (l *scriptedListener) Addr() net.Addr { return &net.UnixAddr{Name: "scripted", Net: "unix"} }

// TestAcceptOutlivesErrors: a failed Accept (a client that left before it
// was accepted, too many open files) does not end the hand-off; only a
// closed listener does.
func TestAcceptOutlivesErrors(t *testing.T) {
	gaveUp := &net.OpError{Op: "accept", Net: "pipe", Err: errors.New("the pipe is being closed")}
	ln := &scriptedListener{script: []error{gaveUp, nil, gaveUp, gaveUp, nil}}
	handled := 0
	accept(t.Context(), ln, func(c net.Conn) {
		c.Close()
		handled++
	})
	if handled != 2 || len(ln.script) != 0 {
		t.Fatalf("handled %d connections, %d answers left; want 2 and none", handled, len(ln.script))
	}
}
