package uploader

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// onceErr runs a function until it first succeeds; concurrent callers wait
// for the run in progress.
type onceErr struct {
	mu   sync.Mutex
	done bool
}

func (o *onceErr) do(f func() error) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.done {
		return nil
	}
	err := f()
	o.done = err == nil
	return err
}

// StaticPrefix is the fixed text before the template's first placeholder,
// up to its last "/": where every key the template makes begins.
func (t *KeyTemplate) StaticPrefix() string {
	var b []byte
	for _, p := range t.parts {
		if p.field != "" {
			break
		}
		b = append(b, p.literal...)
	}
	if i := bytes.LastIndexByte(b, '/'); i >= 0 {
		return string(b[:i+1])
	}
	return ""
}

// probeKey is where Upshot writes its short-lived test objects.
func (u *Uploader) probeKey() string {
	return u.tmpl.StaticPrefix() + ".upshot-probe-" + randomString(12, true)
}

// probe learns, once per endpoint, how it treats a second write to a name
// (see [Uploader.probeWrites]). The answer is cached in the state dir, so
// this costs a few small requests the first time only.
func (u *Uploader) probe(ctx context.Context) error {
	if u.caps.get(u.target).ConditionalPut != capUnknown {
		return nil
	}
	return u.probeOnce.do(func() error {
		// A probe object left behind because the key may not delete is
		// harmless to uploads; `upshot check` reports it.
		_, err := u.probeWrites(ctx)
		return err
	})
}

// probeResult is what [Uploader.probeWrites] learned.
type probeResult struct {
	key string
	// how the endpoint keeps uploads whole and unique, as learned
	checksum, conditional, versions capability
	// listErr: the versions could not be listed (B2: no listFiles).
	listErr error
	// cleanupErr: the probe object could not be deleted.
	cleanupErr error
}

// probeWrites writes a small probe object under the template's prefix the
// way an upload does (learning which headers the endpoint refuses),
// confirms it with a HEAD, writes it again with If-None-Match: * to learn
// whether the endpoint honours that, ignores it or refuses it, lists its
// versions where the bucket keeps them, and deletes every version it made.
func (u *Uploader) probeWrites(ctx context.Context) (r probeResult, err error) {
	data := []byte("Upshot connection check " + u.now().UTC().Format(time.RFC3339) + "\n")
	dig, _ := hashFile(ctx, bytes.NewReader(data), int64(len(data)), 0)
	key := u.probeKey()
	lf := &localFile{r: bytes.NewReader(data), path: "probe", name: key, size: int64(len(data)), dig: dig, contentType: "text/plain; charset=utf-8"}
	r.key = key

	var written []*string
	// r is a named result, so the deletion's outcome reaches the caller.
	defer func() { r.cleanupErr = u.deleteProbe(context.WithoutCancel(ctx), key, written) }()
	vid, err := u.putSingle(ctx, lf, key, nil)
	if errors.Is(err, errNoConditional) {
		vid, err = u.putSingle(ctx, lf, key, nil)
	}
	if errors.Is(err, errExists) {
		// The key is random: a resend found our own write, whose answer
		// was lost. Confirm it and find its version.
		var h *s3.HeadObjectOutput
		if h, err = u.head(ctx, key, ""); err == nil && h != nil {
			vid = h.VersionId
		}
	}
	if err != nil {
		return r, err
	}
	written = append(written, vid)
	u.learnVersions(vid)
	if err := u.confirm(ctx, lf, key, aws.ToString(vid)); err != nil {
		return r, err
	}

	// The probe object exists now: a conditional write must be refused.
	if u.caps.get(u.target).ConditionalPut != capUnsupported {
		err := u.withHeaderFallback("write a probe object", key, writeHeaders{conditional: true}, func(h writeHeaders) error {
			out, err := u.store.PutObject(ctx, u.putInput(lf, key, h, io.NewSectionReader(lf.r, 0, lf.size)))
			if err == nil {
				written = append(written, out.VersionId)
			}
			return err
		})
		switch {
		case errors.Is(err, errExists), errors.Is(err, errNoConditional):
		case err == nil:
			// Ignored: the second write replaced the first.
			_ = u.caps.update(u.target, func(c *endpointCaps) { c.ConditionalPut = capUnsupported })
		default:
			return r, err
		}
	}
	c := u.caps.get(u.target)
	if c.ConditionalPut != capSupported && c.Versions == capSupported {
		_, r.listErr = u.listVersions(ctx, key)
	}
	c = u.caps.get(u.target)
	r.checksum, r.conditional, r.versions = c.ChecksumHeader, c.ConditionalPut, c.Versions
	return r, nil
}

// deleteProbe deletes the versions of the probe object that were written,
// or the object itself where the store keeps no versions (a plain delete
// would leave B2's versions behind a hide marker).
func (u *Uploader) deleteProbe(ctx context.Context, key string, written []*string) error {
	var errs []error
	plain := false
	for _, v := range written {
		if !hasVersionID(v) {
			plain = true
			continue
		}
		errs = append(errs, u.deleteVersion(ctx, key, *v))
	}
	if plain {
		errs = append(errs, u.deleteKey(ctx, key))
	}
	return errors.Join(errs...)
}

// deleteKey deletes one object.
func (u *Uploader) deleteKey(ctx context.Context, key string) error {
	_, err := u.store.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &u.target.Bucket, Key: &key})
	return u.target.explain("delete", key, err)
}

// ProbeObject is a short-lived object written to check a link path end to
// end (a private bucket's Worker): its key, its link and its content's
// SHA1.
type ProbeObject struct {
	Key, URL, SHA1 string
}

// PutProbe writes a small probe object under the template's prefix, as an
// upload does, and returns it with a function that deletes it again (call
// it whatever happens next).
func (u *Uploader) PutProbe(ctx context.Context) (ProbeObject, func(context.Context) error, error) {
	data := []byte("Upshot link check " + u.now().UTC().Format(time.RFC3339) + " " + randomString(16, true) + "\n")
	dig, _ := hashFile(ctx, bytes.NewReader(data), int64(len(data)), 0)
	key := u.probeKey() + ".txt"
	lf := &localFile{r: bytes.NewReader(data), path: "probe", name: key, size: int64(len(data)), dig: dig, contentType: "text/plain; charset=utf-8"}
	var written []*string
	remove := func(ctx context.Context) error { return u.deleteProbe(ctx, key, written) }
	vid, err := u.putSingle(ctx, lf, key, nil)
	if errors.Is(err, errNoConditional) {
		vid, err = u.putSingle(ctx, lf, key, nil)
	}
	if err != nil {
		return ProbeObject{}, remove, err
	}
	written = append(written, vid)
	return ProbeObject{Key: key, URL: u.target.ObjectURL(key), SHA1: dig.whole.SHA1Hex()}, remove, nil
}
