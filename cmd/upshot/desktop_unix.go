//go:build unix

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"
)

var lookPath = exec.LookPath

// startDesktop runs the window program and passes it every SIGINT, SIGTERM
// and SIGHUP this process gets, including one that came before the window
// started, so that the window quits cleanly however early it is asked to.
// The exit is the window's own: its status, or the signal that ended it.
func startDesktop(ctx context.Context, bin string, args []string, stdout, stderr io.Writer) int {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	cmd := exec.Command(bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	// Where the system offers it, the window is told to quit if this
	// process dies without passing a signal on (SIGKILL): the signal
	// follows the thread that started the child, so keep to it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "upshot: start %s: %v\n", bin, err)
		return exitFailed
	}
	if ctx.Err() != nil { // asked to quit before the window was there
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for {
		select {
		case s := <-sigs:
			_ = cmd.Process.Signal(s)
		case err := <-exited:
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					// End the same way, as if the window were this process.
					signal.Reset(ws.Signal())
					_ = syscall.Kill(os.Getpid(), ws.Signal())
				}
				return ee.ExitCode()
			}
			if err != nil {
				fmt.Fprintf(stderr, "upshot: %s: %v\n", bin, err)
				return exitFailed
			}
			return exitOK
		}
	}
}
