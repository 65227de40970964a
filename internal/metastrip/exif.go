package metastrip

import (
	"bytes"
	"encoding/binary"
)

// exifHeader starts the payload of a JPEG Exif APP1 segment; some PNG and
// WebP writers put it before the TIFF header too.
var exifHeader = []byte("Exif\x00\x00")

const tagOrientation = 0x0112

// orientation returns the Orientation tag (1–8) of IFD0 in a TIFF-structured
// Exif block, with or without the "Exif\0\0" header, or 0 when there is none
// or it is out of range. A short or broken block gives 0, never a panic.
func orientation(b []byte) int {
	b = bytes.TrimPrefix(b, exifHeader)
	if len(b) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(b[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 0
	}
	ifd := uint64(bo.Uint32(b[4:8]))
	if ifd+2 > uint64(len(b)) {
		return 0
	}
	n := uint64(bo.Uint16(b[ifd:]))
	for i := range n {
		e := ifd + 2 + 12*i
		if e+12 > uint64(len(b)) {
			return 0
		}
		if bo.Uint16(b[e:]) != tagOrientation {
			continue
		}
		typ, count := bo.Uint16(b[e+2:]), bo.Uint32(b[e+4:])
		var v uint32
		switch {
		case typ == 3 && count >= 1 && count <= 2: // SHORT, inline
			v = uint32(bo.Uint16(b[e+8:]))
		case typ == 4 && count == 1: // LONG, written by a few tools
			v = bo.Uint32(b[e+8:])
		default:
			return 0
		}
		if v >= 1 && v <= 8 {
			return int(v)
		}
		return 0
	}
	return 0
}

// minimalTIFF returns a big-endian TIFF block whose IFD0 holds only the
// Orientation o, with no next IFD: 26 bytes.
func minimalTIFF(o int) []byte {
	return []byte{
		'M', 'M', 0, 42, // byte order, magic
		0, 0, 0, 8, // IFD0 offset
		0, 1, // one entry
		0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, byte(o), 0, 0, // Orientation, SHORT, 1, o
		0, 0, 0, 0, // no next IFD
	}
}
