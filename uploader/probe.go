package uploader

import (
	"bytes"
	"context"
	"sync"

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

// probe learns, once per endpoint, whether it honours If-None-Match: *, by
// writing a probe object twice and deleting it. The answer is cached in the
// state dir, so this costs three small requests the first time only.
func (u *Uploader) probe(ctx context.Context, key string) error {
	if u.caps.get(u.target).ConditionalPut != capUnknown {
		return nil
	}
	return u.probeOnce.do(func() error {
		// A probe object left behind because the key may not delete is
		// harmless to uploads; `upshot check` reports it.
		_, err, _ := u.probeConditional(ctx)
		return err
	})
}

// probeConditional writes, re-writes and deletes a probe object and reports
// whether the second, conditional write was refused. cleanupErr says whether
// the probe object could be deleted.
func (u *Uploader) probeConditional(ctx context.Context) (c capability, err, cleanupErr error) {
	key := u.probeKey()
	put := func() error {
		return u.policy.Do(ctx, "probe "+key, func(ctx context.Context) error {
			_, err := u.store.PutObject(ctx, &s3.PutObjectInput{
				Bucket: &u.target.Bucket, Key: &key, Body: bytes.NewReader(nil), ContentLength: aws.Int64(0),
				ContentMD5: aws.String("1B2M2Y8AsgTpgAmY7PhCfg=="), IfNoneMatch: aws.String("*"),
				ContentType: aws.String("application/octet-stream"),
			})
			return err
		})
	}
	if err := put(); err != nil {
		return capUnknown, u.target.explain("write a probe object", key, err), nil
	}
	err = put()
	cleanupErr = u.deleteKey(context.WithoutCancel(ctx), key)
	switch {
	case err == nil:
		c = capUnsupported
	case isPreconditionFailed(err):
		c = capSupported
	default:
		return capUnknown, u.target.explain("write a probe object", key, err), cleanupErr
	}
	// A cache that cannot be saved only costs another probe next run.
	_ = u.caps.update(u.target, func(ec *endpointCaps) { ec.ConditionalPut = c })
	return c, nil, cleanupErr
}

// deleteKey deletes one object, retried per the policy.
func (u *Uploader) deleteKey(ctx context.Context, key string) error {
	err := u.policy.Do(ctx, "delete "+key, func(ctx context.Context) error {
		_, err := u.store.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &u.target.Bucket, Key: &key})
		return err
	})
	return u.target.explain("delete", key, err)
}
