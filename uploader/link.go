package uploader

import (
	"fmt"
	"html"
	"net/url"
	"strings"
)

// Format is how a link is written out.
type Format string

// The link formats.
const (
	FormatURL      Format = "url"
	FormatMarkdown Format = "markdown"
	FormatHTML     Format = "html"
	FormatBBCode   Format = "bbcode"
)

// Formats lists every format, in menu order.
var Formats = []Format{FormatURL, FormatMarkdown, FormatHTML, FormatBBCode}

// ParseFormat accepts a format name (case-insensitive; "md" for markdown).
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case FormatURL, FormatMarkdown, FormatHTML, FormatBBCode:
		return f, nil
	case "md":
		return FormatMarkdown, nil
	}
	return "", fmt.Errorf("%q is not a link format", s)
}

// Link is an uploaded object's public address with what is needed to write
// it in any [Format].
type Link struct {
	URL         string
	Name        string // the original file name, shown as alt text or link text
	ContentType string
}

// IsImage reports whether the link should be embedded as an image.
func (l Link) IsImage() bool { return strings.HasPrefix(l.ContentType, "image/") }

// Format writes the link. Images embed; anything else becomes a plain link
// in markdown, html and bbcode.
func (l Link) Format(f Format) string {
	switch f {
	case FormatMarkdown:
		text := markdownEscaper.Replace(l.Name)
		if l.IsImage() {
			return "![" + text + "](" + l.URL + ")"
		}
		return "[" + text + "](" + l.URL + ")"
	case FormatHTML:
		if l.IsImage() {
			return `<img src="` + html.EscapeString(l.URL) + `" alt="` + html.EscapeString(l.Name) + `">`
		}
		return `<a href="` + html.EscapeString(l.URL) + `">` + html.EscapeString(l.Name) + `</a>`
	case FormatBBCode:
		if l.IsImage() {
			return "[img]" + l.URL + "[/img]"
		}
		return "[url=" + l.URL + "]" + bbcodeEscaper.Replace(l.Name) + "[/url]"
	}
	return l.URL
}

var (
	markdownEscaper = strings.NewReplacer(`\`, `\\`, `[`, `\[`, `]`, `\]`, "\n", " ")
	bbcodeEscaper   = strings.NewReplacer(`[`, `(`, `]`, `)`)
)

// EscapeKey percent-encodes each segment of a key for use in a URL path,
// keeping only RFC 3986's unreserved characters. Unlike url.PathEscape it
// encodes '+' (B2 reads '+' in /file/ URLs as a space) and '(' ')' (they
// would end a Markdown link early).
func EscapeKey(key string) string {
	const hexdigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(key) * 3 / 2)
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.', c == '_', c == '~', c == '/':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexdigits[c>>4])
			b.WriteByte(hexdigits[c&15])
		}
	}
	return b.String()
}

// checkURLTemplate makes sure a URL template renders to an absolute URL and
// says where the key goes.
func checkURLTemplate(tmpl string) error {
	if !strings.Contains(tmpl, "{key}") {
		return fmt.Errorf("%q has no {key}: write it like https://img.example.com/{key}", tmpl)
	}
	u, err := url.Parse(strings.NewReplacer("{key}", "k", "{bucket}", "b").Replace(tmpl))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("%q is not an absolute http(s) URL: write it like https://img.example.com/{key}", tmpl)
	}
	return nil
}

// ObjectURL is the public address of key under the target: the URL template
// when set, else B2's /file/<bucket>/ form when a download URL is known, else
// the S3 URL (path-style or virtual-hosted, as configured).
func (t Target) ObjectURL(key string) string {
	esc := EscapeKey(key)
	switch {
	case t.URLTemplate != "":
		return strings.NewReplacer("{key}", esc, "{bucket}", EscapeKey(t.Bucket)).Replace(t.URLTemplate)
	case t.DownloadURL != "":
		return strings.TrimRight(t.DownloadURL, "/") + "/file/" + EscapeKey(t.Bucket) + "/" + esc
	}
	u, err := url.Parse(t.Endpoint)
	if err != nil {
		return t.Endpoint + "/" + EscapeKey(t.Bucket) + "/" + esc
	}
	if t.PathStyle || isLoopback(u.Hostname()) || strings.Contains(t.Bucket, ".") {
		return u.Scheme + "://" + u.Host + "/" + EscapeKey(t.Bucket) + "/" + esc
	}
	return u.Scheme + "://" + t.Bucket + "." + u.Host + "/" + esc
}
