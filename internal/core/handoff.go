package core

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"upshot/internal/store"
	"upshot/uploader"
)

// The hand-off point: the process that owns a data folder's queue listens
// on a local socket in that folder (a named pipe on Windows), so that
// another "upshot upload" hands it files instead of touching its live
// jobs, and a second "upshot" raises its window. One request per
// connection, as JSON lines: the request, then the replies, the last one
// with Done set.

// ErrNotRunning means no process owns the queue (nobody listens).
var ErrNotRunning = errors.New("no Upshot is running the queue")

// ErrRefused wraps what the running Upshot answered when it would not do
// what was asked.
var ErrRefused = errors.New("the running Upshot refused")

// maxRequest bounds a request's size (a list of paths).
const maxRequest = 4 << 20

// request is what a client asks.
type request struct {
	Op           string   `json:"op"`                   // "upload", "capture", "show" or "status"
	WaitReady    bool     `json:"wait_ready,omitempty"` // status: answer once the front end is up
	Files        []string `json:"files,omitempty"`
	KeepMetadata bool     `json:"keep_metadata,omitempty"`
	Page         string   `json:"page,omitempty"`
}

// reply is one answer line.
type reply struct {
	Done   bool    `json:"done,omitempty"`
	Error  string  `json:"error,omitempty"` // the request failed as a whole
	Shown  bool    `json:"shown,omitempty"`
	Status *Status `json:"status,omitempty"`
	// One file of an upload.
	Index   int            `json:"index"`
	File    string         `json:"file,omitempty"`
	Entry   *store.Entry   `json:"entry,omitempty"`
	Link    *uploader.Link `json:"link,omitempty"`
	Failure string         `json:"failure,omitempty"`
	Config  bool           `json:"config,omitempty"`
	Fatal   bool           `json:"fatal,omitempty"`
	Stopped bool           `json:"stopped,omitempty"`
	Queued  bool           `json:"queued,omitempty"` // a capture stays queued
}

// Status is what a running Upshot says of itself.
type Status struct {
	Role string `json:"role"`
	PID  int    `json:"pid"`
	// Ready says the front end is up: the window shows, the watch watches.
	Ready bool `json:"ready"`
	// Uploaded counts the uploads done since it started.
	Uploaded int64 `json:"uploaded"`
	// Jobs counts the queue's jobs by state.
	Jobs map[store.State]int `json:"jobs"`
	// Watching is the number of folders watched.
	Watching int `json:"watching"`
}

// server accepts hand-offs for a Core.
type server struct {
	ln     net.Listener
	path   string
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	stop   sync.Once
	err    error // from closing ln
}

// listen starts c's hand-off point. The caller holds the instance lock.
func listen(c *Core) (*server, error) {
	ln, path, err := listenHandoff(c.opts.DataDir)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{ln: ln, path: path, ctx: ctx, cancel: cancel}
	s.wg.Go(func() {
		accept(ctx, ln, func(conn net.Conn) { s.wg.Go(func() { s.serve(c, conn) }) })
	})
	return s, nil
}

// accept gives handle each connection ln accepts, until ln is closed or
// ctx ends. Any other error (a client that could not connect, no file
// descriptors left) passes: the next one is accepted after a pause, which
// grows while the errors repeat, up to a second.
func accept(ctx context.Context, ln net.Listener, handle func(net.Conn)) {
	const first = 5 * time.Millisecond
	pause := first
	for {
		conn, err := ln.Accept()
		if err == nil {
			pause = first
			handle(conn)
			continue
		}
		if errors.Is(err, net.ErrClosed) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Second)
	}
}

// finish stops accepting and waits for the requests under way.
func (s *server) finish() {
	s.stop.Do(func() { s.err = s.ln.Close() })
	s.wg.Wait()
}

// close stops accepting, ends the requests under way and waits for them.
func (s *server) close() error {
	s.cancel()
	s.finish()
	if errors.Is(s.err, net.ErrClosed) {
		return nil
	}
	return s.err
}

// serve answers one request. The request ends when the client hangs up.
func (s *server) serve(c *Core, conn net.Conn) {
	defer conn.Close()
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	r := bufio.NewReader(io.LimitReader(conn, maxRequest))
	var req request
	line, err := r.ReadBytes('\n')
	if err != nil || json.Unmarshal(line, &req) != nil {
		return // not a client of ours
	}
	go func() {
		_, _ = io.Copy(io.Discard, conn) // returns when the client hangs up
		cancel()
	}()
	enc := json.NewEncoder(conn)
	send := func(rep reply) { _ = enc.Encode(rep) }
	switch req.Op {
	case "status":
		if req.WaitReady {
			select {
			case <-c.ready:
			case <-ctx.Done():
				return
			}
		}
		st, err := c.status(ctx)
		if err != nil {
			send(reply{Done: true, Error: err.Error()})
			return
		}
		send(reply{Done: true, Status: &st})
	case "show":
		if c.opts.OnShow == nil {
			send(reply{Done: true})
			return
		}
		c.opts.OnShow(req.Page)
		send(reply{Done: true, Shown: true})
	case "upload":
		for _, f := range req.Files {
			if !filepath.IsAbs(f) {
				send(reply{Done: true, Error: fmt.Sprintf("%s is not an absolute path", f)})
				return
			}
		}
		c.Upload(ctx, req.Files, store.SourceCLI, req.KeepMetadata, func(i int, r Result) {
			rep := reply{Index: i, File: r.File, Config: r.Config, Fatal: r.Fatal, Stopped: r.Stopped()}
			if r.Err != nil {
				rep.Failure = r.Err.Error()
			} else {
				rep.Entry, rep.Link = &r.Entry, &r.Link
			}
			send(rep)
		})
		send(reply{Done: true})
	case "capture":
		if len(req.Files) != 1 || !filepath.IsAbs(req.Files[0]) {
			send(reply{Done: true, Error: "a capture request names one absolute path"})
			return
		}
		r := c.UploadCapture(ctx, req.Files[0])
		rep := reply{Done: true, File: req.Files[0], Queued: r.Queued}
		if r.Err != nil {
			rep.Failure = r.Err.Error()
		} else {
			rep.Entry, rep.Link = &r.Entry, &r.Link
		}
		send(rep)
	default:
		send(reply{Done: true, Error: fmt.Sprintf("unknown request %q: this Upshot is a different version", req.Op)})
	}
}

