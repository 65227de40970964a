package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/skip2/go-qrcode"

	"upshot/internal/core"
	"upshot/internal/inbox"
	"upshot/internal/instance"
	"upshot/internal/lan"
	"upshot/uploader"
)

// runInbox opens the phone inbox: it prints the page's address and a QR
// code, then one line per upload, as watch does, until the session ends
// (idle, or Ctrl+C). With --setup-cors it sets the bucket's CORS rule that
// lets phones upload straight to it, and exits.
func runInbox(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("inbox", stderr)
	configPath := fs.String("config", uploader.DefaultConfigPath(), "config file")
	listen := fs.String("listen", "", "address and port to serve the page on (default: inbox.listen in the config, :8765)")
	asJSON := fs.Bool("json", false, "print one JSON object per upload")
	noClip := fs.Bool("no-clipboard", false, "do not put links on the clipboard")
	setupCORS := fs.Bool("setup-cors", false, "let phones upload straight to the bucket (sets its CORS rule), then exit")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "upshot inbox: unexpected argument %q\n", rest[0])
		return exitUsage
	}
	cfg, up, code := setup(*configPath, stderr)
	if up == nil {
		return code
	}
	if *listen == "" {
		*listen = cfg.Inbox.Listen
	}
	if *setupCORS {
		return setInboxCORS(ctx, up, *listen, stdout, stderr)
	}

	p := newPrinter(cfg, stdout, stderr, *asJSON, !*noClip)
	c, err := openQueue(ctx, cfg, core.RoleInbox, p)
	if errors.Is(err, instance.ErrRunning) {
		// The window owns the queue: its phone page is the inbox.
		if shown, serr := core.Reach(uploader.DataDir()).Show(ctx, "phone"); serr == nil && shown {
			fmt.Fprintln(stderr, "upshot: the phone inbox is in the running Upshot window, on its Phone page")
			return exitOK
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "upshot inbox: %v\n", err)
		return exitFailed
	}
	defer c.Close()
	host, _ := os.Hostname()
	srv, err := inbox.Listen(c, inbox.Options{Listen: *listen, Name: strings.TrimSpace("Upshot on " + host),
		OnDevice: func(d inbox.Device) {
			if d.Uploads == 0 {
				p.say("%s (%s) opened the inbox", d.Name, d.Addr)
			}
		}})
	if err != nil {
		fmt.Fprintf(stderr, "upshot inbox: %v\n", err)
		return exitUsage
	}
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var runErr, serveErr error
	wg.Go(func() {
		runErr = c.Run(runCtx)
		cancel()
	})
	wg.Go(func() {
		serveErr = srv.Serve(runCtx)
		cancel()
	})
	defer func() {
		cancel()
		wg.Wait()
	}()
	sess, err := srv.Open()
	if err != nil {
		fmt.Fprintf(stderr, "upshot inbox: %v\n", err)
		return exitFailed
	}
	if err := printInvite(stderr, sess.URLs); err != nil {
		fmt.Fprintf(stderr, "upshot inbox: %v\n", err)
		return exitFailed
	}
	reportCORS(ctx, up, sess.Origin(), p)
	c.Ready()
	select {
	case <-runCtx.Done():
	case <-srv.Ended(sess.Token):
		p.say("the inbox closed after %v without use; run upshot inbox again for a new code", cfg.Inbox.Idle)
	}
	cancel()
	wg.Wait()
	switch {
	case runErr != nil:
		fmt.Fprintf(stderr, "upshot inbox: stopped: %v\n", runErr)
		return exitFailed
	case serveErr != nil && !errors.Is(serveErr, context.Canceled):
		fmt.Fprintf(stderr, "upshot inbox: stopped: %v\n", serveErr)
		return exitFailed
	}
	return exitOK
}

// printInvite prints the page's address as a QR code a phone's camera
// reads, and as text, with the other addresses this computer has.
func printInvite(w io.Writer, urls []string) error {
	if len(urls) == 0 {
		return errors.New("this computer has no network address a phone could reach: connect it to the network the phone is on")
	}
	q, err := qrcode.New(urls[0], qrcode.Medium)
	if err != nil {
		return fmt.Errorf("make the QR code: %w", err)
	}
	fmt.Fprintf(w, "Scan this with the phone's camera (it must be on the same network):\n\n%s\n", q.ToSmallString(false))
	fmt.Fprintf(w, "or open %s\n", urls[0])
	for _, u := range urls[1:] {
		fmt.Fprintf(w, "   or %s\n", u)
	}
	fmt.Fprintln(w, "Anyone with this address can upload to your bucket until the inbox closes (Ctrl+C).")
	return nil
}

// reportCORS warns when the bucket's CORS rules keep phones from sending
// straight to it: the inbox still works, through this computer.
func reportCORS(ctx context.Context, up *uploader.Uploader, origin string, p *printer) {
	st, err := up.InboxCORS(ctx, origin)
	switch {
	case err != nil:
		p.warn(fmt.Errorf("cannot tell whether phones may upload straight to the bucket, so they may go through this computer: %w", err))
	case !st.Allowed:
		p.say("phones will send through this computer, which is slower: %s; run upshot inbox --setup-cors to let them upload straight to the bucket", st.Reason)
	}
}

// setInboxCORS sets the bucket's CORS rule for the inbox's origins.
func setInboxCORS(ctx context.Context, up *uploader.Uploader, listen string, stdout, stderr io.Writer) int {
	origins := lan.Origins(listen)
	if len(origins) == 0 {
		fmt.Fprintf(stderr, "upshot inbox: %s gives no address a phone could reach: connect to the phone's network, or set inbox.listen\n", listen)
		return exitUsage
	}
	if err := up.SetInboxCORS(ctx, origins); err != nil {
		// The error's advice holds the rule, to apply by hand.
		fmt.Fprintf(stderr, "upshot inbox: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "phones may now upload straight to bucket %s from %s\n", up.Target().Bucket, strings.Join(origins, ", "))
	return exitOK
}
