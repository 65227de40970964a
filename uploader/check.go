package uploader

import (
	"bytes"
	"context"
	"fmt"
	"time"
)

// Level grades one finding of a check.
type Level int

// Finding levels.
const (
	LevelOK Level = iota
	LevelWarn
	LevelFail
)

func (l Level) String() string {
	return [...]string{"ok", "warning", "error"}[l]
}

// Finding is one line of a check report.
type Finding struct {
	Level  Level  `json:"level"`
	Topic  string `json:"topic"`
	Detail string `json:"detail"`
}

// Report is the outcome of [Uploader.Check].
type Report struct {
	Findings []Finding
}

// Failed reports whether any finding is an error.
func (r Report) Failed() bool {
	for _, f := range r.Findings {
		if f.Level == LevelFail {
			return true
		}
	}
	return false
}

func (r *Report) add(l Level, topic, format string, args ...any) {
	r.Findings = append(r.Findings, Finding{Level: l, Topic: topic, Detail: fmt.Sprintf(format, args...)})
}

// Check tests the configuration for real, the way uploads will use it: it
// writes a small probe object under the template's prefix with the same
// checksums and conditional put as an upload, confirms it with a HEAD,
// learns whether the endpoint honours If-None-Match, and deletes it. It
// never calls bucket-level APIs, which B2 keys scoped to one bucket may not
// use.
func (u *Uploader) Check(ctx context.Context) Report {
	var r Report
	t := u.target
	r.add(LevelOK, "endpoint", "%s (region %s)", t.Endpoint, t.Region)
	r.add(LevelOK, "bucket", "%s", t.Bucket)
	if t.usesB2API() {
		ks, err := u.KeyScope(ctx)
		if err != nil {
			r.add(LevelFail, "key scope", "%v", err)
			return r
		}
		u.checkScope(&r, ks)
	}

	data := []byte("Upshot connection check " + u.now().UTC().Format(time.RFC3339) + "\n")
	dig, _ := hashFile(ctx, bytes.NewReader(data), int64(len(data)), 0)
	key := u.probeKey()
	lf := &localFile{r: bytes.NewReader(data), path: "probe", name: key, size: int64(len(data)), dig: dig, contentType: "text/plain; charset=utf-8"}

	err := u.putSingle(ctx, lf, key, nil)
	if err == nil {
		err = u.confirm(ctx, lf, key)
	}
	if err != nil {
		r.add(LevelFail, "write", "%v", err)
		return r
	}
	how := "x-amz-checksum-sha1 and Content-MD5, checked by the server"
	if u.caps.get(t).ChecksumHeader == capUnsupported {
		how = "Content-MD5 checked by the server, SHA1 kept in x-amz-meta-sha1 (the endpoint refuses checksum headers)"
	}
	r.add(LevelOK, "write", "probe object %s written and confirmed by HEAD; integrity: %s", key, how)

	// The probe object exists now: a second conditional write must fail.
	err = u.putSingle(ctx, lf, key, nil)
	switch {
	case err == errExists:
		_ = u.caps.update(t, func(c *endpointCaps) { c.ConditionalPut = capSupported })
		r.add(LevelOK, "no overwrite", "the endpoint honours If-None-Match: *, so existing objects are never replaced")
	case err == nil:
		_ = u.caps.update(t, func(c *endpointCaps) { c.ConditionalPut = capUnsupported })
		r.add(LevelWarn, "no overwrite", "the endpoint ignores If-None-Match: Upshot looks with HEAD before each upload instead (one more request per file)")
	default:
		r.add(LevelFail, "no overwrite", "%v", err)
	}

	if err := u.deleteKey(context.WithoutCancel(ctx), key); err != nil {
		r.add(LevelWarn, "delete", "%v; delete %s by hand", err, key)
	} else {
		r.add(LevelOK, "delete", "probe object deleted")
	}
	sample, err := u.tmpl.Render(KeyInput{FileName: "Screenshot 2026-11-22 at 10.15.00.png", Time: u.now()})
	if err == nil {
		r.add(LevelOK, "links", "a screenshot would get %s", u.ObjectURL(ctx, sample))
	}
	return r
}
