package metastrip

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// VP8X flags.
const (
	vp8xEXIF = 0x08
	vp8xXMP  = 0x04
)

// maxWebPBuffer bounds the WebP read into memory from a src that cannot
// seek.
const maxWebPBuffer = 64 << 20

// minimalEXIFChunk returns a complete WebP EXIF chunk holding only the
// Orientation o (26 bytes of data: no padding).
func minimalEXIFChunk(o int) []byte {
	data := minimalTIFF(o)
	c := append([]byte("EXIF"), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(c[4:], uint32(len(data)))
	return append(c, data...)
}

// webpPlan is what the first walk over the chunks decides.
type webpPlan struct {
	riffSize    uint32 // RIFF size of the input
	outSize     uint32 // RIFF size of the output
	extended    bool   // the first chunk is VP8X
	orientation int    // of the first EXIF chunk, in an extended file
	keepExif    bool   // the first EXIF chunk already is the minimal one
}

func stripWebP(w *bufio.Writer, r *reader, rs io.ReadSeeker, start int64, res *Result) error {
	if rs == nil {
		// Read the file into memory to learn what to drop before writing
		// the RIFF size.
		tooBig := fmt.Errorf("metastrip: webp: the file is over %d MiB and its reader cannot seek: pass an *os.File", maxWebPBuffer>>20)
		if head, _ := r.br.Peek(8); len(head) == 8 && binary.LittleEndian.Uint32(head[4:]) > maxWebPBuffer-8 {
			return tooBig
		}
		data, err := io.ReadAll(io.LimitReader(r.br, maxWebPBuffer+1))
		if err != nil {
			return fmt.Errorf("metastrip: reading webp: %w", err)
		}
		if len(data) > maxWebPBuffer {
			return tooBig
		}
		rs, start = bytes.NewReader(data), 0
	}
	plan, err := planWebP(rs, start)
	if err != nil {
		return err
	}
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return fmt.Errorf("metastrip: webp: seeking back to the start: %w", err)
	}
	r.br.Reset(rs)
	r.off = 0
	return writeWebP(w, r, plan, res)
}

// planWebP walks the chunk headers from start, reading only the first EXIF
// chunk's data, and works out the output's RIFF size.
func planWebP(rs io.ReadSeeker, start int64) (webpPlan, error) {
	var p webpPlan
	fail := func(off int64, format string, args ...any) error {
		return fmt.Errorf("metastrip: webp: %w at byte %d: %s", ErrCorrupt, off, fmt.Sprintf(format, args...))
	}
	end, err := rs.Seek(0, io.SeekEnd)
	if err != nil {
		return p, fmt.Errorf("metastrip: webp: seeking to the end: %w", err)
	}
	fileSize := end - start
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return p, fmt.Errorf("metastrip: webp: seeking to the start: %w", err)
	}
	var hdr [12]byte
	if _, err := io.ReadFull(rs, hdr[:]); err != nil {
		return p, fail(0, "no RIFF header: %v", err)
	}
	p.riffSize = binary.LittleEndian.Uint32(hdr[4:8])
	riffEnd := int64(p.riffSize) + 8
	if p.riffSize < 4 {
		return p, fail(4, "RIFF size %d", p.riffSize)
	}
	if riffEnd > fileSize {
		return p, fmt.Errorf("metastrip: webp: %w: the RIFF header says %d bytes, the file has %d: %w", ErrCorrupt, riffEnd, fileSize, io.ErrUnexpectedEOF)
	}
	removed := int64(0)
	exifSeen := false
	var ch [8]byte
	for pos := int64(12); pos < riffEnd; {
		if pos+8 > riffEnd {
			return p, fail(pos, "a chunk header crosses the RIFF end at %d", riffEnd)
		}
		if _, err := io.ReadFull(rs, ch[:]); err != nil {
			return p, fmt.Errorf("metastrip: reading webp at byte %d: %w", pos, err)
		}
		fourcc := string(ch[:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:]))
		padded := size + size&1
		if pos+8+padded > riffEnd {
			return p, fail(pos, "chunk %q of %d bytes crosses the RIFF end at %d", fourcc, size, riffEnd)
		}
		if pos == 12 {
			p.extended = fourcc == "VP8X"
			if p.extended && size < 10 {
				return p, fail(pos, "VP8X chunk of %d bytes", size)
			}
		}
		next := pos + 8 + padded
		switch fourcc {
		case "EXIF":
			if !exifSeen && p.extended {
				exifSeen = true
				data := make([]byte, min(size, maxExifParse))
				if _, err := io.ReadFull(rs, data); err != nil {
					return p, fmt.Errorf("metastrip: reading webp at byte %d: %w", pos+8, err)
				}
				if o := orientation(data); o >= 2 {
					p.orientation = o
					mini := minimalEXIFChunk(o)
					if bytes.Equal(append(ch[:], data...), mini) {
						p.keepExif = true
						break
					}
					removed -= int64(len(mini))
				}
			}
			removed += 8 + padded
		case "XMP ":
			removed += 8 + padded
		}
		if _, err := rs.Seek(start+next, io.SeekStart); err != nil {
			return p, fmt.Errorf("metastrip: webp: seeking to byte %d: %w", next, err)
		}
		pos = next
	}
	out := int64(p.riffSize) - removed
	if out > 1<<32-1 {
		return p, fail(4, "no room for the orientation EXIF chunk")
	}
	p.outSize = uint32(out)
	return p, nil
}

