// Command upshot uploads screenshots and other files to a B2 bucket (or any
// S3-compatible store) and puts a friendly link on the clipboard.
//
// Run "upshot help" for the subcommands. Every subcommand works without a
// display.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"upshot/internal/clipboard"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // some work failed; stderr says which and why
	exitUsage  = 2 // bad flags or configuration, or nothing to capture with here
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == clipboard.HoldCommand {
		os.Exit(clipboard.Hold(os.Stdin))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one subcommand.
type command struct {
	name, args, summary string
	run                 func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"upload", "[--config F] [--json] [--no-clipboard] [--format url|markdown|html|bbcode] FILE…", "upload files and print their links", runUpload},
		{"capture", "[region|window|screen] [--delay SECONDS] [--config F] [--json] [--no-clipboard] [--format F]", "take a screenshot with the desktop's tool, upload it and print its link", runCapture},
		{"watch", "[--config F] [--json] [--no-clipboard] [DIR…]", "watch folders and upload every new file (headless)", runWatch},
		{"inbox", "[--config F] [--listen ADDR] [--json] [--no-clipboard] [--setup-cors]", "let a phone on the network upload photos and videos (prints a QR code)", runInbox},
		{"check", "[--config F] [--json]", "test the configuration against the real endpoint", runCheck},
		{"history", "[--json] [--search TEXT] [--limit N] [--deleted]", "list past uploads, newest first", runHistory},
		{"delete", "[--config F] [--yes] [--force] KEY", "delete an uploaded object from the bucket", runDelete},
		{"share", "[--config F] [--expires DUR] [--no-clipboard] KEY", "print an expiring link to a private object (at most 7 days)", runShare},
		{"settings", "", "open the window on its settings", runSettings},
		{"status", "[--json]", "say which Upshot runs the queue, and what it holds", runStatus},
		{"cdn-setup", "[--config F] [--domain D] [--private | --remove]", "print the custom domain's set-up; --private deploys the Worker for a private bucket", runCDNSetup},
		{"cdn-refresh", "[--config F] [--schedule]", "renew a private bucket's download authorization (token mode)", runCDNRefresh},
		{"version", "", "print the version", func(_ context.Context, _ []string, stdout, _ io.Writer) int {
			fmt.Fprintln(stdout, "upshot", version)
			return exitOK
		}},
	}
}

// run is the whole program minus process wiring, so tests can drive it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return runDefault(ctx, stdout, stderr)
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "upshot: unknown command %q\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: upshot [command] [flags]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n             %s\n", c.name, c.summary, c.args)
	}
	fmt.Fprintln(w, "\nThe config is TOML, by default in", "the user config folder (upshot/config.toml); --config or UPSHOT_CONFIG override it.")
	fmt.Fprintln(w, "Credentials: B2_APPLICATION_KEY_ID and B2_APPLICATION_KEY, or key_id and key in the config.")
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments ("upshot upload a.png --json"). "--" ends the flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// flag.Parse stops at "--" and drops it; everything after is positional.
		if i := len(args) - len(rest); i > 0 && args[i-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// newFlags makes a FlagSet that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("upshot "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// flagExit maps a flag parse error to an exit code.
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// oneLine keeps an error message to a single line for stderr.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}

// aboutFile is err on one line, led by the file's name unless the message
// names the file already.
func aboutFile(file string, err error) string {
	msg := oneLine(err)
	if !strings.Contains(msg, file) {
		msg = file + ": " + msg
	}
	return msg
}
