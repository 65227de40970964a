package uploader

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"upshot/internal/lan"
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
// or versions), and deletes what it wrote. Last, it reads the bucket's
// CORS rules to tell whether the phone inbox's page may upload straight
// to the bucket; that is the one bucket-level call, and a key that may not
// make it (B2 keys without readBuckets) gets a warning, not an error.
func (u *Uploader) Check(ctx context.Context) Report {
	var r Report
	t := u.target
	r.add(LevelOK, "endpoint", "%s (region %s)", t.Endpoint, t.Region)
	r.add(LevelOK, "bucket", "%s", t.Bucket)
	var scope *KeyScope
	if t.usesB2API() {
		ks, err := u.KeyScope(ctx)
		if err != nil {
			r.add(LevelFail, "key scope", "%v", err)
			return r
		}
		u.checkScope(&r, ks)
		scope = &ks
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
	u.checkInbox(ctx, &r, scope)
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

// checkInbox reports whether the bucket's CORS rules let the phone inbox's
// page, at the origins inbox.listen gives on this computer, upload straight
// to the bucket. Without them the inbox still works: the page sends files
// through this computer. scope is the B2 key's scope, when known.
func (u *Uploader) checkInbox(ctx context.Context, r *Report, scope *KeyScope) {
	const topic = "phone inbox"
	origins := lan.Origins(u.inboxListen)
	if len(origins) == 0 {
		r.add(LevelWarn, topic, "inbox.listen %q gives no address a phone could open: this computer has no network address besides loopback; connect it to the phone's network", u.inboxListen)
		return
	}
	rules, err := u.corsRules(ctx)
	if err != nil {
		r.add(LevelWarn, topic, "%v; so Upshot cannot tell whether phones may upload straight to the bucket (if not, they send files through this computer)", err)
		return
	}
	level, detail := inboxFinding(origins, rules, scope)
	r.add(level, topic, "%s", detail)
}

// inboxFinding grades the bucket's CORS rules for the inbox's origins.
func inboxFinding(origins []string, rules []types.CORSRule, scope *KeyScope) (Level, string) {
	var allowed, denied []string
	reasons := map[string][]string{} // reason → origins
	var order []string               // the reasons, in order
	for _, o := range origins {
		st := evaluateCORS(rules, o)
		if st.Allowed {
			allowed = append(allowed, o)
			continue
		}
		denied = append(denied, o)
		if _, seen := reasons[st.Reason]; !seen {
			order = append(order, st.Reason)
		}
		reasons[st.Reason] = append(reasons[st.Reason], o)
	}
	if len(denied) == 0 {
		return LevelOK, "the bucket's CORS rules let a phone upload straight to the bucket from " + strings.Join(allowed, ", ")
	}
	var why []string
	for _, reason := range order {
		if len(order) == 1 {
			why = append(why, reason)
		} else {
			why = append(why, strings.Join(reasons[reason], ", ")+": "+reason)
		}
	}
	lead := "phones cannot upload straight to the bucket from " + strings.Join(denied, ", ")
	if len(allowed) > 0 {
		lead = "phones can upload straight to the bucket from " + strings.Join(allowed, ", ") + ", but not from " + strings.Join(denied, ", ")
	}
	fix := "run upshot inbox --setup-cors to allow it"
	if scope != nil && !scope.Can("writeBuckets") {
		fix += " (with a key that has writeBuckets, once)"
	}
	return LevelWarn, fmt.Sprintf("%s (%s); they send files through this computer instead, which is slower: %s", lead, strings.Join(why, "; "), fix)
}
