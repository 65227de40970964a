package uploader

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// RecommendedCacheControl suits Upshot's objects: a key is never
// overwritten with different content, so caches may keep it for a year.
const RecommendedCacheControl = "public, max-age=31536000, immutable"

// CDNSetup is what to configure so that https://<domain>/<key> serves the
// bucket's objects through Cloudflare.
type CDNSetup struct {
	Domain        string // e.g. img.example.com
	CNAMETarget   string // e.g. f004.backblazeb2.com
	RuleFilter    string // the Transform Rule's "when incoming requests match"
	RuleRewrite   string // its dynamic path rewrite expression
	CacheControl  string
	URLTemplate   string // the url_template to put in the config
	SampleKey     string
	SampleLink    string // what a screenshot's link will look like
	OriginExample string // the B2 URL the sample link is rewritten to
}

// CDNSetup works out the CNAME, Transform Rule and caching for serving the
// bucket at domain. domain may be empty when url_template names it. The
// download host comes from download_url, else from b2_authorize_account.
func (u *Uploader) CDNSetup(ctx context.Context, domain string) (CDNSetup, error) {
	t := u.target
	if domain == "" && t.URLTemplate != "" {
		if p, err := url.Parse(strings.NewReplacer("{key}", "k", "{bucket}", "b").Replace(t.URLTemplate)); err == nil {
			domain = p.Hostname()
		}
	}
	if domain == "" {
		return CDNSetup{}, &Error{What: "no custom domain known", Advice: "pass --domain img.example.com, or set target.url_template = \"https://img.example.com/{key}\""}
	}
	download := t.DownloadURL
	if download == "" {
		download = u.caps.get(t).DownloadURL
	}
	if download == "" && t.usesB2API() {
		ks, err := u.KeyScope(ctx)
		if err != nil {
			return CDNSetup{}, err
		}
		download = ks.DownloadURL
	}
	if download == "" {
		return CDNSetup{}, &Error{What: "the bucket's download host is unknown (the endpoint is not B2)", Advice: "set target.download_url, e.g. https://f004.backblazeb2.com (shown as \"Friendly URL\" in the B2 bucket's file details)"}
	}
	dl, err := url.Parse(download)
	if err != nil || dl.Host == "" {
		return CDNSetup{}, &Error{What: fmt.Sprintf("download URL %q is not a URL", download), Advice: "fix target.download_url"}
	}
	s := CDNSetup{
		Domain:       domain,
		CNAMETarget:  dl.Hostname(),
		RuleFilter:   fmt.Sprintf(`(http.host eq "%s")`, domain),
		RuleRewrite:  fmt.Sprintf(`concat("/file/%s", http.request.uri.path)`, t.Bucket),
		CacheControl: RecommendedCacheControl,
		URLTemplate:  "https://" + domain + "/{key}",
	}
	s.SampleKey, _ = u.tmpl.Render(KeyInput{FileName: "Screenshot 2026-11-22 at 10.15.00.png", Time: u.now()})
	s.SampleLink = "https://" + domain + "/" + EscapeKey(s.SampleKey)
	s.OriginExample = strings.TrimRight(download, "/") + "/file/" + EscapeKey(t.Bucket) + "/" + EscapeKey(s.SampleKey)
	return s, nil
}
