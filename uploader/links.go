package uploader

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ObjectURL is the public link for key: the URL template, else B2's
// /file/<bucket>/ form (with the configured download URL, or the one B2
// reported for the key), else the S3 URL. On B2 with neither configured it
// asks b2_authorize_account once and remembers the answer.
func (u *Uploader) ObjectURL(ctx context.Context, key string) string {
	t := u.target
	if t.URLTemplate == "" && t.DownloadURL == "" && t.usesB2API() {
		if t.DownloadURL = u.caps.get(t).DownloadURL; t.DownloadURL == "" {
			if ks, err := u.KeyScope(ctx); err == nil {
				t.DownloadURL = ks.DownloadURL
			}
		}
	}
	return t.ObjectURL(key)
}

// Link statuses stored in history and shown to the user.
const LinkVerified = "link verified"

// linkTimeout bounds a link check: a slow CDN must not hold up the queue.
const linkTimeout = 10 * time.Second

// VerifyLink fetches url and compares its size and SHA1 with the upload.
// It returns LinkVerified or "link broken: <status> — <hint>".
func (u *Uploader) VerifyLink(ctx context.Context, url string, size int64, sha1hex string) string {
	ctx, cancel := context.WithTimeout(ctx, linkTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "link broken: " + rootCause(err) + " — check target.url_template"
	}
	req.Header.Set("Cache-Control", "no-cache")
	resp, err := u.http.Do(req)
	if err != nil {
		return "link broken: " + rootCause(err) + " — check the custom domain's DNS and TLS"
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return fmt.Sprintf("link broken: %d — %s", resp.StatusCode, linkHint(resp.StatusCode))
	}
	h := sha1.New()
	n, err := io.Copy(h, resp.Body)
	switch {
	case err != nil:
		return "link broken: reading failed (" + rootCause(err) + ") — try again"
	case n != size:
		return fmt.Sprintf("link broken: serves %d bytes, not %d — the CDN may serve another object or a page; check the rewrite rule", n, size)
	case hex.EncodeToString(h.Sum(nil)) != sha1hex:
		return "link broken: serves different content — the CDN may cache an older object at this key; purge it"
	}
	return LinkVerified
}

func linkHint(status int) string {
	switch status {
	case http.StatusNotFound:
		return "check the CDN rewrite rule (run upshot cdn-setup)"
	case http.StatusUnauthorized, http.StatusForbidden:
		return "the bucket is private: use expiring links (upshot share)"
	case http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return "the link redirects: point url_template at the final address"
	}
	if status >= 500 {
		return "the CDN or bucket is failing: try again later"
	}
	return "check target.url_template"
}

// MaxShareExpiry is the longest a presigned link may live (SigV4's limit).
const MaxShareExpiry = 7 * 24 * time.Hour

// Share returns a presigned GET link for key that expires after d.
func (u *Uploader) Share(ctx context.Context, key string, d time.Duration) (string, error) {
	if d <= 0 || d > MaxShareExpiry {
		return "", &Error{What: fmt.Sprintf("an expiry of %v is not allowed", d), Advice: "choose from 1s up to 7 days (168h): presigned links cannot live longer"}
	}
	h, err := u.head(ctx, key, "")
	if err != nil {
		return "", err
	}
	if h == nil {
		return "", &Error{What: fmt.Sprintf("%s is not in bucket %q", key, u.target.Bucket), Advice: "check the key (upshot history lists them)"}
	}
	out, err := u.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &u.target.Bucket, Key: aws.String(key)}, s3.WithPresignExpires(d))
	if err != nil {
		return "", u.target.explain("share", key, err)
	}
	return out.URL, nil
}

// Delete removes key from the bucket, including older versions where the
// store keeps them (B2 hides a deleted file unless its versions go too).
func (u *Uploader) Delete(ctx context.Context, key string) error {
	if err := u.deleteKey(ctx, key); err != nil {
		return err
	}
	versions, err := u.listVersions(ctx, key)
	if err != nil {
		// Listing needs listFiles; without it the current version is gone
		// from links but older ones may remain.
		return &Error{Err: err, What: fmt.Sprintf("%s deleted, but its older versions could not be listed (%s)", key, rootCause(err)),
			Advice: "give the key listFiles and deleteFiles, or remove old versions in the bucket's settings"}
	}
	for _, v := range versions {
		if v.id == "" || v.id == "null" {
			continue
		}
		if err := u.deleteVersion(ctx, key, v.id); err != nil {
			return err
		}
	}
	return nil
}
