package main

import (
	"context"
	"io"
)

// runDefault is what "upshot" with no command does.
func runDefault(_ context.Context, stdout, _ io.Writer) int {
	usage(stdout)
	return exitOK
}
