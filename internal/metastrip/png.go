package metastrip

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// pngDropped lists the PNG chunk types that carry metadata.
var pngDropped = map[string]bool{"eXIf": true, "tEXt": true, "iTXt": true, "zTXt": true, "tIME": true}

// minimalEXIfChunk returns a complete PNG eXIf chunk holding only the
// Orientation o.
func minimalEXIfChunk(o int) []byte {
	data := minimalTIFF(o)
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(c, "eXIf"...)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

func stripPNG(w *bufio.Writer, r *reader, res *Result) error {
	var sig [8]byte
	if err := r.readFull(sig[:], "the signature"); err != nil {
		return err
	}
	if _, err := w.Write(sig[:]); err != nil {
		return err
	}
	var (
		hdr      [8]byte
		crcBuf   [4]byte
		exifSeen bool
		exifBuf  []byte
	)
	for {
		start := r.off
		if err := r.readFull(hdr[:], "a chunk header"); err != nil {
			return err
		}
		n := binary.BigEndian.Uint32(hdr[:4])
		typ := string(hdr[4:])
		if n > 1<<31-1 {
			r.off = start
			return r.corrupt("chunk %q has length %d", typ, n)
		}
		if !validChunkType(hdr[4:]) {
			r.off = start + 4
			return r.corrupt("invalid chunk type %q", typ)
		}
		what := "chunk " + typ
		switch {
		case typ == "eXIf" && !exifSeen:
			exifSeen = true
			size := min(int(n), maxExifParse)
			if cap(exifBuf) < size {
				exifBuf = make([]byte, size)
			}
			data := exifBuf[:size]
			if err := r.readFull(data, what); err != nil {
				return err
			}
			if err := r.discard(int64(n)-int64(size), what); err != nil {
				return err
			}
			if err := r.readFull(crcBuf[:], what); err != nil {
				return err
			}
			o := orientation(data)
			if o < 2 {
				addRemoved(res, "eXIf")
				continue
			}
			res.KeptOrientation = o
			mini := minimalEXIfChunk(o)
			whole := append(append(hdr[:], data...), crcBuf[:]...)
			if !bytes.Equal(whole, mini) {
				addRemoved(res, "eXIf")
			}
			if _, err := w.Write(mini); err != nil {
				return err
			}
		case pngDropped[typ]:
			addRemoved(res, typ)
			if err := r.discard(int64(n)+4, what); err != nil {
				return err
			}
		default:
			if _, err := w.Write(hdr[:]); err != nil {
				return err
			}
			h := crc32.NewIEEE()
			h.Write(hdr[4:])
			if err := r.copyN(w, int64(n), h, what); err != nil {
				return err
			}
			if err := r.readFull(crcBuf[:], what); err != nil {
				return err
			}
			if got, want := binary.BigEndian.Uint32(crcBuf[:]), h.Sum32(); got != want {
				r.off -= 4
				return r.corrupt("chunk %q has CRC %08x, its data gives %08x", typ, got, want)
			}
			if _, err := w.Write(crcBuf[:]); err != nil {
				return err
			}
			if typ == "IEND" {
				return r.dropTrailer(res)
			}
		}
	}
}

// validChunkType reports whether t is four ASCII letters.
func validChunkType(t []byte) bool {
	for _, c := range t {
		if (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}
