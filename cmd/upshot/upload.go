package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"upshot/internal/clipboard"
	"upshot/internal/core"
	"upshot/internal/store"
	"upshot/uploader"
)

// uploadLine is one line of "upshot upload --json".
type uploadLine struct {
	File         string `json:"file"`
	Key          string `json:"key"`
	URL          string `json:"url"`
	Link         string `json:"link"`
	SHA1         string `json:"sha1"`
	Size         int64  `json:"size"`
	Deduplicated bool   `json:"deduplicated"`
	LinkStatus   string `json:"link_status,omitempty"`
}

func runUpload(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("upload", stderr)
	configPath := fs.String("config", uploader.DefaultConfigPath(), "config file")
	asJSON := fs.Bool("json", false, "print one JSON object per file")
	noClip := fs.Bool("no-clipboard", false, "do not put the links on the clipboard")
	formatName := fs.String("format", "", "link format: url, markdown, html or bbcode (default: output.format from the config)")
	keepMeta := fs.Bool("keep-metadata", false, "upload photos with their Exif/XMP metadata (GPS included)")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "upshot upload: name at least one file, e.g. upshot upload shot.png")
		return exitUsage
	}
	cfg, up, code := setup(*configPath, stderr)
	if up == nil {
		return code
	}
	format, err := uploader.ParseFormat(cfg.Output.Format)
	if *formatName != "" {
		format, err = uploader.ParseFormat(*formatName)
	}
	if err != nil {
		fmt.Fprintf(stderr, "upshot upload: --format: %v: use url, markdown, html or bbcode\n", err)
		return exitUsage
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	strip := cfg.Privacy.Strips() && !*keepMeta
	send := func(ctx context.Context, path string) (uploadLine, uploader.Link, error) {
		res, err := up.Upload(ctx, uploader.Request{Path: path, StripMetadata: strip})
		return uploadLine{File: res.File, Key: res.Key, URL: res.URL, SHA1: res.SHA1, Size: res.Size,
			Deduplicated: res.Deduplicated, LinkStatus: res.LinkStatus}, res.Link, err
	}
	// Uploads go into the history (and are recognised next time) when the
	// data dir can hold it; without it they still work.
	if st, err := openStore(ctx); err != nil {
		fmt.Fprintf(stderr, "upshot: warning: uploading without history: %s\n", oneLine(err))
	} else {
		defer st.Close()
		svc := core.New(st, up, core.Options{StripMetadata: func(store.Job) bool { return strip }})
		send = func(ctx context.Context, path string) (uploadLine, uploader.Link, error) {
			e, link, err := svc.UploadNow(ctx, path, store.SourceCLI)
			return uploadLine{File: path, Key: e.Key, URL: e.URL, SHA1: e.SHA1, Size: e.Size,
				Deduplicated: e.Deduplicated, LinkStatus: e.LinkStatus}, link, err
		}
	}
	results := uploadAll(ctx, cancel, send, files, cfg.Transfer.Concurrency)

	code = exitOK
	var links []string
	var fatal error
	for i, ch := range results {
		r := <-ch
		switch {
		case r.err == nil:
			link := r.link.Format(format)
			links = append(links, link)
			if *asJSON {
				r.line.Link = link
				line, _ := json.Marshal(r.line)
				fmt.Fprintf(stdout, "%s\n", line)
			} else {
				fmt.Fprintln(stdout, link)
			}
			if strings.HasPrefix(r.line.LinkStatus, "link broken") {
				fmt.Fprintf(stderr, "upshot: warning: %s: uploaded, but %s\n", r.line.File, r.line.LinkStatus)
			}
		case uploader.IsConfigError(r.err) || errors.Is(r.err, uploader.ErrUnreachable):
			// The same reason would repeat for every file: say it once.
			if fatal == nil {
				fatal = r.err
				fmt.Fprintf(stderr, "upshot: %s\n", oneLine(r.err))
			}
			code = max(code, exitFailed)
			if uploader.IsConfigError(r.err) {
				code = exitUsage
			}
		case fatal != nil && errors.Is(r.err, context.Canceled):
			// Stopped because of the fatal error above.
		default:
			msg := oneLine(r.err)
			if !strings.Contains(msg, files[i]) {
				msg = files[i] + ": " + msg
			}
			fmt.Fprintf(stderr, "upshot: %s\n", msg)
			code = max(code, exitFailed)
		}
	}
	if fatal != nil {
		if n := len(files) - len(links); n > 1 {
			fmt.Fprintf(stderr, "upshot: %d files were not uploaded\n", n)
		}
	}
	if len(links) > 0 && !*noClip {
		clip := clipboard.New(clipboard.Options{Persist: true})
		if err := clip.WriteText(ctx, strings.Join(links, "\n")); err != nil {
			fmt.Fprintf(stderr, "upshot: warning: the link is not on the clipboard: %s\n", oneLine(err))
		}
	}
	return code
}

type uploadResult struct {
	line uploadLine
	link uploader.Link
	err  error
}

// uploadAll uploads files, at most n at once, and returns one channel per
// file, in order, each receiving that file's result. A configuration error
// (bad key, missing bucket) or an unreachable endpoint cancels the rest.
func uploadAll(ctx context.Context, cancel context.CancelCauseFunc, send func(context.Context, string) (uploadLine, uploader.Link, error), files []string, n int) []chan uploadResult {
	out := make([]chan uploadResult, len(files))
	for i := range out {
		out[i] = make(chan uploadResult, 1)
	}
	sem := make(chan struct{}, max(n, 1))
	var wg sync.WaitGroup
	for i, f := range files {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				out[i] <- uploadResult{err: context.Cause(ctx)}
				return
			}
			defer func() { <-sem }()
			if err := ctx.Err(); err != nil {
				out[i] <- uploadResult{err: context.Cause(ctx)}
				return
			}
			line, link, err := send(ctx, f)
			if uploader.IsConfigError(err) || errors.Is(err, uploader.ErrUnreachable) {
				cancel(context.Canceled)
			}
			out[i] <- uploadResult{line: line, link: link, err: err}
		})
	}
	return out
}

// setup loads the config and builds the uploader, printing any problem.
func setup(path string, stderr io.Writer) (*uploader.Config, *uploader.Uploader, int) {
	cfg, err := uploader.Load(path)
	if err != nil {
		fmt.Fprintf(stderr, "upshot: %v\n", err)
		return nil, nil, exitUsage
	}
	opts := uploader.Options{StateDir: uploader.DataDir(), Client: clientOptions()}
	if isTerminal(stderr) {
		// Someone is watching: say why nothing seems to happen.
		p := uploader.DefaultPolicy
		p.OnRetry = func(op string, attempt int, err error, wait time.Duration) {
			fmt.Fprintf(stderr, "upshot: %s: %s; retrying in %v\n", op, retryReason(err), wait.Round(100*time.Millisecond))
		}
		opts.Policy = &p
	}
	up, err := uploader.New(cfg, opts)
	if err != nil {
		fmt.Fprintf(stderr, "upshot: %v\n", err)
		return nil, nil, exitUsage
	}
	return cfg, up, exitOK
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// retryReason is a short reason for a retry notice.
func retryReason(err error) string {
	msg := oneLine(err)
	if i := strings.LastIndex(msg, ": "); i >= 0 && len(msg)-i < 120 {
		return msg[i+2:]
	}
	return msg
}

// clientOptions is a hook for tests that trust their own CA.
var clientOptions = func() uploader.ClientOptions { return uploader.ClientOptions{} }
