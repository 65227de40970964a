package core

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"upshot/internal/store"
	"upshot/uploader"
)

// The phone inbox, as the core sees it: a phone asks for a grant
// ([Core.Grant]), sends its file straight to the bucket with it, and says
// when it is done ([Core.ConfirmGrant]); a phone that cannot reach the
// bucket hands the bytes over instead ([Core.Relay]), and they join the
// queue like a dropped file. Either way the upload ends up in the history
// as from store.SourcePhone, with a Done event, as any other does.

// InboxDir is the folder under the data dir where relayed files wait for
// their upload.
const InboxDir = "inbox"

// ErrRelayMismatch means the bytes a phone relayed are not the ones it
// described.
var ErrRelayMismatch = errors.New("the file that arrived is not the one described")

// Recorded is an upload entered in the history, for a later link check.
type Recorded struct {
	Job   store.Job
	Entry store.Entry
	// Fresh: the object was written now, not found already uploaded.
	Fresh bool
}

// Link is the recorded upload's link.
func (r Recorded) Link() uploader.Link { return LinkFor(r.Entry) }

// Grant answers a phone that is about to upload the content req
// describes. Content the history or the bucket already holds is entered
// in the history at once and comes back with Existing set: nothing needs
// to be sent. Otherwise the grant is a presigned PUT valid for ttl.
func (c *Core) Grant(ctx context.Context, req uploader.GrantRequest, ttl time.Duration) (uploader.Grant, Recorded, error) {
	start := time.Now()
	_, up := c.Settings()
	if up == nil {
		return uploader.Grant{}, Recorded{}, ErrNotConfigured
	}
	prev, found, err := c.st.FindByContent(ctx, strings.ToLower(req.SHA1), req.Size, store.SourcePhone)
	if err != nil {
		return uploader.Grant{}, Recorded{}, fmt.Errorf("look up history: %w", store.Diagnose(err, c.st.Path()))
	}
	if found {
		// The history says where it went; the bucket has the last word.
		held, err := up.Holds(ctx, prev.Key, prev.Size, prev.SHA1)
		if err != nil {
			return uploader.Grant{}, Recorded{}, err
		}
		if held {
			g := uploader.Grant{Key: prev.Key, Existing: true, Link: uploader.Link{URL: prev.URL, Name: req.Name, ContentType: prev.ContentType}}
			rec, err := c.record(ctx, uploader.Result{File: req.Name, Key: prev.Key, URL: prev.URL, SHA1: prev.SHA1, Size: prev.Size,
				ContentType: prev.ContentType, Deduplicated: true}, start)
			return g, rec, err
		}
	}
	g, err := up.Grant(ctx, req, ttl)
	if err != nil || !g.Existing {
		return g, Recorded{}, err
	}
	rec, err := c.record(ctx, uploader.Result{File: req.Name, Key: g.Key, URL: g.Link.URL, SHA1: strings.ToLower(req.SHA1), Size: req.Size,
		ContentType: g.Link.ContentType, Deduplicated: true}, start)
	return g, rec, err
}

// ConfirmGrant checks that the phone's PUT with g stored the granted
// content, then enters it in the history and reports it Done. start is
// when the phone asked for the grant, for the Done event's latency.
func (c *Core) ConfirmGrant(ctx context.Context, g uploader.Grant, start time.Time) (Recorded, error) {
	_, up := c.Settings()
	if up == nil {
		return Recorded{}, ErrNotConfigured
	}
	res, err := up.ConfirmGrant(ctx, g)
	if err != nil {
		return Recorded{}, err
	}
	rec, err := c.record(ctx, res, start)
	rec.Fresh = true
	return rec, err
}

func (c *Core) record(ctx context.Context, res uploader.Result, start time.Time) (Recorded, error) {
	job, e, err := c.svc.Record(ctx, store.SourcePhone, res, start)
	return Recorded{Job: job, Entry: e}, err
}

