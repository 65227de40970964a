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
	Bucket        string
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
		Bucket:       t.Bucket,
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

// Instructions is the set-up as steps a person follows in Cloudflare's
// dashboard. current is the config's cache_control.
func (s CDNSetup) Instructions(current string) string {
	if current == "" {
		current = "(not set: add the line below)"
	}
	return fmt.Sprintf(`Serving bucket %[1]q at https://%[2]s/ through Cloudflare

1. DNS (Cloudflare dashboard → DNS → Records → Add record)
     Type: CNAME   Name: %[2]s   Target: %[3]s   Proxy status: Proxied (orange cloud)

2. URL rewrite (Rules → Transform Rules → Rewrite URL → Create rule)
     When incoming requests match (custom filter expression):
       %[4]s
     Then rewrite the path: Dynamic
       %[5]s
     Query: Preserve

3. Caching
     Objects are uploaded with Cache-Control: %[6]s
     (Upshot never overwrites a key with other content, so a year is safe.)
     Current target.cache_control: %[7]s
     Optionally add a Cache Rule for the hostname: "Eligible for cache", Edge TTL "Use cache-control header if present".

4. Upshot config
     [target]
     url_template = %[8]q
     cache_control = %[6]q

Check: a screenshot with key %[9]q
     gets the link   %[10]s
     which Cloudflare fetches from %[11]s
The bucket must be public for these links. For a private bucket, upshot cdn-setup --private deploys
Upshot's Worker on the domain instead (no rewrite rule needed); expiring links (upshot share KEY) work too.
`, s.Bucket, s.Domain, s.CNAMETarget, s.RuleFilter, s.RuleRewrite, s.CacheControl,
		current, s.URLTemplate, s.SampleKey, s.SampleLink, s.OriginExample)
}
