package uploader

import (
	"net/url"
	"testing"
)

func TestEscapeKey(t *testing.T) {
	for key, want := range map[string]string{
		"2026/11/shot.png":        "2026/11/shot.png",
		"2026/11/a b+c#d?e%f.png": "2026/11/a%20b%2Bc%23d%3Fe%25f.png",
		"2026/11/(x)[y].png":      "2026/11/%28x%29%5By%5D.png",
		"é/👍.png":                 "%C3%A9/%F0%9F%91%8D.png",
	} {
		got := EscapeKey(key)
		if got != want {
			t.Errorf("EscapeKey(%q) = %q, want %q", key, got, want)
		}
		back, err := url.PathUnescape(got)
		if err != nil || back != key {
			t.Errorf("PathUnescape(EscapeKey(%q)) = %q, %v", key, back, err)
		}
	}
}

func TestObjectURL(t *testing.T) {
	key := "2026/11/a+b.png"
	for _, c := range []struct {
		target Target
		want   string
	}{
		{Target{URLTemplate: "https://img.example.com/{key}", Bucket: "b"}, "https://img.example.com/2026/11/a%2Bb.png"},
		{Target{DownloadURL: "https://f004.backblazeb2.com/", Bucket: "blog"}, "https://f004.backblazeb2.com/file/blog/2026/11/a%2Bb.png"},
		{Target{Endpoint: "https://s3.us-west-004.backblazeb2.com", Bucket: "blog"}, "https://blog.s3.us-west-004.backblazeb2.com/2026/11/a%2Bb.png"},
		{Target{Endpoint: "https://s3.example.com", Bucket: "blog", PathStyle: true}, "https://s3.example.com/blog/2026/11/a%2Bb.png"},
		{Target{Endpoint: "http://127.0.0.1:9000", Bucket: "blog"}, "http://127.0.0.1:9000/blog/2026/11/a%2Bb.png"},
	} {
		if got := c.target.ObjectURL(key); got != c.want {
			t.Errorf("ObjectURL(%+v) = %q, want %q", c.target, got, c.want)
		}
	}
}

// formatCases feeds TestLinkFormat and FuzzLinkFormat.
var formatCases = []struct {
	link Link
	f    Format
	want string
}{
	{Link{URL: "https://i.example/a.png", Name: "a.png", ContentType: "image/png"}, FormatURL, "https://i.example/a.png"},
	{Link{URL: "https://i.example/a.png", Name: "a.png", ContentType: "image/png"}, FormatMarkdown, "![a.png](https://i.example/a.png)"},
	{Link{URL: "https://i.example/a.png", Name: "a [1].png", ContentType: "image/png"}, FormatMarkdown, `![a \[1\].png](https://i.example/a.png)`},
	{Link{URL: "https://i.example/a.png", Name: `"a"<b>.png`, ContentType: "image/png"}, FormatHTML, `<img src="https://i.example/a.png" alt="&#34;a&#34;&lt;b&gt;.png">`},
	{Link{URL: "https://i.example/a.png", Name: "a.png", ContentType: "image/png"}, FormatBBCode, "[img]https://i.example/a.png[/img]"},
	{Link{URL: "https://i.example/r.pdf", Name: "r.pdf", ContentType: "application/pdf"}, FormatMarkdown, "[r.pdf](https://i.example/r.pdf)"},
	{Link{URL: "https://i.example/r.pdf", Name: "r.pdf", ContentType: "application/pdf"}, FormatHTML, `<a href="https://i.example/r.pdf">r.pdf</a>`},
	{Link{URL: "https://i.example/r.pdf", Name: "r.pdf", ContentType: "application/pdf"}, FormatBBCode, "[url=https://i.example/r.pdf]r.pdf[/url]"},
}

func TestLinkFormat(t *testing.T) {
	for _, c := range formatCases {
		if got := c.link.Format(c.f); got != c.want {
			t.Errorf("%+v.Format(%s) = %q, want %q", c.link, c.f, got, c.want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"url": FormatURL, "Markdown": FormatMarkdown, "md": FormatMarkdown, " html ": FormatHTML, "bbcode": FormatBBCode} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("rtf"); err == nil {
		t.Error("ParseFormat(rtf) accepted")
	}
}

// FuzzLinkFormat checks that a name can never break out of its markup.
func FuzzLinkFormat(f *testing.F) {
	for _, c := range formatCases {
		f.Add(c.link.Name)
	}
	f.Fuzz(func(t *testing.T, name string) {
		l := Link{URL: "https://i.example/" + EscapeKey(name), Name: name, ContentType: "image/png"}
		md := l.Format(FormatMarkdown)
		// The URL part must be intact at the end of the markdown.
		if want := "](" + l.URL + ")"; md[len(md)-len(want):] != want {
			t.Fatalf("markdown %q does not end with %q", md, want)
		}
		if u, err := url.Parse(l.URL); err != nil || u.Host != "i.example" {
			t.Fatalf("escaped URL %q does not parse back to the host", l.URL)
		}
	})
}
