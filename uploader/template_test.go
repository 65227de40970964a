package uploader

import (
	"crypto/sha1"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var sampleTime = time.Date(2026, 11, 3, 9, 5, 7, 0, time.UTC)

// keyCases feeds TestRender and FuzzRender.
var keyCases = []struct {
	tmpl, file, want string
}{
	{DefaultPathTemplate, "shot.png", "2026/11/shot.png"},
	{"{year}/{month}/{day}/{hour}{minute}{second}-{name}{ext}", "a.jpg", "2026/11/03/090507-a.jpg"},
	{"blog/{sha1:8}{ext}", "a.png", "blog/da39a3ee.png"},
	{"{sha1}{ext}", "x.gif", "da39a3ee5e6b4b0d3255bfef95601890afd80709.gif"},
	{DefaultPathTemplate, "Screenshot 2026-11-22 at 10.15.00.png", "2026/11/Screenshot 2026-11-22 at 10.15.00.png"},
	{DefaultPathTemplate, "a+b#c?d%e.png", "2026/11/a+b#c?d%e.png"},
	{DefaultPathTemplate, "ctrl\x00\x1f\x7fname.png", "2026/11/ctrlname.png"},
	{DefaultPathTemplate, "../../etc/passwd", "2026/11/passwd"},
	{DefaultPathTemplate, "..", "2026/11/_"},
	{DefaultPathTemplate, "", "2026/11/_"},
	{DefaultPathTemplate, ".hidden.png", "2026/11/.hidden.png"},
	{DefaultPathTemplate, "back\\slash.png", "2026/11/slash.png"},
	{DefaultPathTemplate, "e\u0301.png", "2026/11/\u00e9.png"},                 // NFD → NFC
	{DefaultPathTemplate, "evil\u202egnp.exe", "2026/11/evilgnp.exe"},          // bidi override dropped
	{DefaultPathTemplate, "\u05e9\u05dc\u05d5\u05dd.png", "2026/11/שלום.png"},  // RTL letters kept
	{DefaultPathTemplate, "\U0001F469\u200D\U0001F4BB.png", "2026/11/👩‍💻.png"}, // ZWJ kept
	{DefaultPathTemplate, "noext", "2026/11/noext"},
	{"{name}/{ext}", "a", "a/_"},
}

func TestRender(t *testing.T) {
	for _, c := range keyCases {
		tm, err := ParseKeyTemplate(c.tmpl)
		if err != nil {
			t.Fatalf("ParseKeyTemplate(%q): %v", c.tmpl, err)
		}
		got, err := tm.Render(KeyInput{FileName: c.file, Time: sampleTime, SHA1: sha1.Sum(nil)})
		if err != nil {
			t.Fatalf("Render(%q, %q): %v", c.tmpl, c.file, err)
		}
		if got != c.want {
			t.Errorf("Render(%q, %q) = %q, want %q", c.tmpl, c.file, got, c.want)
		}
	}
}

func TestRenderLongNameKeepsExtension(t *testing.T) {
	tm, _ := ParseKeyTemplate(DefaultPathTemplate)
	name := strings.Repeat("é", 200) + ".png" // 400 bytes of stem
	got, err := tm.Render(KeyInput{FileName: name, Time: sampleTime})
	if err != nil {
		t.Fatal(err)
	}
	last := got[strings.LastIndexByte(got, '/')+1:]
	if len(last) > maxSegmentBytes || !strings.HasSuffix(last, ".png") || !utf8.ValidString(last) {
		t.Fatalf("segment %q (%d bytes): want ≤ %d bytes, valid UTF-8, ending .png", last, len(last), maxSegmentBytes)
	}
}

func TestRenderRandomAndUUID(t *testing.T) {
	tm, err := ParseKeyTemplate("{random:10}-{uuid}")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := tm.Render(KeyInput{FileName: "x.png", Time: sampleTime})
	b, _ := tm.Render(KeyInput{FileName: "x.png", Time: sampleTime})
	if a == b || len(a) != 10+1+36 || a[10+15] != '4' {
		t.Fatalf("random keys %q and %q: want distinct, 10 chars + uuid v4", a, b)
	}
}

func TestParseKeyTemplateRefuses(t *testing.T) {
	for tmpl, wantInMsg := range map[string]string{
		"":                         "empty",
		"{year}/{month}/fixed.png": "same key",
		"{nme}{ext}":               "unknown placeholder {nme}",
		"{name":                    "unclosed",
		"/{name}{ext}":             "starts with /",
		"a//{name}{ext}":           "empty path segment",
		"../{name}{ext}":           `".." segment`,
		"{sha1:0}":                 "width from 1 to 40",
		"{random:99}":              "width from 1 to 32",
		"{year:2}/{name}":          "takes no width",
		"a\tb/{name}":              "control character",
	} {
		_, err := ParseKeyTemplate(tmpl)
		if err == nil || !strings.Contains(err.Error(), wantInMsg) {
			t.Errorf("ParseKeyTemplate(%q) = %v, want an error mentioning %q", tmpl, err, wantInMsg)
		}
	}
}

func TestWithSuffix(t *testing.T) {
	for in, want := range map[string]string{
		"2026/11/shot.png": "2026/11/shot-2.png",
		"shot":             "shot-2",
		".hidden":          ".hidden-2",
		"a.b/c.tar.gz":     "a.b/c.tar-2.gz",
	} {
		if got := withSuffix(in, 2); got != want {
			t.Errorf("withSuffix(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStaticPrefix(t *testing.T) {
	for tmpl, want := range map[string]string{
		DefaultPathTemplate:      "",
		"blog/img/{year}/{name}": "blog/img/",
		"blog-{name}":            "",
	} {
		tm, err := ParseKeyTemplate(tmpl)
		if err != nil {
			t.Fatal(err)
		}
		if got := tm.StaticPrefix(); got != want {
			t.Errorf("StaticPrefix(%q) = %q, want %q", tmpl, got, want)
		}
	}
}

// FuzzRender checks that any file name gives a valid key or a clear error.
func FuzzRender(f *testing.F) {
	for _, c := range keyCases {
		f.Add(c.file)
	}
	tm, _ := ParseKeyTemplate(DefaultPathTemplate)
	f.Fuzz(func(t *testing.T, name string) {
		k, err := tm.Render(KeyInput{FileName: name, Time: sampleTime})
		if err != nil {
			t.Fatalf("Render(%q): %v", name, err)
		}
		if !utf8.ValidString(k) || len(k) > maxKeyBytes || strings.HasPrefix(k, "/") || strings.Contains(k, "//") {
			t.Fatalf("Render(%q) = %q: invalid key", name, k)
		}
		for _, seg := range strings.Split(k, "/") {
			if seg == "" || seg == "." || seg == ".." || len(seg) > maxSegmentBytes {
				t.Fatalf("Render(%q) = %q: bad segment %q", name, k, seg)
			}
		}
		for _, r := range k {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("Render(%q) = %q: control character", name, k)
			}
		}
	})
}
