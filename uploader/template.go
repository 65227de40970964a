package uploader

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// DefaultPathTemplate is the key template used when the config names none.
const DefaultPathTemplate = "{year}/{month}/{name}{ext}"

// Limits on object keys. S3 allows 1,024 bytes; B2 also limits each
// "/"-separated segment to 250 bytes.
const (
	maxKeyBytes     = 1024
	maxSegmentBytes = 250
)

// KeyInput is what a key template is rendered from.
type KeyInput struct {
	FileName string    // base name of the local file, e.g. "Screenshot 1.png"
	Time     time.Time // rendered in its own location (local time by default)
	SHA1     [20]byte  // content hash, for {sha1:N}
}

// KeyTemplate is a parsed path template such as "{year}/{month}/{name}{ext}".
// It is immutable and safe for concurrent use.
type KeyTemplate struct {
	src   string
	parts []tmplPart
}

type tmplPart struct {
	literal string
	field   string // "" for a literal
	n       int    // width for sha1 and random
}

// placeholders lists what a template may contain, for error messages.
const placeholders = "{year} {month} {day} {hour} {minute} {second} {name} {ext} {sha1:N} {random:N} {uuid}"

// ParseKeyTemplate parses and checks a template. The template must make keys
// that differ per file (it needs {name}, {sha1:N}, {random:N} or {uuid}) and
// its fixed text must be a valid key: no leading "/", no empty, "." or ".."
// segments, no control characters.
func ParseKeyTemplate(src string) (*KeyTemplate, error) {
	if strings.TrimSpace(src) == "" {
		return nil, errors.New("is empty: use for example " + DefaultPathTemplate)
	}
	t := &KeyTemplate{src: src}
	unique := false
	rest := src
	for rest != "" {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			t.parts = append(t.parts, tmplPart{literal: rest})
			break
		}
		if i > 0 {
			t.parts = append(t.parts, tmplPart{literal: rest[:i]})
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("has an unclosed %q: close it with } (placeholders: %s)", rest[i:], placeholders)
		}
		p, err := parsePlaceholder(rest[i+1 : i+j])
		if err != nil {
			return nil, err
		}
		switch p.field {
		case "name", "sha1", "random", "uuid":
			unique = true
		}
		t.parts = append(t.parts, p)
		rest = rest[i+j+1:]
	}
	if !unique {
		return nil, fmt.Errorf("%q gives every file the same key: add {name}, {sha1:8}, {random:8} or {uuid}", src)
	}
	// Check the fixed structure by rendering a sample with a plain name.
	sample, _ := t.render(KeyInput{FileName: "sample.png", Time: time.Date(2026, 11, 22, 10, 15, 0, 0, time.UTC)}, false)
	if strings.HasPrefix(src, "/") {
		return nil, fmt.Errorf("%q starts with /: keys are relative to the bucket, so drop the leading /", src)
	}
	for _, seg := range strings.Split(sample, "/") {
		switch seg {
		case "":
			return nil, fmt.Errorf("%q makes an empty path segment (%q): remove the doubled or trailing /", src, sample)
		case ".", "..":
			return nil, fmt.Errorf("%q makes a %q segment (%q): such keys are ambiguous in URLs, so remove it", src, seg, sample)
		}
	}
	for _, r := range src {
		if unicode.IsControl(r) {
			return nil, fmt.Errorf("%q contains a control character (%U): remove it", src, r)
		}
	}
	return t, nil
}

func parsePlaceholder(s string) (tmplPart, error) {
	name, arg, hasArg := strings.Cut(s, ":")
	switch name {
	case "year", "month", "day", "hour", "minute", "second", "name", "ext", "uuid":
		if hasArg {
			return tmplPart{}, fmt.Errorf("{%s} takes no width: write {%s}", s, name)
		}
		return tmplPart{field: name}, nil
	case "sha1", "random":
		limit := 40
		if name == "random" {
			limit = 32
		}
		n := limit
		if hasArg {
			var err error
			n, err = strconv.Atoi(arg)
			if err != nil || n < 1 || n > limit {
				return tmplPart{}, fmt.Errorf("{%s} needs a width from 1 to %d, for example {%s:8}", s, limit, name)
			}
		}
		return tmplPart{field: name, n: n}, nil
	}
	return tmplPart{}, fmt.Errorf("has an unknown placeholder {%s}: use one of %s", s, placeholders)
}

// String returns the template's source text.
func (t *KeyTemplate) String() string { return t.src }

// Unique reports whether two different files practically never get the
// same key: the template has {uuid}, or {sha1:N} or {random:N} with at
// least 8 characters.
func (t *KeyTemplate) Unique() bool {
	for _, p := range t.parts {
		switch {
		case p.field == "uuid", (p.field == "sha1" || p.field == "random") && p.n >= 8:
			return true
		}
	}
	return false
}

