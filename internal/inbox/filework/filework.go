// Package filework is the file work the phone inbox's page does in the
// browser before a file leaves the phone: removing the metadata of a photo
// (GPS position, camera, capture time) by the desktop's own rules, and
// hashing the bytes that will be sent with SHA1 and MD5 in one pass.
//
// The package is plain Go with no browser code: internal/inbox/wasm exposes
// it to the page through WebAssembly, and its tests run natively, so the
// page and the desktop are checked against the same code.
//
// # Concurrency
//
// Strip keeps no state and may run in several goroutines at once. A Hasher
// is used by one goroutine at a time.
package filework

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"

	"upshot/internal/metastrip"
)

// Stripped is a file after Strip.
type Stripped struct {
	// Bytes is the file without its metadata. When Changed is false it is
	// the data given to Strip itself, not a copy.
	Bytes []byte
	// Changed reports whether Bytes differs from the data given to Strip.
	Changed bool
	// Removed names what was removed, as metastrip.Result.Removed does:
	// "Exif", "XMP", "Comment", "eXIf", "Trailer"…
	Removed []string
	// Format is "jpeg", "png" or "webp", or "" for a file of any other
	// format, which is returned unchanged.
	Format string
}

// Strip removes the metadata of a JPEG, PNG or WebP held in data by the same
// rules as the desktop (see internal/metastrip); the format is found from
// the bytes, not from a name or a type. A file of any other format is
// returned unchanged with an empty Format. A JPEG, PNG or WebP that does
// not parse is refused, with an error that says so in plain words, rather
// than returned with its metadata. data is not modified.
func Strip(data []byte) (Stripped, error) {
	format := metastrip.Detect(data[:min(len(data), 16)])
	if format == "" {
		return Stripped{Bytes: data}, nil
	}
	var out bytes.Buffer
	out.Grow(len(data) + 512) // room for a minimal orientation Exif
	res, err := metastrip.Strip(&out, bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, metastrip.ErrCorrupt) {
			return Stripped{}, fmt.Errorf("this %s looks damaged or cut short, so its location data could not be removed; it was not sent (%w)", kindOf(format), err)
		}
		return Stripped{}, fmt.Errorf("could not remove the location data of this %s; it was not sent (%w)", kindOf(format), err)
	}
	if !res.Changed {
		return Stripped{Bytes: data, Format: res.Format}, nil
	}
	return Stripped{Bytes: out.Bytes(), Changed: true, Removed: res.Removed, Format: res.Format}, nil
}

// kindOf names a file of a format as people say it.
func kindOf(format string) string {
	switch format {
	case "jpeg":
		return "JPEG photo"
	case "png":
		return "PNG image"
	case "webp":
		return "WebP image"
	}
	return "file"
}

// Hasher computes the SHA1 and the MD5 of bytes fed to it in slices of any
// size, in one pass: feeding a file in slices gives the same sums as
// feeding it whole. The zero Hasher is ready to use.
type Hasher struct {
	sha1, md5 hash.Hash
}

// NewHasher returns an empty Hasher.
func NewHasher() *Hasher {
	h := &Hasher{}
	h.init()
	return h
}

func (h *Hasher) init() {
	if h.sha1 == nil {
		h.sha1, h.md5 = sha1.New(), md5.New()
	}
}

// Write adds p to the hashed bytes. It never fails; it lets a Hasher be an
// io.Writer, for io.Copy.
func (h *Hasher) Write(p []byte) (int, error) {
	h.Update(p)
	return len(p), nil
}

// Update adds p to the hashed bytes.
func (h *Hasher) Update(p []byte) {
	h.init()
	h.sha1.Write(p)
	h.md5.Write(p)
}

// Sum returns the SHA1 and the MD5 of the bytes added so far, in lower-case
// hex. It does not change the Hasher: more bytes may be added after it.
func (h *Hasher) Sum() (sha1hex, md5hex string) {
	h.init()
	return hex.EncodeToString(h.sha1.Sum(nil)), hex.EncodeToString(h.md5.Sum(nil))
}
