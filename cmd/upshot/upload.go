package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"upshot/internal/clipboard"
	"upshot/internal/core"
	"upshot/internal/instance"
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
	format, ok := linkFormat(cfg, *formatName, "upload", stderr)
	if !ok {
		return exitUsage
	}

	bp := &batchPrinter{stdout: stdout, stderr: stderr, json: *asJSON, format: format, files: files,
		results: make([]*core.Result, len(files)), code: exitOK}
	dataDir := uploader.DataDir()
	c, err := takeQueue(ctx, dataDir, cfg, stderr, func(r *core.Remote) (bool, error) {
		answered := false
		err := r.Upload(ctx, files, *keepMeta, func(i int, res core.Result) {
			answered = true
			bp.result(i, res)
		})
		return answered, err
	})
	switch {
	case errors.Is(err, errHandedOff):
	case err != nil && ctx.Err() == nil && isTrouble(err):
		// Uploads still work without the history, which then does not
		// know them.
		fmt.Fprintf(stderr, "upshot: warning: uploading without history: %s\n", oneLine(err))
		strip := cfg.Privacy.Strips() && !*keepMeta
		core.Batch(ctx, files, cfg.Transfer.Concurrency, func(ctx context.Context, path string) core.Result {
			res, err := up.Upload(ctx, uploader.Request{Path: path, StripMetadata: strip})
			return core.Result{Entry: store.Entry{File: path, Key: res.Key, URL: res.URL, SHA1: res.SHA1, Size: res.Size,
				Deduplicated: res.Deduplicated, LinkStatus: res.LinkStatus}, Link: res.Link, Err: err}
		}, bp.result)
	case err != nil:
		fmt.Fprintf(stderr, "upshot: %s\n", oneLine(err))
		return exitFailed
	default:
		c.Upload(ctx, files, store.SourceCLI, *keepMeta, bp.result)
		c.Finish() // the files other commands handed over meanwhile
		if err := c.Close(); err != nil {
			fmt.Fprintf(stderr, "upshot: warning: %s\n", oneLine(err))
		}
	}
	return bp.finish(ctx, !*noClip)
}

// errHandedOff says the files went to the process that runs the queue.
var errHandedOff = errors.New("handed off")

