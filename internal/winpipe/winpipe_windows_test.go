package winpipe

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/windows"
)

// underWine reports whether Wine runs this program: its ntdll exports
// wine_get_version.
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}

func testName(t *testing.T) string {
	return fmt.Sprintf(`\\.\pipe\upshot-test-%d`, time.Now().UnixNano())
}

// TestExchange: clients get what the server writes, the server reads what
// they write and sees them hang up, several at a time.
func TestExchange(t *testing.T) {
	name := testName(t)
	ln, err := Listen(name)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan error, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				served <- err
				return
			}
			go func() {
				defer c.Close()
				line, err := bufio.NewReader(c).ReadString('\n')
				if err != nil {
					return
				}
				fmt.Fprintf(c, "got %s", line)
				_, _ = io.Copy(io.Discard, c) // until the client hangs up
			}()
		}
	}()
	const clients = 5
	errs := make(chan error, clients)
	for i := range clients {
		go func() {
			c, err := Dial(t.Context(), name)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			fmt.Fprintf(c, "hello %d\n", i)
			line, err := bufio.NewReader(c).ReadString('\n')
			if err == nil && line != fmt.Sprintf("got hello %d\n", i) {
				err = fmt.Errorf("client %d read %q", i, line)
			}
			errs <- err
		}()
	}
	for range clients {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	ln.Close()
	if err := <-served; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close: %v", err)
	}
	if _, err := Dial(t.Context(), name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Dial after Close: %v, want ErrNotFound", err)
	}
}

// TestCloseEndsAccept: a listener closed while Accept waits makes it
// return.
func TestCloseEndsAccept(t *testing.T) {
	ln, err := Listen(testName(t))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := ln.Accept()
		done <- err
	}()
	// Close once the Accept has begun, not before: it may still be on its
	// way to waiting, which ends the same way. Nothing says when it
	// blocks.
	for !accepting(ln) {
		select {
		case err := <-done:
			t.Fatalf("Accept returned before Close: %v", err)
		default:
			runtime.Gosched()
		}
	}
	ln.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept: %v", err)
		}
	case <-time.After(time.Minute): // a hang guard
		t.Fatal("Accept did not return after Close")
	}
}

// accepting reports whether an Accept waits on l.
func accepting(l *Listener) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.accepting
}

// TestNameTakenNotUnderWine: a second listener on a live name fails.
// Wine 8.0 ignores FILE_FLAG_FIRST_PIPE_INSTANCE and lets it listen too.
func TestNameTakenNotUnderWine(t *testing.T) {
	if underWine() {
		t.Skip("Wine 8.0 ignores FILE_FLAG_FIRST_PIPE_INSTANCE: a second listener on a live pipe is not refused")
	}
	name := testName(t)
	ln, err := Listen(name)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if ln2, err := Listen(name); err == nil {
		ln2.Close()
		t.Fatal("a second Listen on a live pipe succeeded")
	}
}

// TestCloseEndsRead: closing a connection ends a read on it, whether the
// read has begun waiting (Go's poller) or not: a handle not opened for
// overlapped I/O would leave such a read blocked.
func TestCloseEndsRead(t *testing.T) {
	name := testName(t)
	ln, err := Listen(name)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			_, _ = io.Copy(io.Discard, c)
		}
	}()
	c, err := Dial(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 10))
		done <- err
	}()
	c.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a read on a closed connection returned no error")
		}
	case <-time.After(time.Minute): // a hang guard
		t.Fatal("Close did not end the read")
	}
}

// TestClientGivesUp: a client that opens the pipe and closes it again
// before the server accepts does not end Accept: the next client, which
// may find the instance still taken by the first and wait for it, is
// served.
func TestClientGivesUp(t *testing.T) {
	name := testName(t)
	ln, err := Listen(name)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	gone, err := Dial(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	gone.Close()
	sent := make(chan error, 1)
	go func() {
		c, err := Dial(t.Context(), name)
		if err != nil {
			sent <- err
			ln.Close() // ends the Accept below
			return
		}
		defer c.Close()
		_, err = fmt.Fprintf(c, "second\n")
		sent <- err
		_, _ = io.Copy(io.Discard, c) // until the server hangs up
	}()
	c, err := ln.Accept()
	if err != nil {
		select {
		case derr := <-sent:
			t.Fatalf("Accept after a client gave up: %v (the second client: %v)", err, derr)
		default:
			t.Fatalf("Accept after a client gave up: %v", err)
		}
	}
	defer c.Close()
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != "second\n" {
		t.Fatalf("read %q, %v; want the second client's line", line, err)
	}
	if err := <-sent; err != nil {
		t.Fatalf("the second client: %v", err)
	}
}
