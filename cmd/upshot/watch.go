package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"upshot/internal/clipboard"
	"upshot/internal/core"
	"upshot/uploader"
	"upshot/watcher"
)

// watchLine is one line of "upshot watch --json": an upload, or (Event
// "link broken") the later news that an upload's link does not work.
type watchLine struct {
	uploadLine
	LatencyMS float64 `json:"latency_ms"`
	Event     string  `json:"event,omitempty"`
}

func runWatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("watch", stderr)
	configPath := fs.String("config", uploader.DefaultConfigPath(), "config file")
	asJSON := fs.Bool("json", false, "print one JSON object per upload")
	noClip := fs.Bool("no-clipboard", false, "do not put links on the clipboard")
	dirs, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	cfg, up, code := setup(*configPath, stderr)
	if up == nil {
		return code
	}
	folders, err := watchFolders(cfg, dirs)
	if err != nil {
		fmt.Fprintf(stderr, "upshot watch: %v\n", err)
		return exitUsage
	}
	p := newPrinter(cfg, stdout, stderr, *asJSON, !*noClip)
	c, err := openQueue(ctx, cfg, core.RoleWatch, p)
	if err != nil {
		fmt.Fprintf(stderr, "upshot watch: %v\n", err)
		return exitFailed
	}
	defer c.Close()
	// The queue runs until the watch ends: by a signal, or by a store that
	// cannot be used.
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() {
		runErr = c.Run(runCtx)
		cancel()
	})
	defer func() {
		cancel()
		wg.Wait()
	}()
	if err := c.Watch(runCtx, folders, p.warn); err != nil {
		fmt.Fprintf(stderr, "upshot watch: %v\n", err)
		return exitUsage
	}
	// A private bucket's download authorization (token mode) is renewed
	// while the watch runs.
	if cfg.CDN.Private && cfg.CDN.Auth == uploader.CDNToken {
		if s, err := privateSetup(runCtx, cfg, up, true); err != nil {
			p.warn(fmt.Errorf("the private bucket's download authorization will not be renewed while this runs: %w", err))
		} else {
			wg.Go(func() {
				s.KeepRenewed(runCtx, func(exp time.Time, err error) {
					if err != nil {
						p.warn(fmt.Errorf("renewing the private bucket's download authorization: %w (tried again in an hour)", err))
						return
					}
					p.say("renewed the private bucket's download authorization, until %s", exp.Local().Format("2006-01-02 15:04"))
				})
			})
		}
	}
	wg.Go(func() {
		err := c.FollowConfig(runCtx, cfg.Path, func(next *uploader.Config, err error) {
			if err != nil {
				p.warn(fmt.Errorf("the settings changed but cannot be used, so the previous ones stay: %w", err))
				return
			}
			p.setFormat(next)
			if len(dirs) > 0 || slices.EqualFunc(next.Watch, cfg.Watch, sameWatch) {
				p.say("settings reloaded from %s", next.Path)
				return
			}
			fs, err := watchFolders(next, nil)
			if err == nil {
				err = c.Watch(runCtx, fs, p.warn)
			}
			if err != nil {
				p.warn(fmt.Errorf("settings reloaded from %s, but the new folders cannot be watched: %w", next.Path, err))
				return
			}
			cfg = next
			p.say("settings reloaded from %s; watching %s", next.Path, folderNames(fs))
		})
		if err != nil {
			p.warn(err)
		}
	})
	fmt.Fprintf(stderr, "upshot: watching %s (Ctrl+C to stop)\n", folderNames(folders))
	c.Ready()
	<-runCtx.Done()
	cancel()
	wg.Wait()
	if runErr != nil {
		fmt.Fprintf(stderr, "upshot watch: stopped: %v\n", runErr)
		return exitFailed
	}
	return exitOK
}

// sameWatch compares two [[watch]] entries.
func sameWatch(a, b uploader.Watch) bool {
	return a.Dir == b.Dir && a.Poll == b.Poll && a.KeepMetadata == b.KeepMetadata && slices.Equal(a.Include, b.Include)
}

// folderNames lists the folders for a message.
func folderNames(fs []watcher.Folder) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Dir
	}
	return strings.Join(names, ", ")
}

// watchFolders is the DIRs given, or the config's [[watch]] folders.
func watchFolders(cfg *uploader.Config, dirs []string) ([]watcher.Folder, error) {
	var out []watcher.Folder
	for _, d := range dirs {
		out = append(out, watcher.Folder{Dir: core.ExpandHome(d)})
	}
	if len(out) == 0 {
		out = core.WatchFolders(cfg.Watch)
	}
	if len(out) == 0 {
		return nil, errors.New("no folders to watch: name them (upshot watch ~/Pictures/Screenshots) or add [[watch]] dir = \"…\" to the config")
	}
	return out, nil
}

