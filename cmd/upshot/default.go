package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
)

// desktopName is the window program, installed beside upshot.
const desktopName = "upshot-desktop"

// runDefault is what "upshot" with no command does: it starts the window,
// which lives in its own program (upshot-desktop, beside this one or on
// PATH), so that this one stays free of graphics libraries. Without it, it
// says so and prints the subcommands.
func runDefault(ctx context.Context, stdout, stderr io.Writer) int {
	bin, err := findDesktop()
	if err != nil {
		fmt.Fprintf(stderr, "upshot: the window is not installed (%v): build it with make build, or install the desktop package\n\n", err)
		usage(stderr)
		return exitUsage
	}
	return startDesktop(ctx, bin, stdout, stderr)
}

// findDesktop looks beside this executable first, then on PATH.
func findDesktop() (string, error) {
	name := desktopName
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if self, err := os.Executable(); err == nil {
		if self, err = filepath.EvalSymlinks(self); err == nil {
			p := filepath.Join(filepath.Dir(self), name)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
				return p, nil
			}
		}
	}
	return lookPath(name)
}
