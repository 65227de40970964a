package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"upshot/internal/cdn"
	"upshot/internal/cloudflare"
	"upshot/uploader"
)

// privateSetup is the private bucket's set-up of cfg, for this data
// folder.
func privateSetup(ctx context.Context, cfg *uploader.Config, up *uploader.Uploader, needToken bool) (cdn.Setup, error) {
	return cdn.FromConfig(ctx, cfg, up, uploader.DataDir(), needToken)
}

// printChanges says what a deployment or removal changed.
func printChanges(w io.Writer, changes []cloudflare.Change, none string) {
	if len(changes) == 0 {
		fmt.Fprintln(w, none)
		return
	}
	for _, c := range changes {
		fmt.Fprintf(w, "  %s  (%s)\n", c.What, c.Endpoint)
	}
}

// runPrivateSetup deploys (or with remove, removes) the private bucket's
// Worker.
func runPrivateSetup(ctx context.Context, cfg *uploader.Config, up *uploader.Uploader, remove bool, stdout, stderr io.Writer) int {
	s, err := privateSetup(ctx, cfg, up, true)
	if err != nil {
		fmt.Fprintf(stderr, "upshot: %s\n", oneLine(err))
		return exitUsage
	}
	domain, _ := cdn.Domain(cfg)
	if remove {
		changes, err := s.Remove(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "upshot: %s\n", oneLine(err))
			return exitFailed
		}
		fmt.Fprintf(stdout, "Removing Upshot's Worker from %s:\n", domain)
		printChanges(stdout, changes, "  nothing to remove: no Worker, route or secrets of Upshot's are there")
		return exitOK
	}
	if !cfg.CDN.Private {
		fmt.Fprintln(stderr, "upshot: note: cdn.private is not set in the config: set it to true so that upshot check checks the private set-up")
	}
	res, err := s.Deploy(ctx)
	if err == nil || len(res.Changes) > 0 {
		fmt.Fprintf(stdout, "Serving the private bucket %q at %s through Upshot's Worker (%s mode):\n", cfg.Target.Bucket, domain, cfg.CDN.Auth)
		printChanges(stdout, res.Changes, "  nothing to change: the Worker, its secrets and its route are as they should be")
	}
	if err != nil {
		fmt.Fprintf(stderr, "upshot: %s\n", oneLine(err))
		return exitFailed
	}
	fmt.Fprintf(stdout, "link verified: %s served the probe object with its SHA1\n", res.Checked)
	if !res.Expires.IsZero() {
		fmt.Fprintf(stdout, "The download authorization lasts until %s. Upshot renews it while the window or upshot watch runs; to renew it from a scheduler, see upshot cdn-refresh --schedule.\n",
			res.Expires.Local().Format("2006-01-02 15:04"))
	}
	return exitOK
}

func runCDNRefresh(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("cdn-refresh", stderr)
	configPath := fs.String("config", uploader.DefaultConfigPath(), "config file")
	schedule := fs.Bool("schedule", false, "print cron, systemd timer and Task Scheduler entries that run this command")
	if _, err := parseInterleaved(fs, args); err != nil {
		return flagExit(err)
	}
	if *schedule {
		printSchedule(stdout, *configPath)
		return exitOK
	}
	cfg, up, code := setup(*configPath, stderr)
	if up == nil {
		return code
	}
	if !cfg.CDN.Private || cfg.CDN.Auth != uploader.CDNToken {
		fmt.Fprintln(stderr, "upshot cdn-refresh: nothing to renew: only a private bucket in token mode (cdn.private = true, cdn.auth = \"token\") has an authorization that expires")
		return exitUsage
	}
	s, err := privateSetup(ctx, cfg, up, true)
	if err != nil {
		fmt.Fprintf(stderr, "upshot: %s\n", oneLine(err))
		return exitUsage
	}
	res, err := s.Refresh(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "upshot: %s\n", oneLine(err))
		return exitFailed
	}
	fmt.Fprintf(stdout, "renewed: the download authorization lasts until %s; link verified: %s\n", res.Expires.Local().Format("2006-01-02 15:04"), res.Checked)
	return exitOK
}

// printSchedule prints ways to run "upshot cdn-refresh" every 3 days,
// well within an authorization's 7.
func printSchedule(w io.Writer, configPath string) {
	exe, err := os.Executable()
	if err != nil {
		exe = "upshot"
	}
	if abs, err := filepath.Abs(configPath); err == nil {
		configPath = abs
	}
	cmd := fmt.Sprintf("%s cdn-refresh --config %s", shellQuote(exe), shellQuote(configPath))
	fmt.Fprintf(w, `Renew the private bucket's download authorization every 3 days (it lasts at most 7).
The Cloudflare token comes from %s or the keyring; a scheduler's environment must provide it.

cron (crontab -e):
  17 4 */3 * * %s

systemd (~/.config/systemd/user/upshot-cdn-refresh.service and .timer, then systemctl --user enable --now upshot-cdn-refresh.timer):
  [Service]
  Type=oneshot
  ExecStart=%s
  [Timer]
  OnCalendar=*-*-1/3 04:17
  Persistent=true
  [Install]
  WantedBy=timers.target

Windows Task Scheduler:
  schtasks /Create /SC DAILY /MO 3 /ST 04:17 /TN "Upshot cdn-refresh" /TR "\"%s\" cdn-refresh --config \"%s\""
`, uploader.EnvCloudflareToken, cmd, cmd, exe, configPath)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`!*?[]{}()<>|&;#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// privateFindings are upshot check's lines for a private bucket.
func privateFindings(ctx context.Context, cfg *uploader.Config, up *uploader.Uploader) []uploader.Finding {
	s, err := privateSetup(ctx, cfg, up, false)
	if err != nil {
		return []uploader.Finding{{Level: uploader.LevelFail, Topic: "private bucket", Detail: oneLine(err)}}
	}
	return s.Audit(ctx, time.Now())
}
