//go:build !headless

package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"upshot/app"
)

// runDefault is what "upshot" with no command does: it opens the window.
// Without a display it says so and prints the subcommands, which need none.
func runDefault(ctx context.Context, stdout, stderr io.Writer) int {
	err := app.Run(ctx, app.Options{Stdout: stdout})
	switch {
	case errors.Is(err, app.ErrNoDisplay):
		fmt.Fprintf(stderr, "upshot: %v\n\n", err)
		usage(stderr)
		return exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "upshot: %v\n", err)
		return exitFailed
	}
	return exitOK
}
