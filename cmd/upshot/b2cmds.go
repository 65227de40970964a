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
	if _, err := parseInterleaved(fs, args); err != nil {
		return flagExit(err)
	}
	cfg, up, code := setup(*configPath, stderr)
	if up == nil {
		return code
	}
	s, err := up.CDNSetup(ctx, *domain)
	if err != nil {
		fmt.Fprintf(stderr, "upshot: %s\n", oneLine(err))
		return exitFailed
	}
	fmt.Fprintf(stdout, `Serving bucket %[1]q at https://%[2]s/ through Cloudflare

1. DNS (Cloudflare dashboard → DNS → Records → Add record)
     Type: CNAME   Name: %[2]s   Target: %[3]s   Proxy status: Proxied (orange cloud)

2. URL rewrite (Rules → Transform Rules → Rewrite URL → Create rule)
     When incoming requests match (custom filter expression):
       %[4]s
     Then rewrite the path: Dynamic
       %[5]s
     Query: Preserve

3. Caching
     Objects are uploaded with Cache-Control: %[6]s
     (Upshot never overwrites a key with other content, so a year is safe.)
     Current target.cache_control: %[7]s
     Optionally add a Cache Rule for the hostname: "Eligible for cache", Edge TTL "Use cache-control header if present".

4. Upshot config
     [target]
     url_template = %[8]q

Check: a screenshot with key %[9]q
     gets the link   %[10]s
     which Cloudflare fetches from %[11]s
The bucket must be public for these links; for a private bucket use "upshot share KEY".
`, cfg.Target.Bucket, s.Domain, s.CNAMETarget, s.RuleFilter, s.RuleRewrite, s.CacheControl,
		orNone(cfg.Target.CacheControl), s.URLTemplate, s.SampleKey, s.SampleLink, s.OriginExample)
	return exitOK
}

func orNone(s string) string {
	if s == "" {
		return "(not set: add the line above)"
	}
	return s
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
	_, up, code := setup(*configPath, stderr)
	if up == nil {
		return code
	}
	link, err := up.Share(ctx, keys[0], *expires)
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
