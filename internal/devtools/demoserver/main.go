// Command demoserver runs a local S3-compatible server (the pinned
// versitygw, posix backend) with a public demo bucket on 127.0.0.1, and
// writes an Upshot config that points at it. "make run" uses it when no
// target is configured, so a newcomer sees a real upload with no account.
//
// It writes the config only once the server answers, then runs until
// SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"upshot/uploader/s3test"
)

func main() {
	dir := flag.String("dir", "", "folder for the server's data (required)")
	config := flag.String("config", "", "where to write the Upshot config (required)")
	flag.Parse()
	if *dir == "" || *config == "" {
		fmt.Fprintln(os.Stderr, "usage: demoserver -dir DIR -config FILE")
		os.Exit(2)
	}
	if err := run(*dir, *config); err != nil {
		fmt.Fprintln(os.Stderr, "demoserver:", err)
		os.Exit(1)
	}
}

func run(dir, config string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	data := filepath.Join(dir, "s3")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	srv, err := s3test.StartServer(ctx, s3test.Options{Dir: data, Bucket: "upshot-demo", PublicRead: true})
	if err != nil {
		return err
	}
	defer srv.Close()
	body := fmt.Sprintf(`# Demo config written by "make run": a local server on this machine.
# Replace it with your B2 bucket's settings (see README, "Configure").
[target]
endpoint = %q
bucket = %q
key_id = %q
key = %q
path_template = "{year}/{month}/{name}{ext}"
cache_control = "public, max-age=31536000, immutable"

[output]
format = "url"
`, srv.Endpoint, srv.Bucket, srv.AccessKey, srv.SecretKey)
	tmp := config + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, config); err != nil {
		return err
	}
	fmt.Printf("demo server on %s, bucket %s, config %s\n", srv.Endpoint, srv.Bucket, config)
	<-ctx.Done()
	return nil
}
