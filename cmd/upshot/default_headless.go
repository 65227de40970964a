//go:build headless

package main

import (
	"context"
	"io"
)

// runDefault is what "upshot" with no command does. This build (tag
// headless) has no window: it needs neither cgo nor a display, and prints
// the subcommands.
func runDefault(_ context.Context, stdout, _ io.Writer) int {
	usage(stdout)
	return exitOK
}
