package metastrip

import (
	"bytes"
	"encoding/binary"
	"io"
)

// Clean reports whether rs is a PNG that Strip would leave unchanged: no
// metadata chunk and nothing after IEND. It reads only the signature and
// the chunk headers, seeking over chunk data, so a clean screenshot is not
// read twice (once here, once to hash it). It reports false whenever it is
// not sure (another format, a chunk that does not fit the file): Strip
// then decides. It does not verify CRCs; a PNG that holds no metadata
// leaks none, whatever its CRCs. rs is left at an unspecified offset.
func Clean(rs io.ReadSeeker) bool {
	size, err := rs.Seek(0, io.SeekEnd)
	if err != nil {
		return false
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return false
	}
	var sig [8]byte
	if _, err := io.ReadFull(rs, sig[:]); err != nil || !bytes.Equal(sig[:], pngSignature) {
		return false
	}
	var hdr [8]byte
	for off := int64(len(sig)); ; {
		if _, err := io.ReadFull(rs, hdr[:]); err != nil {
			return false
		}
		typ := string(hdr[4:])
		if !validChunkType(hdr[4:]) || pngDropped[typ] || typ == "eXIf" {
			return false
		}
		off += 8 + int64(binary.BigEndian.Uint32(hdr[:4])) + 4
		if off > size {
			return false
		}
		if typ == "IEND" {
			return off == size
		}
		if _, err := rs.Seek(off, io.SeekStart); err != nil {
			return false
		}
	}
}