// Render makes the object key for one file. The file name is cleaned (Unicode
// NFC, no control or bidi-override characters, no "/" or "\"), and each
// segment is kept within B2's limits, truncating the name but not its
// extension. It fails only when the key cannot be made valid.
func (t *KeyTemplate) Render(in KeyInput) (string, error) {
	raw, ext := t.render(in, true)
	return cleanKey(raw, ext)
}

// render fills in the placeholders; the result is not yet a clean key.
func (t *KeyTemplate) render(in KeyInput, random bool) (raw, ext string) {
	name, ext := splitName(in.FileName)
	if name == "" && ext == "" {
		name = "_"
	}
	var b strings.Builder
	for _, p := range t.parts {
		switch p.field {
		case "":
			b.WriteString(p.literal)
		case "year":
			fmt.Fprintf(&b, "%04d", in.Time.Year())
		case "month":
			fmt.Fprintf(&b, "%02d", int(in.Time.Month()))
		case "day":
			fmt.Fprintf(&b, "%02d", in.Time.Day())
		case "hour":
			fmt.Fprintf(&b, "%02d", in.Time.Hour())
		case "minute":
			fmt.Fprintf(&b, "%02d", in.Time.Minute())
		case "second":
			fmt.Fprintf(&b, "%02d", in.Time.Second())
		case "name":
			b.WriteString(name)
		case "ext":
			b.WriteString(ext)
		case "sha1":
			b.WriteString(hex.EncodeToString(in.SHA1[:])[:p.n])
		case "random":
			b.WriteString(randomString(p.n, random))
		case "uuid":
			b.WriteString(uuid4(random))
		}
	}
	return b.String(), ext
}

// splitName splits a base name into a cleaned stem and extension. A leading
// dot belongs to the stem (".hidden.png" is ".hidden" + ".png").
func splitName(file string) (name, ext string) {
	file = cleanName(path.Base(strings.ReplaceAll(file, "\\", "/")))
	if file == "/" || file == "." || file == ".." {
		file = ""
	}
	ext = path.Ext(file)
	if ext == file || strings.ContainsAny(ext, " ") || len(ext) > 16 {
		ext = ""
	}
	return file[:len(file)-len(ext)], ext
}

// cleanName makes a file name safe for a key segment: NFC, no control or
// bidi-override characters, no path separators.
func cleanName(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = norm.NFC.String(s)
	return strings.Map(func(r rune) rune {
		switch {
		case r == '/' || r == '\\':
			return '-'
		case unicode.IsControl(r), r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
			return -1
		}
		return r
	}, s)
}

// cleanKey replaces empty, "." and ".." segments (only an empty placeholder
// can make them: ParseKeyTemplate refuses them in fixed text) and fits each
// segment into maxSegmentBytes, keeping ext on the last one.
func cleanKey(key, ext string) (string, error) {
	segs := strings.Split(key, "/")
	out := segs[:0]
	for i, seg := range segs {
		switch seg {
		case "", ".", "..":
			seg = strings.Repeat("_", max(len(seg), 1))
		}
		if len(seg) > maxSegmentBytes {
			keep := ""
			if i == len(segs)-1 && strings.HasSuffix(seg, ext) {
				keep = ext
			}
			seg = truncateUTF8(seg[:len(seg)-len(keep)], maxSegmentBytes-len(keep)) + keep
		}
		out = append(out, seg)
	}
	k := strings.Join(out, "/")
	if len(k) > maxKeyBytes {
		return "", fmt.Errorf("the key is %d bytes, more than the %d S3 allows: shorten path_template", len(k), maxKeyBytes)
	}
	return k, nil
}

// truncateUTF8 cuts s to at most n bytes on a rune boundary.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// withSuffix inserts "-n" before the extension of the key's last segment:
// "2026/11/shot.png" becomes "2026/11/shot-1.png".
func withSuffix(key string, n int) string {
	dir, base := path.Split(key)
	stem, ext := base, ""
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		stem, ext = base[:i], base[i:]
	}
	suffix := "-" + strconv.Itoa(n)
	stem = truncateUTF8(stem, maxSegmentBytes-len(ext)-len(suffix))
	return dir + stem + suffix + ext
}

const randomAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

func randomString(n int, random bool) string {
	b := make([]byte, n)
	if !random {
		for i := range b {
			b[i] = 'x'
		}
		return string(b)
	}
	rand.Read(b)
	for i := range b {
		b[i] = randomAlphabet[int(b[i])%len(randomAlphabet)]
	}
	return string(b)
}

func uuid4(random bool) string {
	var u [16]byte
	if random {
		rand.Read(u[:])
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
