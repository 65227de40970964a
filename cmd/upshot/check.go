package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"upshot/uploader"
)

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("check", stderr)
	configPath := fs.String("config", uploader.DefaultConfigPath(), "config file")
	asJSON := fs.Bool("json", false, "print the findings as JSON")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "upshot check: unexpected argument %q\n", rest[0])
		return exitUsage
	}
	cfg, up, code := setup(*configPath, stderr)
	if up == nil {
		return code
	}
	report := up.Check(ctx)
	if cfg.CDN.Private {
		report.Findings = append(report.Findings, privateFindings(ctx, cfg, up)...)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, f := range report.Findings {
			enc.Encode(struct {
				Level  string `json:"level"`
				Topic  string `json:"topic"`
				Detail string `json:"detail"`
			}{f.Level.String(), f.Topic, f.Detail})
		}
	} else {
		for _, f := range report.Findings {
			fmt.Fprintf(stdout, "%-8s %-13s %s\n", f.Level, f.Topic, f.Detail)
		}
	}
	if report.Failed() {
		if !*asJSON {
			fmt.Fprintln(stderr, "upshot: check failed: fix the errors above, then run upshot check again")
		}
		return exitFailed
	}
	return exitOK
}
