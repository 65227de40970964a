package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"upshot/internal/capture"
	"upshot/internal/clipboard"
	"upshot/internal/core"
	"upshot/internal/notify"
	"upshot/uploader"
)

// runCapture takes a screenshot with the desktop's own tool and uploads
// it through the queue: "upshot capture [region|window|screen]".
func runCapture(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("capture", stderr)
	configPath := fs.String("config", uploader.DefaultConfigPath(), "config file")
	asJSON := fs.Bool("json", false, "print the upload as one JSON object")
	noClip := fs.Bool("no-clipboard", false, "do not put the link (or the image) on the clipboard")
	formatName := fs.String("format", "", "link format: url, markdown, html or bbcode (default: output.format from the config)")
	delayText := fs.String("delay", "", "wait this many seconds first (default: capture.delay for a screen capture)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) > 1 {
		fmt.Fprintln(stderr, "upshot capture: name one of region, window or screen, e.g. upshot capture region")
		return exitUsage
	}
	mode := capture.Region
	if len(pos) == 1 {
		if mode, err = capture.ParseMode(pos[0]); err != nil {
			fmt.Fprintf(stderr, "upshot capture: %v\n", err)
			return exitUsage
		}
	}
	cfg, _, code := setup(*configPath, stderr)
	if cfg == nil {
		return code
	}
	format, ok := linkFormat(cfg, *formatName, "capture", stderr)
	if !ok {
		return exitUsage
	}
	opts := core.CaptureOptions(cfg, mode)
	if *delayText != "" {
		d, err := parseDelay(*delayText)
		if err != nil {
			fmt.Fprintf(stderr, "upshot capture: --delay: %v\n", err)
			return exitUsage
		}
		opts.Delay = d
	}

	// Run from a keyboard shortcut there is no terminal: a notification
	// says how it went.
	tell := func(title, body string) {
		if !isTerminal(stdout) {
			_ = notify.Send(ctx, title, body)
		}
	}
	shot, err := capture.Take(ctx, mode, opts)
	var unavailable *capture.UnavailableError
	switch {
	case errors.Is(err, capture.ErrCancelled):
		fmt.Fprintln(stderr, "upshot: capture cancelled: nothing was uploaded")
		return exitFailed
	case errors.As(err, &unavailable):
		fmt.Fprintf(stderr, "upshot: cannot capture here: %s\n", oneLine(unavailable))
		tell("Upshot cannot capture here", oneLine(unavailable))
		return exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "upshot: capture: %s\n", oneLine(err))
		tell("Capture failed", oneLine(err))
		return exitFailed
	}
	var clip *clipboard.Clipboard
	if !*noClip {
		clip = clipboard.New(clipboard.Options{Persist: true})
	}
	if clip != nil && cfg.Capture.CopyImage {
		copyImage(ctx, clip, shot.Path, stderr)
	}

	res, handedOff, err := uploadCapture(ctx, cfg, stderr, shot.Path)
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "upshot: %s was saved, but %s\n", shot.Path, oneLine(err))
		tell("Screenshot not uploaded", oneLine(err))
		return exitFailed
	case res.Queued:
		fmt.Fprintf(stderr, "upshot: %s is not uploaded yet: %s; it is saved and stays queued, and uploads when Upshot next runs (the window or upshot watch)\n",
			shot.Path, oneLine(res.Err))
		tell("Screenshot not uploaded yet", "It is saved and uploads when Upshot next runs: "+oneLine(res.Err))
		return exitFailed
	case res.Err != nil:
		fmt.Fprintf(stderr, "upshot: %s was saved, but not uploaded: %s\n", shot.Path, oneLine(res.Err))
		tell("Screenshot not uploaded", oneLine(res.Err))
		return exitFailed
	}
	link := res.Link.Format(format)
	if *asJSON {
		e := res.Entry
		line, _ := json.Marshal(uploadLine{File: shot.Path, Key: e.Key, URL: e.URL, Link: link, SHA1: e.SHA1, Size: e.Size,
			Deduplicated: e.Deduplicated, LinkStatus: e.LinkStatus})
		fmt.Fprintf(stdout, "%s\n", line)
	} else {
		fmt.Fprintln(stdout, link)
	}
	if strings.HasPrefix(res.Entry.LinkStatus, "link broken") {
		fmt.Fprintf(stderr, "upshot: warning: uploaded, but %s\n", res.Entry.LinkStatus)
	}
	copied := false
	if clip != nil {
		if err := clip.WriteText(ctx, link); err != nil {
			fmt.Fprintf(stderr, "upshot: warning: the link is not on the clipboard: %s\n", oneLine(err))
		} else {
			copied = true
		}
	}
	switch {
	case handedOff:
		// The window (or watch) that uploaded it has said so already.
	case copied:
		tell("Screenshot uploaded", "The link is on the clipboard: "+res.Entry.URL)
	default:
		tell("Screenshot uploaded", res.Entry.URL)
	}
	return exitOK
}

// parseDelay reads "--delay": seconds ("3", "1.5") or a duration ("3s").
func parseDelay(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		secs, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			return 0, fmt.Errorf("%q is not a number of seconds", s)
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d < 0 || d > uploader.MaxCaptureDelay {
		return 0, fmt.Errorf("%v is out of range: use 0 to %v", d, uploader.MaxCaptureDelay)
	}
	return d, nil
}

// copyImage puts the capture itself on the clipboard, before the upload.
func copyImage(ctx context.Context, clip *clipboard.Clipboard, path string, stderr io.Writer) {
	data, err := os.ReadFile(path)
	if err == nil {
		err = clip.WriteImage(ctx, data)
	}
	if err != nil {
		fmt.Fprintf(stderr, "upshot: warning: the image is not on the clipboard: %s\n", oneLine(err))
	}
}

// uploadCapture uploads the capture through the queue: this process's, or
// that of the Upshot that runs it (the window, a watch; handedOff).
func uploadCapture(ctx context.Context, cfg *uploader.Config, stderr io.Writer, path string) (_ core.Captured, handedOff bool, _ error) {
	var res core.Captured
	c, err := takeQueue(ctx, uploader.DataDir(), cfg, stderr, func(r *core.Remote) (bool, error) {
		var err error
		res, err = r.Capture(ctx, path)
		return err == nil, err
	})
	switch {
	case errors.Is(err, errHandedOff):
		return res, true, nil
	case err != nil:
		return res, false, err
	}
	res = c.UploadCapture(ctx, path)
	c.Finish()
	if err := c.Close(); err != nil {
		fmt.Fprintf(stderr, "upshot: warning: %s\n", oneLine(err))
	}
	return res, false, nil
}
