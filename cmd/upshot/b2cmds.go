package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"upshot/internal/clipboard"
	"upshot/uploader"
)

func runCDNSetup(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("cdn-setup", stderr)
	configPath := fs.String("config", uploader.DefaultConfigPath(), "config file")
	domain := fs.String("domain", "", "custom domain, e.g. img.example.com (default: from url_template)")
	private := fs.Bool("private", false, "deploy Upshot's Worker so that the domain serves a private bucket (needs "+uploader.EnvCloudflareToken+")")
	remove := fs.Bool("remove", false, "take Upshot's Worker, its route and its secrets away")
	if _, err := parseInterleaved(fs, args); err != nil {
		return flagExit(err)
	}
	cfg, up, code := setup(*configPath, stderr)
	if up == nil {
		return code
	}
	if *private || *remove {
		if *domain != "" {
			fmt.Fprintln(stderr, "upshot cdn-setup: --private and --remove take the domain from target.url_template: drop --domain")
			return exitUsage
		}
		return runPrivateSetup(ctx, cfg, up, *remove, stdout, stderr)
	}
	s, err := up.CDNSetup(ctx, *domain)
	if err != nil {
		fmt.Fprintf(stderr, "upshot: %s\n", oneLine(err))
		return exitFailed
	}
	fmt.Fprint(stdout, s.Instructions(cfg.Target.CacheControl))
	return exitOK
}

func runShare(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("share", stderr)
	configPath := fs.String("config", uploader.DefaultConfigPath(), "config file")
	expires := fs.Duration("expires", time.Hour, "how long the link works, at most 168h (7 days)")
	noClip := fs.Bool("no-clipboard", false, "do not put the link on the clipboard")
	keys, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(keys) != 1 {
		fmt.Fprintln(stderr, "upshot share: name one key, e.g. upshot share 2026/11/shot.png --expires 24h")
		return exitUsage
	}
	if *expires <= 0 || *expires > uploader.MaxShareExpiry {
		fmt.Fprintf(stderr, "upshot share: --expires %v is not allowed: choose up to 168h (7 days), the longest a presigned link can live\n", *expires)
		return exitUsage
	}
	c, code := openHistory(ctx, *configPath, stderr)
	if c == nil {
		return code
	}
	defer c.Close()
	link, err := c.Share(ctx, keys[0], *expires)
	if err != nil {
		fmt.Fprintf(stderr, "upshot: %s\n", oneLine(err))
		return exitFailed
	}
	fmt.Fprintln(stdout, link)
	if !*noClip {
		if err := clipboard.New(clipboard.Options{Persist: true}).WriteText(ctx, link); err != nil {
			fmt.Fprintf(stderr, "upshot: warning: the link is not on the clipboard: %s\n", oneLine(err))
		}
	}
	return exitOK
}