// writeWebP streams the file as planned.
func writeWebP(w *bufio.Writer, r *reader, p webpPlan, res *Result) error {
	var hdr [12]byte
	if err := r.readFull(hdr[:], "the RIFF header"); err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(hdr[4:8], p.outSize)
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	if p.outSize != p.riffSize {
		res.Changed = true
	}
	riffEnd := int64(p.riffSize) + 8
	exifSeen := false
	var ch [8]byte
	for r.off < riffEnd {
		if err := r.readFull(ch[:], "a chunk header"); err != nil {
			return err
		}
		fourcc := string(ch[:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:]))
		padded := size + size&1
		what := fmt.Sprintf("chunk %q", fourcc)
		switch {
		case fourcc == "EXIF" && !exifSeen && p.orientation >= 2:
			exifSeen = true
			res.KeptOrientation = p.orientation
			if p.keepExif {
				if _, err := w.Write(ch[:]); err != nil {
					return err
				}
				if err := r.copyN(w, padded, nil, what); err != nil {
					return err
				}
				break
			}
			addRemoved(res, "EXIF")
			if _, err := w.Write(minimalEXIFChunk(p.orientation)); err != nil {
				return err
			}
			if err := r.discard(padded, what); err != nil {
				return err
			}
		case fourcc == "EXIF" || fourcc == "XMP ":
			exifSeen = exifSeen || fourcc == "EXIF"
			addRemoved(res, string(bytes.TrimRight(ch[:4], " ")))
			if err := r.discard(padded, what); err != nil {
				return err
			}
		case fourcc == "VP8X" && p.extended && r.off == 20:
			var x [10]byte
			if err := r.readFull(x[:], what); err != nil {
				return err
			}
			flags := x[0] &^ (vp8xEXIF | vp8xXMP)
			if p.orientation >= 2 {
				flags |= vp8xEXIF
			}
			if flags != x[0] {
				res.Changed = true
				x[0] = flags
			}
			if _, err := w.Write(ch[:]); err != nil {
				return err
			}
			if _, err := w.Write(x[:]); err != nil {
				return err
			}
			if err := r.copyN(w, padded-10, nil, what); err != nil {
				return err
			}
		default:
			if _, err := w.Write(ch[:]); err != nil {
				return err
			}
			if err := r.copyN(w, padded, nil, what); err != nil {
				return err
			}
		}
	}
	if eof, err := r.atEOF(); err != nil || eof {
		return err
	}
	return r.dropTrailer(res)
}
