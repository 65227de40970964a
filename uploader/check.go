package uploader

import (
	"context"
	"fmt"
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
// checksums and headers as an upload, confirms it with a HEAD, learns how
// the endpoint keeps two writers from sharing a name (conditional writes,
// or versions), and deletes what it wrote. It never calls bucket-level
// APIs, which B2 keys scoped to one bucket may not use.
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

	p, err := u.probeWrites(ctx)
	if err != nil {
		r.add(LevelFail, "write", "%v", err)
		return r
	}
	how := "x-amz-checksum-sha1 and Content-MD5, checked by the server"
	if p.checksum == capUnsupported {
		how = "Content-MD5 checked by the server, SHA1 kept in x-amz-meta-sha1 (the endpoint refuses checksum headers)"
	}
	r.add(LevelOK, "write", "probe object %s written and confirmed by HEAD; integrity: %s", p.key, how)
	u.checkNoOverwrite(&r, p)

	if p.cleanupErr != nil {
		r.add(LevelWarn, "delete", "%v; delete %s by hand", p.cleanupErr, p.key)
	} else {
		r.add(LevelOK, "delete", "probe object deleted")
	}
	sample, err := u.tmpl.Render(KeyInput{FileName: "Screenshot 2026-11-22 at 10.15.00.png", Time: u.now()})
	if err == nil {
		r.add(LevelOK, "links", "a screenshot would get %s", u.ObjectURL(ctx, sample))
	}
	return r
}

// checkNoOverwrite reports how uploads avoid replacing another file.
func (u *Uploader) checkNoOverwrite(r *Report, p probeResult) {
	const topic = "no overwrite"
	if p.conditional == capSupported {
		r.add(LevelOK, topic, "the endpoint honours If-None-Match: *, so existing objects are never replaced")
		return
	}
	unique := u.tmpl.Unique()
	switch {
	case p.versions == capSupported && p.listErr == nil:
		r.add(LevelOK, topic, "no conditional writes: Upshot looks before it writes, and since the bucket keeps versions it lists a name's versions after writing, so a race with another writer for the same name is found and undone (per upload: HEAD, PUT, a version listing and a HEAD; on B2 the listing is a class C transaction)")
	case unique:
		r.add(LevelOK, topic, "no conditional writes: Upshot looks before it writes, and path_template %q gives different files different names", u.target.PathTemplate)
	case p.versions == capSupported:
		r.add(LevelWarn, topic, "no conditional writes, and %v: two computers uploading different files under the same name at the same moment could hide one of them; add {sha1:8} to target.path_template to rule that out", p.listErr)
	default:
		r.add(LevelWarn, topic, "no conditional writes and no versions: Upshot looks before it writes, but two computers uploading different files under the same name at the same moment could replace one with the other; add {sha1:8} to target.path_template to rule that out, or turn on versioning for the bucket")
	}
}
