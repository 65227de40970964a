// Package imagetest builds the pictures that tests of metadata removal
// need: real JPEG and PNG data, marker segments and chunks, and the Exif
// block with a GPS position that a phone's camera writes. It is imported
// by tests only.
package imagetest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"slices"
	"testing"
)

// Picture returns a w×h picture of gradients and noise (seeded by seed),
// so that the encoders produce real entropy-coded data.
func Picture(w, h int, seed uint64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 7))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			n := rng.IntN(48)
			img.SetRGBA(x, y, color.RGBA{
				R: uint8((x*255/max(w-1, 1) + n) & 0xFF),
				G: uint8((y*255/max(h-1, 1) + n/2) & 0xFF),
				B: uint8(((x+y)*3 + rng.IntN(64)) & 0xFF),
				A: 0xFF,
			})
		}
	}
	return img
}

// EncodeJPEG encodes img at quality (1–100).
func EncodeJPEG(tb testing.TB, img image.Image, quality int) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// EncodePNG encodes img.
func EncodePNG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// JPEGSegment builds a JPEG marker segment.
func JPEGSegment(marker byte, payload []byte) []byte {
	n := len(payload) + 2
	return append([]byte{0xFF, marker, byte(n >> 8), byte(n)}, payload...)
}

// PNGChunk builds a PNG chunk with its CRC.
func PNGChunk(typ string, data []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(append(c, typ...), data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// GPSLatitude is how [GPSTIFF] stores the latitude: 48/1 51/1 24/1, the
// bytes a test looks for after stripping.
var GPSLatitude = []byte{48, 0, 0, 0, 1, 0, 0, 0, 51, 0, 0, 0, 1, 0, 0, 0, 24, 0, 0, 0, 1, 0, 0, 0}

// GPSTIFF builds a little-endian Exif TIFF block as a phone writes one:
// Make and Model in IFD0 and a GPS IFD with latitude and longitude (Paris).
func GPSTIFF() []byte {
	le := binary.LittleEndian
	rational := func(vals ...uint32) []byte {
		var b []byte
		for _, v := range vals {
			b = le.AppendUint32(le.AppendUint32(b, v), 1)
		}
		return b
	}
	type entry struct {
		tag, typ uint16
		count    uint32
		value    []byte // inline when at most 4 bytes
	}
	// ifd lays out entries at offset base, their long values right after.
	ifd := func(base uint32, entries []entry) []byte {
		out := le.AppendUint16(nil, uint16(len(entries)))
		dataOff := base + 2 + 12*uint32(len(entries)) + 4
		var data []byte
		for _, e := range entries {
			out = le.AppendUint16(out, e.tag)
			out = le.AppendUint16(out, e.typ)
			out = le.AppendUint32(out, e.count)
			if len(e.value) <= 4 {
				out = append(out, append(e.value, make([]byte, 4-len(e.value))...)...)
				continue
			}
			out = le.AppendUint32(out, dataOff+uint32(len(data)))
			data = append(data, e.value...)
		}
		return append(le.AppendUint32(out, 0), data...)
	}
	ifd0 := []entry{
		{0x010F, 2, 6, []byte("Apple\x00")},
		{0x0110, 2, 10, []byte("iPhone 15\x00")},
		{0x8825, 4, 1, nil}, // the GPS IFD offset, set below
	}
	size := len(ifd(8, ifd0))
	ifd0[2].value = le.AppendUint32(nil, uint32(8+size))
	gps := ifd(uint32(8+size), []entry{
		{0x0001, 2, 2, []byte("N\x00")},
		{0x0002, 5, 3, rational(48, 51, 24)},
		{0x0003, 2, 2, []byte("E\x00")},
		{0x0004, 5, 3, rational(2, 21, 8)},
	})
	return slices.Concat([]byte("II*\x00\x08\x00\x00\x00"), ifd(8, ifd0), gps)
}

// WithGPS inserts an APP1 Exif segment holding [GPSTIFF], then extra
// segments, right after a JPEG's SOI, as a phone's camera writes them.
func WithGPS(j []byte, extra ...[]byte) []byte {
	exif := JPEGSegment(0xE1, slices.Concat([]byte("Exif\x00\x00"), GPSTIFF()))
	return slices.Concat(j[:2], exif, slices.Concat(extra...), j[2:])
}
