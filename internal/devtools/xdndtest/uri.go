package xdndtest

import (
	"fmt"
	"path/filepath"
	"strings"

	"upshot/uploader"
)

// absolute returns files as absolute paths, in order.
func absolute(files []string) ([]string, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("no files to drop: give at least one")
	}
	out := make([]string, len(files))
	for i, f := range files {
		if f == "" {
			return nil, fmt.Errorf("file %d of the drop has an empty name", i+1)
		}
		abs, err := filepath.Abs(f)
		if err != nil {
			return nil, fmt.Errorf("make %q absolute for its file:// URI: %w", f, err)
		}
		out[i] = abs
	}
	return out, nil
}

// uriList is the text/uri-list of absolute paths (RFC 2483): one file URI
// with an empty host per line, each line ending in CRLF.
func uriList(paths []string) []byte {
	var b strings.Builder
	for _, p := range paths {
		b.WriteString(fileURI(p))
		b.WriteString("\r\n")
	}
	return []byte(b.String())
}

// plainText is the paths one a line, as text/plain and UTF8_STRING carry
// them.
func plainText(paths []string) []byte {
	return []byte(strings.Join(paths, "\n"))
}

// fileURI is the file:// URI of an absolute path: every byte of the path
// but the unreserved characters of RFC 3986 and "/" is percent-encoded
// (UTF-8 bytes too), as file managers write them, and as
// [uploader.EscapeKey] encodes a key.
func fileURI(path string) string {
	path = filepath.ToSlash(path)
	if !strings.HasPrefix(path, "/") {
		path = "/" + path // a Windows path such as C:/x becomes /C:/x
	}
	return "file://" + uploader.EscapeKey(path)
}