// takeQueue opens the queue for this command, or, while the window or
// another command runs it, hands the work over with handOver (then it
// returns errHandedOff). handOver reports whether the running Upshot
// answered at all. A process that holds the queue but does not listen yet
// (starting) or any more (finishing) is asked again for a few seconds.
func takeQueue(ctx context.Context, dataDir string, cfg *uploader.Config, stderr io.Writer,
	handOver func(*core.Remote) (answered bool, err error)) (*core.Core, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := core.Open(ctx, core.Options{DataDir: dataDir, Config: cfg, Uploader: uploaderOptions(stderr), Role: core.RoleUpload})
		if !errors.Is(err, instance.ErrRunning) {
			return c, err
		}
		answered, err := handOver(core.Reach(dataDir))
		switch {
		case err == nil:
			return nil, errHandedOff
		case answered, errors.Is(err, core.ErrRefused), ctx.Err() != nil:
			return nil, err
		}
		// Nobody listens, or the holder went away before answering: it is
		// starting or ending; look again.
		if time.Now().After(deadline) {
			return nil, errors.New("another Upshot holds the queue but does not answer: if it is an older version, quit it and try again")
		}
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// isTrouble reports a store that cannot be used.
func isTrouble(err error) bool {
	var t *store.Trouble
	return errors.As(err, &t)
}

// batchPrinter prints a batch's results in the order of the files, each
// as soon as it and the ones before it are known.
type batchPrinter struct {
	stdout, stderr io.Writer
	json           bool
	format         uploader.Format
	files          []string
	results        []*core.Result
	next           int
	links          []string
	fatal          bool
	code           int
}

// result takes one file's result; calls come one at a time.
func (p *batchPrinter) result(i int, r core.Result) {
	p.results[i] = &r
	for p.next < len(p.results) && p.results[p.next] != nil {
		p.print(*p.results[p.next])
		p.next++
	}
}

func (p *batchPrinter) print(r core.Result) {
	switch {
	case r.Err == nil:
		link := r.Link.Format(p.format)
		p.links = append(p.links, link)
		if p.json {
			e := r.Entry
			line, _ := json.Marshal(uploadLine{File: r.File, Key: e.Key, URL: e.URL, Link: link, SHA1: e.SHA1, Size: e.Size,
				Deduplicated: e.Deduplicated, LinkStatus: e.LinkStatus})
			fmt.Fprintf(p.stdout, "%s\n", line)
		} else {
			fmt.Fprintln(p.stdout, link)
		}
		if strings.HasPrefix(r.Entry.LinkStatus, "link broken") {
			fmt.Fprintf(p.stderr, "upshot: warning: %s: uploaded, but %s\n", r.File, r.Entry.LinkStatus)
		}
	case r.Stopped():
		// Not tried, because of the fatal error printed once.
		p.code = max(p.code, exitFailed)
	case r.Fatal:
		// The same reason would repeat for every file: say it once.
		if !p.fatal {
			p.fatal = true
			fmt.Fprintf(p.stderr, "upshot: %s\n", oneLine(r.Err))
		}
		p.code = max(p.code, exitFailed)
		if r.Config {
			p.code = exitUsage
		}
	default:
		fmt.Fprintf(p.stderr, "upshot: %s\n", aboutFile(r.File, r.Err))
		p.code = max(p.code, exitFailed)
	}
}

// finish reports what was not uploaded, puts the links on the clipboard
// and returns the exit code.
func (p *batchPrinter) finish(ctx context.Context, clip bool) int {
	if p.fatal {
		if n := len(p.files) - len(p.links); n > 1 {
			fmt.Fprintf(p.stderr, "upshot: %d files were not uploaded\n", n)
		}
	}
	if len(p.links) > 0 && clip {
		c := clipboard.New(clipboard.Options{Persist: true})
		if err := c.WriteText(ctx, strings.Join(p.links, "\n")); err != nil {
			fmt.Fprintf(p.stderr, "upshot: warning: the link is not on the clipboard: %s\n", oneLine(err))
		}
	}
	return p.code
}

// linkFormat is the format of the links cmd prints: the --format flag's
// (flag), else the config's. It prints a bad flag's problem.
func linkFormat(cfg *uploader.Config, flag, cmd string, stderr io.Writer) (uploader.Format, bool) {
	name := cfg.Output.Format
	if flag != "" {
		name = flag
	}
	format, err := uploader.ParseFormat(name)
	if err != nil {
		fmt.Fprintf(stderr, "upshot %s: --format: %v: use url, markdown, html or bbcode\n", cmd, err)
		return "", false
	}
	return format, true
}

// setup loads the config and builds the uploader, printing any problem.
func setup(path string, stderr io.Writer) (*uploader.Config, *uploader.Uploader, int) {
	cfg, err := uploader.Load(path)
	if err != nil {
		fmt.Fprintf(stderr, "upshot: %v\n", err)
		return nil, nil, exitUsage
	}
	up, err := uploader.New(cfg, uploaderOptions(stderr))
	if err != nil {
		fmt.Fprintf(stderr, "upshot: %v\n", err)
		return nil, nil, exitUsage
	}
	return cfg, up, exitOK
}

// uploaderOptions are the uploader's options for a command: the data
// folder, and on a terminal a notice for every retry.
func uploaderOptions(stderr io.Writer) uploader.Options {
	opts := uploader.Options{StateDir: uploader.DataDir(), Client: clientOptions()}
	if isTerminal(stderr) {
		// Someone is watching: say why nothing seems to happen.
		p := uploader.DefaultPolicy
		p.OnRetry = func(op string, attempt int, err error, wait time.Duration) {
			fmt.Fprintf(stderr, "upshot: %s: %s; retrying in %v\n", op, retryReason(err), wait.Round(100*time.Millisecond))
		}
		opts.Policy = &p
	}
	return opts
}

// isTerminal reports whether w is a terminal.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && isTerminalFd(f.Fd())
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
