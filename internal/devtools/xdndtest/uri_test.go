package xdndtest

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

func TestFileURI(t *testing.T) {
	for _, c := range []struct{ path, want string }{
		{"/tmp/shot.png", "file:///tmp/shot.png"},
		{"/tmp/my shot ü.png", "file:///tmp/my%20shot%20%C3%BC.png"},
		{"/a/100%#?;b~_-.png", "file:///a/100%25%23%3F%3Bb~_-.png"},
		{"/home/x/a+b&c=d(1).png", "file:///home/x/a%2Bb%26c%3Dd%281%29.png"},
	} {
		got := fileURI(c.path)
		if got != c.want {
			t.Errorf("fileURI(%q) = %q, want %q", c.path, got, c.want)
		}
		// A standard parser reads the path back.
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "file" || u.Host != "" || u.Path != c.path {
			t.Errorf("url.Parse(%q) = %+v, %v; want the path %q", got, u, err, c.path)
		}
	}
}

func TestURIList(t *testing.T) {
	got := string(uriList([]string{"/a b.png", "/c.png"}))
	if want := "file:///a%20b.png\r\nfile:///c.png\r\n"; got != want {
		t.Fatalf("uriList = %q, want %q", got, want)
	}
	if got := string(plainText([]string{"/a b.png", "/c.png"})); got != "/a b.png\n/c.png" {
		t.Fatalf("plainText = %q", got)
	}
}

func TestAbsolute(t *testing.T) {
	if _, err := absolute(nil); err == nil {
		t.Fatal("no files: no error")
	}
	if _, err := absolute([]string{"/a.png", ""}); err == nil || !strings.Contains(err.Error(), "file 2") {
		t.Fatalf("an empty name: %v", err)
	}
	got, err := absolute([]string{"rel.png"})
	if err != nil || !filepath.IsAbs(got[0]) || filepath.Base(got[0]) != "rel.png" {
		t.Fatalf("absolute(rel.png) = %q, %v", got, err)
	}
}
