package cloudflare

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// maxScriptName is the longest Worker name Cloudflare accepts.
const maxScriptName = 63

// ScriptName is the Worker name for a custom domain: "upshot-" and the
// domain, lower-cased, with dots (and any character a Worker name cannot
// hold) as '-', e.g. "upshot-img-example-com". A name that would be longer
// than 63 characters is cut and ends in '-' and 8 hex digits of the
// domain's SHA-256, so it stays distinct.
func ScriptName(domain string) string {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), ".")
	var b strings.Builder
	b.WriteString("upshot-")
	for _, r := range d {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	name := strings.TrimRight(b.String(), "-_")
	if len(name) <= maxScriptName {
		return name
	}
	sum := sha256.Sum256([]byte(d))
	suffix := "-" + hex.EncodeToString(sum[:4])
	return strings.TrimRight(name[:maxScriptName-len(suffix)], "-_") + suffix
}

// validScriptName reports whether name is a valid Worker name: a lower-case
// letter first, a letter or digit last, letters, digits, '_' and '-'
// between, at most 63 characters.
func validScriptName(name string) bool {
	if name == "" || len(name) > maxScriptName {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := c >= 'a' && c <= 'z'
		digit := c >= '0' && c <= '9'
		switch {
		case i == 0 && !letter:
			return false
		case i == len(name)-1 && !letter && !digit:
			return false
		case !letter && !digit && c != '-' && c != '_':
			return false
		}
	}
	return true
}
