//go:build unix

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
)

var lookPath = exec.LookPath

// startDesktop replaces this process with the window program, so signals
// and the exit status are the window's own.
func startDesktop(_ context.Context, bin string, _, stderr io.Writer) int {
	err := syscall.Exec(bin, []string{bin}, os.Environ())
	fmt.Fprintf(stderr, "upshot: start %s: %v\n", bin, err)
	return exitFailed
}
