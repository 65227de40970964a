package core

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"upshot/internal/capture"
	"upshot/internal/store"
	"upshot/uploader"
)

// TestCaptureHandOffAndDelete: a capture handed to the running queue is
// uploaded as from store.SourceCapture, and its file is removed once it is
// in the bucket when the settings say so.
func TestCaptureHandOffAndDelete(t *testing.T) {
	e := newCoreEnv(t)
	cfg := *e.cfg
	cfg.Capture.DeleteAfterUpload = true
	owner := e.open(t, Options{Role: RoleWindow, Config: &cfg})
	owner.Ready()
	file := writeFiles(t, t.TempDir(), 1)[0]
	res, err := Reach(e.data).Capture(t.Context(), file)
	if err != nil || res.Err != nil || res.Queued {
		t.Fatalf("capture: %+v, %v", res, err)
	}
	if res.Entry.Source != store.SourceCapture || res.Link.URL != res.Entry.URL || res.Entry.URL == "" {
		t.Fatalf("entry %+v, link %+v", res.Entry, res.Link)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("the uploaded capture is still there (%v); delete_after_upload is on", err)
	}
}

// TestCaptureStaysQueued: a capture whose upload fails stays queued, is
// kept on disk, and uploads once the settings work.
func TestCaptureStaysQueued(t *testing.T) {
	e := newCoreEnv(t)
	c := e.open(t, Options{Role: RoleWatch, Config: e.config("no-such-bucket"), Backoff: func(int) time.Duration { return time.Hour }})
	file := writeFiles(t, t.TempDir(), 1)[0]
	res := c.UploadCapture(t.Context(), file)
	if !res.Queued || res.Err == nil {
		t.Fatalf("with a missing bucket: %+v; want it queued with the reason", res)
	}
	jobs, err := c.Jobs(t.Context(), store.StateFailed, 10)
	if err != nil || len(jobs) != 1 || jobs[0].Source != store.SourceCapture {
		t.Fatalf("failed jobs %+v, %v", jobs, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { c.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	if err := c.Use(t.Context(), e.cfg); err != nil {
		t.Fatal(err)
	}
	if ev := e.next(t, Done); ev.Job.Path != file || ev.Entry.Source != store.SourceCapture {
		t.Fatalf("done %+v", ev)
	}
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("the capture was removed (%v), but delete_after_upload is off", err)
	}
}

func TestCaptureOptions(t *testing.T) {
	cfg := &uploader.Config{Capture: uploader.Capture{Dir: "~/shots", Delay: uploader.Duration(3 * time.Second)}}
	home, _ := os.UserHomeDir()
	if o := CaptureOptions(cfg, capture.Screen); o.Dir != home+"/shots" || o.Delay != 3*time.Second {
		t.Fatalf("screen: %+v", o)
	}
	if o := CaptureOptions(cfg, capture.Region); o.Delay != 0 {
		t.Fatalf("region waits %v; the delay is for screen captures", o.Delay)
	}
	if o := CaptureOptions(nil, capture.Region); o.Dir != capture.DefaultDir() {
		t.Fatalf("no settings: %+v", o)
	}
}
