package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"upshot/internal/core"

	"upshot/internal/store"
	"upshot/uploader"
)

// historyLine is one line of "upshot history --json".
type historyLine struct {
	Time         time.Time `json:"time"`
	File         string    `json:"file"`
	Key          string    `json:"key"`
	URL          string    `json:"url"`
	SHA1         string    `json:"sha1"`
	OriginalSHA1 string    `json:"original_sha1,omitempty"`
	Size         int64     `json:"size"`
	ContentType  string    `json:"content_type"`
	Source       string    `json:"source"`
	Deduplicated bool      `json:"deduplicated"`
	LinkStatus   string    `json:"link_status,omitempty"`
	Deleted      bool      `json:"deleted,omitempty"`
}

func runHistory(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("history", stderr)
	asJSON := fs.Bool("json", false, "print one JSON object per upload")
	search := fs.String("search", "", "only uploads whose file name, key or link contains TEXT")
	limit := fs.Int("limit", 20, "at most N uploads, newest first (0: all)")
	all := fs.Bool("deleted", false, "include uploads deleted from the bucket")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(rest) > 0 {
		*search = strings.Join(append([]string{*search}, rest...), " ")
		*search = strings.TrimSpace(*search)
	}
	c, err := core.OpenShared(ctx, core.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "upshot: %v\n", err)
		return exitFailed
	}
	defer c.Close()
	entries, err := c.History(ctx, store.Query{Search: *search, Limit: *limit, IncludeDeleted: *all})
	if err != nil {
		fmt.Fprintf(stderr, "upshot: %v\n", err)
		return exitFailed
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	for _, e := range entries {
		if *asJSON {
			line, _ := json.Marshal(historyLine{Time: e.Time, File: e.File, Key: e.Key, URL: e.URL, SHA1: e.SHA1,
				OriginalSHA1: origIfDifferent(e), Size: e.Size, ContentType: e.ContentType, Source: string(e.Source),
				Deduplicated: e.Deduplicated, LinkStatus: e.LinkStatus, Deleted: !e.DeletedAt.IsZero()})
			fmt.Fprintf(w, "%s\n", line)
			continue
		}
		note := ""
		switch {
		case !e.DeletedAt.IsZero():
			note = "  (deleted " + e.DeletedAt.Local().Format("2006-01-02 15:04") + ")"
		case e.Deduplicated:
			note = "  (reused)"
		}
		if strings.HasPrefix(e.LinkStatus, "link broken") {
			note += "  " + e.LinkStatus
		}
		fmt.Fprintf(w, "%s  %-8s %8s  %s  %s%s\n", e.Time.Local().Format("2006-01-02 15:04"), e.Source, uploader.Size(e.Size),
			filepath.Base(e.File), e.URL, note)
	}
	if len(entries) == 0 && !*asJSON {
		if *search != "" {
			fmt.Fprintf(stderr, "upshot: no uploads match %q\n", *search)
		} else {
			fmt.Fprintln(stderr, "upshot: no uploads yet")
		}
	}
	return exitOK
}

func origIfDifferent(e store.Entry) string {
	if e.OriginalSHA1 == e.SHA1 {
		return ""
	}
	return e.OriginalSHA1
}

func runDelete(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("delete", stderr)
	configPath := fs.String("config", uploader.DefaultConfigPath(), "config file")
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	force := fs.Bool("force", false, "also delete keys that Upshot did not upload")
	keys, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(keys) != 1 {
		fmt.Fprintln(stderr, "upshot delete: name one key, e.g. upshot delete 2026/11/shot.png")
		return exitUsage
	}
	key := keys[0]
	c, code := openHistory(ctx, *configPath, stderr)
	if c == nil {
		return code
	}
	defer c.Close()
	cfg, _ := c.Settings()
	_, known, err := c.Lookup(ctx, key)
	if err != nil {
		fmt.Fprintf(stderr, "upshot: %v\n", err)
		return exitFailed
	}
	if !known && !*force {
		fmt.Fprintf(stderr, "upshot: %s is not in Upshot's history, so Upshot did not upload it: check the key, or pass --force to delete it anyway\n", key)
		return exitUsage
	}
	if !*yes {
		if !isTerminal(os.Stdin) {
			fmt.Fprintln(stderr, "upshot delete: not asking without a terminal: pass --yes to confirm")
			return exitUsage
		}
		fmt.Fprintf(stderr, "Delete %s from bucket %s? Links to it will stop working. [y/N] ", key, cfg.Target.Bucket)
		answer, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			fmt.Fprintln(stderr, "upshot: not deleted")
			return exitFailed
		}
	}
	if err := c.Delete(ctx, key, *force); err != nil {
		fmt.Fprintf(stderr, "upshot: %s\n", oneLine(err))
		if uploader.IsConfigError(err) {
			return exitUsage
		}
		return exitFailed
	}
	fmt.Fprintf(stdout, "deleted %s\n", key)
	return exitOK
}

// openHistory loads the settings and opens the history beside whatever
// runs the queue, printing any problem with its exit code: a store that
// cannot be used is a failure, the settings a usage error.
func openHistory(ctx context.Context, configPath string, stderr io.Writer) (*core.Core, int) {
	cfg, err := uploader.Load(configPath)
	if err != nil {
		fmt.Fprintf(stderr, "upshot: %v\n", err)
		return nil, exitUsage
	}
	c, err := core.OpenShared(ctx, core.Options{Config: cfg, Uploader: uploaderOptions(stderr)})
	if err != nil {
		fmt.Fprintf(stderr, "upshot: %v\n", err)
		if isTrouble(err) {
			return nil, exitFailed
		}
		return nil, exitUsage
	}
	return c, exitOK
}