// newPrinter prints the events of a long-running command (watch, inbox)
// to stdout and stderr, and puts links on the clipboard when clip is set.
func newPrinter(cfg *uploader.Config, stdout, stderr io.Writer, asJSON, clip bool) *printer {
	format, _ := uploader.ParseFormat(cfg.Output.Format)
	p := &printer{out: stdout, errw: stderr, json: asJSON, format: format}
	if clip {
		p.clip = clipboard.New(clipboard.Options{Persist: true})
	}
	return p
}

// openQueue opens the core for a long-running command in role, with p
// printing its events, and says what a user should know of it: uploads
// an earlier run left, and why other commands cannot reach this one.
func openQueue(ctx context.Context, cfg *uploader.Config, role string, p *printer) (*core.Core, error) {
	c, err := core.Open(ctx, core.Options{Config: cfg, Uploader: uploaderOptions(p.errw), Role: role, OnEvent: p.event})
	if err != nil {
		return nil, err
	}
	if c.Recovered > 0 {
		p.say("%d interrupted uploads queued again", c.Recovered)
	}
	if err := c.HandoffError(); err != nil {
		p.say("warning: other upshot commands cannot reach this one, so upshot upload will not run while it does: %s", oneLine(err))
	}
	return c, nil
}

// printer turns service events into output lines; safe for concurrent use.
type printer struct {
	mu       sync.Mutex
	out      io.Writer
	errw     io.Writer
	json     bool
	format   uploader.Format // guarded by mu
	clip     *clipboard.Clipboard
	clipWarn bool
}

func (p *printer) event(ev core.Event) {
	switch ev.Kind {
	case core.Done:
		p.mu.Lock()
		link := ev.Link.Format(p.format)
		if p.json {
			line, _ := json.Marshal(watchLine{uploadLine: uploadLine{File: ev.Entry.File, Key: ev.Entry.Key, URL: ev.Entry.URL, Link: link,
				SHA1: ev.Entry.SHA1, Size: ev.Entry.Size, Deduplicated: ev.Entry.Deduplicated, LinkStatus: ev.Entry.LinkStatus},
				LatencyMS: float64(ev.Latency.Microseconds()) / 1000})
			fmt.Fprintf(p.out, "%s\n", line)
		} else {
			fmt.Fprintln(p.out, link)
		}
		p.mu.Unlock()
		if p.clip != nil {
			if err := p.clip.WriteText(context.Background(), link); err != nil {
				p.mu.Lock()
				if !p.clipWarn {
					p.clipWarn = true
					fmt.Fprintf(p.errw, "upshot: warning: links will not go to the clipboard: %s\n", oneLine(err))
				}
				p.mu.Unlock()
			}
		}
	case core.LinkChecked:
		if !strings.HasPrefix(ev.Entry.LinkStatus, "link broken") {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		fmt.Fprintf(p.errw, "upshot: warning: %s: uploaded, but %s\n", ev.Entry.File, ev.Entry.LinkStatus)
		if p.json {
			// A later line for the same file: the link went out, and
			// turned out not to work.
			line, _ := json.Marshal(watchLine{uploadLine: uploadLine{File: ev.Entry.File, Key: ev.Entry.Key, URL: ev.Entry.URL,
				SHA1: ev.Entry.SHA1, Size: ev.Entry.Size, LinkStatus: ev.Entry.LinkStatus}, Event: "link broken"})
			fmt.Fprintf(p.out, "%s\n", line)
		}
	case core.Failed:
		p.mu.Lock()
		fmt.Fprintf(p.errw, "upshot: %s; retrying at %s\n", aboutFile(ev.Job.Path, ev.Err), ev.RetryAt.Format("15:04:05"))
		p.mu.Unlock()
	case core.Rejected, core.StoreFailed:
		p.warn(ev.Err)
	case core.StoreRecovered:
		p.say("the queue and history work again")
	}
}

// say prints one line of news.
func (p *printer) say(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.errw, "upshot: "+format+"\n", args...)
}

// warn prints one problem on one line.
func (p *printer) warn(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.errw, "upshot: %s\n", oneLine(err))
}

// setFormat follows the link format of new settings.
func (p *printer) setFormat(cfg *uploader.Config) {
	f, err := uploader.ParseFormat(cfg.Output.Format)
	if err != nil {
		return
	}
	p.mu.Lock()
	p.format = f
	p.mu.Unlock()
}
