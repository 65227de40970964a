// Command s3env runs a command against a fresh local S3 server: the test
// bed's versitygw on loopback (uploader/s3test), optionally behind a proxy
// that holds every request for a while, as a distant server would. It
// stops the server when the command ends and exits with its status.
// scripts/bench.sh runs scripts/baselines.sh under it.
//
// Usage (from the module root):
//
//	go run ./internal/devtools/s3env [-latency 10ms] COMMAND [ARG...]
//
// The command finds the server in its environment: S3_ENDPOINT, S3_BUCKET,
// S3_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, S3_DIR (the posix
// backend's root: the bucket's objects are files under S3_DIR/S3_BUCKET),
// S3_SERVER_PID (versitygw's process, for its CPU time) and S3_LATENCY_MS.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"time"

	"upshot/uploader/s3test"
)

func main() {
	latency := flag.Duration("latency", 0, "hold every request this long before passing it on (0: no proxy)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: s3env [-latency 10ms] COMMAND [ARG...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	code, err := run(*latency, flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "s3env:", err)
	}
	os.Exit(code)
}

// run starts the server (and proxy), runs args and returns its exit code.
func run(latency time.Duration, args []string) (code int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := s3test.StartServer(ctx, s3test.Options{})
	if err != nil {
		return 1, fmt.Errorf("start the S3 server: %w", err)
	}
	defer func() { err = errors.Join(err, srv.Close()) }()
	endpoint := srv.Endpoint
	if latency > 0 {
		p, err := s3test.StartProxy(srv, s3test.ProxyOptions{Latency: latency})
		if err != nil {
			return 1, fmt.Errorf("start the proxy: %w", err)
		}
		defer func() { err = errors.Join(err, p.Close()) }()
		endpoint = p.URL
	}

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(),
		"S3_ENDPOINT="+endpoint,
		"S3_BUCKET="+srv.Bucket,
		"S3_REGION="+srv.Region,
		"AWS_ACCESS_KEY_ID="+srv.AccessKey,
		"AWS_SECRET_ACCESS_KEY="+srv.SecretKey,
		"S3_DIR="+srv.Dir,
		fmt.Sprintf("S3_SERVER_PID=%d", srv.PID()),
		fmt.Sprintf("S3_LATENCY_MS=%d", latency.Milliseconds()),
	)
	// An interrupt from the terminal reaches the command too: wait for it
	// to clean up, then stop the server.
	signal.Notify(make(chan os.Signal, 1), os.Interrupt)
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return 1, fmt.Errorf("run %s: %w", args[0], err)
	}
	return 0, nil
}
