// Package worker owns the Cloudflare Worker that serves a private Backblaze
// B2 bucket at the user's own domain: the ES module itself (embedded, no
// build step) and the names and values of the bindings it reads.
//
// The Worker answers GET and HEAD of https://<domain>/<key> with the
// object's bytes and a few content headers, a Cache-Control of Upshot's
// choice and an ETag made of the object's SHA-1. It reaches the bucket in
// one of two ways ([Mode]): signing S3 requests with a read-only key, or
// presenting a B2 download authorization token to B2's native download
// URL. It never lists the bucket, and its errors are short texts of its
// own that reveal nothing of the storage behind it.
//
// Everything here is constant or pure, and safe for concurrent use.
package worker

import (
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

//go:embed worker.js
var module []byte

// ModuleName is the name to upload [Module] under (its main module).
const ModuleName = "upshot.js"

// CompatibilityDate is the Workers compatibility date the module is
// written and tested against.
const CompatibilityDate = "2026-11-01"

// Names of the Worker's plain-text bindings.
const (
	// BindingMode is "signed" or "token"; see [Mode].
	BindingMode = "UPSHOT_MODE"
	// BindingS3Endpoint is the bucket's S3 endpoint, such as
	// https://s3.us-west-004.backblazeb2.com (signed mode).
	BindingS3Endpoint = "S3_ENDPOINT"
	// BindingRegion is the S3 region signatures are made for, such as
	// us-west-004 (signed mode).
	BindingRegion = "S3_REGION"
	// BindingBucket is the bucket's name.
	BindingBucket = "BUCKET"
	// BindingDownloadURL is the account's B2 download URL, such as
	// https://f004.backblazeb2.com (token mode).
	BindingDownloadURL = "DOWNLOAD_URL"
	// BindingCacheControl is the Cache-Control of every object answer;
	// when it is unset the Worker uses "public, max-age=31536000, immutable".
	BindingCacheControl = "CACHE_CONTROL"
)

// Names of the Worker's secrets.
const (
	// SecretKeyID is the application key ID of a read-only B2 key limited
	// to the bucket (signed mode).
	SecretKeyID = "B2_KEY_ID"
	// SecretKey is that key's secret (signed mode).
	SecretKey = "B2_KEY"
	// SecretDownloadToken is an authorization token from
	// b2_get_download_authorization for the bucket (token mode). B2 lets it
	// live at most 7 days, so it must be renewed before then.
	SecretDownloadToken = "B2_DOWNLOAD_TOKEN"
)

// Mode is how the Worker reaches the private bucket.
type Mode string

const (
	// Signed signs every request to the bucket's S3 endpoint (AWS
	// Signature Version 4) with a read-only key kept as Worker secrets. It
	// never expires.
	Signed Mode = "signed"
	// Token fetches from B2's native download URL with a download
	// authorization token kept as a Worker secret. The token expires
	// within 7 days; the Worker then answers 503 until it is replaced.
	Token Mode = "token"
)

// Options describe one deployment of the Worker.
type Options struct {
	Mode Mode
	// S3Endpoint is the bucket's S3 endpoint URL (signed mode).
	S3Endpoint string
	// Region is the S3 region; empty means the one in an endpoint of the
	// form https://s3.<region>.backblazeb2.com (signed mode).
	Region string
	Bucket string
	// DownloadURL is the account's B2 download URL (token mode).
	DownloadURL string
	// CacheControl is sent with every object; empty leaves the Worker's
	// default of one immutable year.
	CacheControl string
}

// Module returns the Worker's ES module source. The slice is shared: do
// not modify it.
func Module() []byte { return module }

// Bindings returns the plain-text bindings for opts and the names of the
// secrets the mode needs, which the caller must set separately (their
// values never go in plain bindings). Call [Options.Validate] first to
// catch a missing or malformed value.
func Bindings(opts Options) (plain map[string]string, secretNames []string) {
	plain = map[string]string{
		BindingMode:   string(opts.Mode),
		BindingBucket: opts.Bucket,
	}
	if opts.CacheControl != "" {
		plain[BindingCacheControl] = opts.CacheControl
	}
	switch opts.Mode {
	case Signed:
		plain[BindingS3Endpoint] = strings.TrimRight(opts.S3Endpoint, "/")
		plain[BindingRegion] = opts.region()
		secretNames = []string{SecretKeyID, SecretKey}
	case Token:
		plain[BindingDownloadURL] = strings.TrimRight(opts.DownloadURL, "/")
		secretNames = []string{SecretDownloadToken}
	}
	return plain, secretNames
}

// region is Region, or the region named by a B2 S3 endpoint.
func (o Options) region() string {
	if o.Region != "" {
		return o.Region
	}
	u, err := url.Parse(o.S3Endpoint)
	if err != nil {
		return ""
	}
	host := u.Hostname()
	if r, ok := strings.CutPrefix(host, "s3."); ok {
		if r, ok = strings.CutSuffix(r, ".backblazeb2.com"); ok && r != "" && !strings.Contains(r, ".") {
			return r
		}
	}
	return ""
}

// Validate reports the first value the Worker could not work with.
func (o Options) Validate() error {
	if o.Bucket == "" || strings.ContainsAny(o.Bucket, "/?#% ") {
		return fmt.Errorf("worker: bucket name %q is not usable: give the B2 bucket's name", o.Bucket)
	}
	if strings.ContainsAny(o.CacheControl, "\r\n") {
		return errors.New("worker: the Cache-Control value has a line break: use one line, e.g. public, max-age=31536000, immutable")
	}
	switch o.Mode {
	case Signed:
		if err := checkBaseURL("S3 endpoint", o.S3Endpoint, "https://s3.us-west-004.backblazeb2.com"); err != nil {
			return err
		}
		if o.region() == "" {
			return fmt.Errorf("worker: no S3 region for the endpoint %s: give the region (e.g. us-west-004)", o.S3Endpoint)
		}
	case Token:
		if err := checkBaseURL("download URL", o.DownloadURL, "https://f004.backblazeb2.com"); err != nil {
			return err
		}
	default:
		return fmt.Errorf("worker: mode %q is unknown: use %q or %q", o.Mode, Signed, Token)
	}
	return nil
}

func checkBaseURL(what, s, example string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("worker: the %s %q is not a base URL: give one like %s", what, s, example)
	}
	return nil
}