// CheckLink fetches the link of an upload just recorded, when the
// settings ask for that, and reports the outcome (LinkChecked, history).
func (c *Core) CheckLink(ctx context.Context, r Recorded) store.Entry {
	if !r.Fresh {
		return r.Entry
	}
	return c.svc.CheckLink(ctx, r.Job, r.Entry)
}

// Relayed is how a relayed file fared.
type Relayed struct {
	Entry store.Entry // when uploaded
	// Queued: the upload failed for now and is retried later, like any
	// queued file; Err says why.
	Queued bool
	Err    error
}

// Relay takes a file a phone could not send to the bucket itself: it
// writes the bytes from r under the data dir (checking their size and
// SHA1 against what the phone said), queues them like a dropped file, and
// waits for the first outcome. A file whose upload failed for now stays
// queued (Queued) and uploads later; nothing is lost. The local copy is
// removed once the object is in the bucket.
func (c *Core) Relay(ctx context.Context, name string, size int64, sha1hex string, r io.Reader) (Relayed, error) {
	path, err := c.saveRelayed(name, size, sha1hex, r)
	if err != nil {
		return Relayed{}, err
	}
	wait := c.awaitJob(path)
	defer c.stopAwaiting(path)
	if _, err := c.svc.Add(ctx, path, store.SourcePhone, time.Time{}); err != nil {
		_ = os.RemoveAll(filepath.Dir(path))
		return Relayed{}, err
	}
	select {
	case ev := <-wait:
		switch ev.Kind {
		case Done:
			_ = os.RemoveAll(filepath.Dir(path))
			return Relayed{Entry: ev.Entry}, nil
		case Failed:
			return Relayed{Queued: true, Err: ev.Err}, nil
		default:
			return Relayed{Err: ev.Err}, nil
		}
	case <-ctx.Done():
		// The job is durable: it goes on without the phone.
		return Relayed{Queued: true, Err: context.Cause(ctx)}, nil
	}
}

// saveRelayed writes a relayed file to a folder of its own under the data
// dir and returns its path.
func (c *Core) saveRelayed(name string, size int64, sha1hex string, r io.Reader) (string, error) {
	name = filepath.Base(filepath.Clean("/" + name))
	if name == "/" || name == "." || strings.ContainsAny(name, `\:`) {
		return "", fmt.Errorf("%w: %q is not a plain file name", ErrRelayMismatch, name)
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	dir := filepath.Join(c.opts.DataDir, InboxDir, hex.EncodeToString(id[:]))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("keep the relayed %s: %w (is the data folder writable?)", name, err)
	}
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("keep the relayed %s: %w (is the data folder writable?)", name, err)
	}
	h := sha1.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, size+1))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		err = fmt.Errorf("keep the relayed %s: %w", name, err)
	case n != size:
		err = fmt.Errorf("%w: %s has %d bytes, not %d", ErrRelayMismatch, name, n, size)
	case sha1hex != "" && !strings.EqualFold(hex.EncodeToString(h.Sum(nil)), sha1hex):
		err = fmt.Errorf("%w: %s changed on the way (its SHA1 differs)", ErrRelayMismatch, name)
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	return path, nil
}

// awaitJob returns a channel that receives the first outcome (Done,
// Failed or Rejected) of the job for path.
func (c *Core) awaitJob(path string) <-chan Event {
	ch := make(chan Event, 1)
	c.waitMu.Lock()
	if c.waiters == nil {
		c.waiters = map[string]chan Event{}
	}
	c.waiters[path] = ch
	c.waitMu.Unlock()
	return ch
}

func (c *Core) stopAwaiting(path string) {
	c.waitMu.Lock()
	delete(c.waiters, path)
	c.waitMu.Unlock()
}

// notifyWaiter passes a job's outcome to whoever awaits it.
func (c *Core) notifyWaiter(ev Event) {
	if ev.Kind != Done && ev.Kind != Failed && ev.Kind != Rejected {
		return
	}
	c.waitMu.Lock()
	ch := c.waiters[ev.Job.Path]
	c.waitMu.Unlock()
	if ch != nil {
		select {
		case ch <- ev:
		default:
		}
	}
}
