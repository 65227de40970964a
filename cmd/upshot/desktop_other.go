//go:build !unix

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
)

var lookPath = exec.LookPath

// startDesktop runs the window program and waits for it.
func startDesktop(ctx context.Context, bin string, args []string, stdout, stderr io.Writer) int {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		fmt.Fprintf(stderr, "upshot: start %s: %v\n", bin, err)
		return exitFailed
	}
	return exitOK
}