func (c *Core) status(ctx context.Context) (Status, error) {
	jobs, err := c.st.Counts(ctx)
	if err != nil {
		return Status{}, err
	}
	return Status{Role: c.opts.Role, PID: os.Getpid(), Ready: c.isReady(), Uploaded: c.uploaded.Load(),
		Jobs: jobs, Watching: c.Watching()}, nil
}

// Remote is the queue of a data folder as another process runs it.
type Remote struct{ dataDir string }

// Reach returns the running queue of dataDir; its methods fail with
// ErrNotRunning when no process runs it.
func Reach(dataDir string) *Remote { return &Remote{dataDir: dataDir} }

// call sends req and calls each for every reply until the last.
func (r *Remote) call(ctx context.Context, req request, each func(reply) error) error {
	conn, err := dialHandoff(ctx, r.dataDir)
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	line, _ := json.Marshal(req)
	if _, err := conn.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("hand over to the running Upshot: %w", err)
	}
	dec := json.NewDecoder(conn)
	for {
		var rep reply
		if err := dec.Decode(&rep); err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return fmt.Errorf("the running Upshot stopped answering (did it quit?): %w", err)
		}
		if rep.Error != "" {
			return fmt.Errorf("%w: %s", ErrRefused, rep.Error)
		}
		if err := each(rep); err != nil {
			return err
		}
		if rep.Done {
			return nil
		}
	}
}

// Status asks the running Upshot what it is doing.
func (r *Remote) Status(ctx context.Context) (Status, error) { return r.status(ctx, false) }

// WaitReady waits until the running Upshot's front end is up (the window
// shows, the watch watches), and returns its status then.
func (r *Remote) WaitReady(ctx context.Context) (Status, error) { return r.status(ctx, true) }

func (r *Remote) status(ctx context.Context, waitReady bool) (Status, error) {
	var st Status
	err := r.call(ctx, request{Op: "status", WaitReady: waitReady}, func(rep reply) error {
		if rep.Status != nil {
			st = *rep.Status
		}
		return nil
	})
	return st, err
}

// Show asks the running Upshot to raise its window, on page "",
// "settings" or "phone". It reports false when that process has no window (a
// watch).
func (r *Remote) Show(ctx context.Context, page string) (bool, error) {
	shown := false
	err := r.call(ctx, request{Op: "show", Page: page}, func(rep reply) error {
		shown = shown || rep.Shown
		return nil
	})
	return shown, err
}

// Capture hands a capture to the running queue, which uploads it as
// [Core.UploadCapture] does.
func (r *Remote) Capture(ctx context.Context, path string) (Captured, error) {
	var (
		res Captured
		got bool
	)
	err := r.call(ctx, request{Op: "capture", Files: absPaths([]string{path})}, func(rep reply) error {
		if !rep.Done {
			return nil
		}
		got = true
		res.Queued = rep.Queued
		switch {
		case rep.Failure != "":
			res.Err = errors.New(rep.Failure)
		case rep.Entry != nil && rep.Link != nil:
			res.Entry, res.Link = *rep.Entry, *rep.Link
		default:
			res.Err = errors.New("the running Upshot sent no link")
		}
		return nil
	})
	if err == nil && !got {
		err = errors.New("the running Upshot did not answer")
	}
	return res, err
}

// Upload hands files to the running queue, which uploads them as
// [Core.Upload] does, and calls each with every file's index and result.
// Relative paths are taken from this process's folder.
func (r *Remote) Upload(ctx context.Context, files []string, keepMetadata bool, each func(i int, r Result)) error {
	return r.call(ctx, request{Op: "upload", Files: absPaths(files), KeepMetadata: keepMetadata}, func(rep reply) error {
		if rep.Done {
			return nil
		}
		if rep.Index < 0 || rep.Index >= len(files) {
			return fmt.Errorf("the running Upshot answered for file %d of %d", rep.Index+1, len(files))
		}
		res := Result{File: files[rep.Index], Config: rep.Config, Fatal: rep.Fatal}
		switch {
		case rep.Stopped:
			res.Err = ErrStopped
		case rep.Failure != "":
			res.Err = errors.New(rep.Failure)
		case rep.Entry == nil || rep.Link == nil:
			res.Err = errors.New("the running Upshot sent no link")
		default:
			res.Entry, res.Link = *rep.Entry, *rep.Link
		}
		each(rep.Index, res)
		return nil
	})
}
