package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"upshot/internal/core"
	"upshot/uploader"
)

// desktopName is the window program, installed beside upshot.
const desktopName = "upshot-desktop"

// runDefault is what "upshot" with no command does: it raises the window
// if one runs already, or starts it. The window lives in its own program
// (upshot-desktop, beside this one or on PATH), so that this one stays
// free of graphics libraries. Without it, it says so and prints the
// subcommands.
func runDefault(ctx context.Context, stdout, stderr io.Writer) int {
	return openWindow(ctx, "", stdout, stderr)
}

// runSettings is "upshot settings": the window, on its settings.
func runSettings(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "upshot settings takes no arguments")
		return exitUsage
	}
	return openWindow(ctx, "settings", stdout, stderr)
}

// openWindow raises the running window on page, or starts one.
func openWindow(ctx context.Context, page string, stdout, stderr io.Writer) int {
	shown, err := core.Reach(uploader.DataDir()).Show(ctx, page)
	switch {
	case err == nil && shown:
		fmt.Fprintln(stderr, "upshot: the window is open already: brought it to the front")
		return exitOK
	case err != nil && !errors.Is(err, core.ErrNotRunning):
		fmt.Fprintf(stderr, "upshot: warning: %s\n", oneLine(err))
	}
	bin, err := findDesktop()
	if err != nil {
		fmt.Fprintf(stderr, "upshot: the window is not installed (%v): build it with make build, or install the desktop package\n\n", err)
		usage(stderr)
		return exitUsage
	}
	var args []string
	if page != "" {
		args = []string{"--" + page}
	}
	return startDesktop(ctx, bin, args, stdout, stderr)
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
