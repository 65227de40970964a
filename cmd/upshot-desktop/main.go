// Command upshot-desktop is Upshot's window and tray. "upshot" with no
// subcommand starts it; it is a separate program so that the command line
// (upload, watch, …) starts fast and runs on machines without a display or
// graphics libraries.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"upshot/app"
	"upshot/internal/clipboard"
	"upshot/internal/core"
	"upshot/internal/instance"
	_ "upshot/internal/locale/tidy" // before Fyne reads the locale
	"upshot/uploader"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == clipboard.HoldCommand {
		os.Exit(clipboard.Hold(os.Stdin))
	}
	page := ""
	switch {
	case len(os.Args) == 2 && os.Args[1] == "--settings":
		page = "settings"
	case len(os.Args) > 1:
		fmt.Fprintf(os.Stderr, "upshot-desktop takes no arguments but --settings; the subcommands are upshot's (upshot help)\n")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := app.Run(ctx, app.Options{Page: page})
	if errors.Is(err, instance.ErrRunning) {
		// A window runs already: bring it to the front instead.
		if shown, serr := core.Reach(uploader.DataDir()).Show(ctx, page); serr == nil && shown {
			stop()
			return
		}
	}
	signalled := ctx.Err() != nil
	stop()
	switch {
	case signalled && errors.Is(err, context.Canceled):
		// Asked to quit while starting: nothing went wrong.
	case errors.Is(err, app.ErrNoDisplay):
		fmt.Fprintf(os.Stderr, "upshot: %v\nThe command line works without one: upshot help\n", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintf(os.Stderr, "upshot: %v\n", err)
		os.Exit(1)
	}
}
