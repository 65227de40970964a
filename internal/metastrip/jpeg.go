package metastrip

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// JPEG markers used here.
const (
	mSOI  = 0xD8
	mEOI  = 0xD9
	mSOS  = 0xDA
	mRST0 = 0xD0
	mRST7 = 0xD7
	mTEM  = 0x01
	mAPP0 = 0xE0
	mAPP1 = 0xE1
	mAPP2 = 0xE2
	mAPP8 = 0xE8
	mAP13 = 0xED
	mAP14 = 0xEE
	mAP15 = 0xEF
	mCOM  = 0xFE
)

// maxPending bounds the kept header segments held back until the first
// scan, so that the orientation Exif can go right after SOI/APP0.
const maxPending = 1 << 20

var (
	idJFIF    = []byte("JFIF\x00")
	idJFXX    = []byte("JFXX\x00")
	idXMP     = []byte("http://ns.adobe.com/xap/1.0/\x00")
	idExtXMP  = []byte("http://ns.adobe.com/xmp/extension/\x00")
	idICC     = []byte("ICC_PROFILE\x00")
	idMPF     = []byte("MPF\x00")
	idFPXR    = []byte("FPXR\x00")
	idSPIFF   = []byte("SPIFF\x00")
	idAdobe   = []byte("Adobe")
	ffPadding = bytes.Repeat([]byte{0xFF}, 64)
)

// minimalExifSegment returns a complete APP1 segment holding only the
// Orientation o.
func minimalExifSegment(o int) []byte {
	payload := append(append([]byte(nil), exifHeader...), minimalTIFF(o)...)
	n := len(payload) + 2
	return append([]byte{0xFF, mAPP1, byte(n >> 8), byte(n)}, payload...)
}

type jpegStripper struct {
	r   *reader
	w   *bufio.Writer
	res *Result

	seg [65535]byte // payload of the current segment

	pending     bytes.Buffer // kept header segments not yet written
	flushed     bool         // pending was written; write straight to w
	scanSeen    bool         // the first SOS was met
	exifSeen    bool         // the first Exif APP1 was met
	orientation int          // from the first Exif, 0 if none or 1
	orientDone  bool         // the orientation Exif is in the output
}

func stripJPEG(w *bufio.Writer, r *reader, res *Result) error {
	s := &jpegStripper{r: r, w: w, res: res}
	return s.run()
}

func (s *jpegStripper) run() error {
	var soi [2]byte
	if err := s.r.readFull(soi[:], "SOI"); err != nil {
		return err
	}
	if _, err := s.w.Write(soi[:]); err != nil {
		return err
	}
	leading := true // in the run of JFIF APP0 segments right after SOI
	for {
		fill, m, err := s.readMarker()
		if err != nil {
			return err
		}
		switch {
		case m == mEOI:
			if err := s.flushHeader(); err != nil {
				return err
			}
			if err := s.writeMarker(fill, m); err != nil {
				return err
			}
			return s.r.dropTrailer(s.res)
		case m == mTEM || (m >= mRST0 && m <= mRST7):
			if err := s.emitMarker(fill, m, nil); err != nil {
				return err
			}
			continue
		case m == 0x00 || m == mSOI:
			return s.r.corrupt("unexpected marker 0x%02X", m)
		}
		payload, err := s.readSegment(m)
		if err != nil {
			return err
		}
		if m == mAPP0 && leading && bytes.HasPrefix(payload, idJFIF) {
			if err := s.writeMarker(fill, m); err != nil {
				return err
			}
			if err := s.writeLength(payload); err != nil {
				return err
			}
			continue
		}
		leading = false
		if m == mSOS {
			if err := s.flushHeader(); err != nil {
				return err
			}
			s.scanSeen = true
			if err := s.emitMarker(fill, m, payload); err != nil {
				return err
			}
			if err := s.copyScan(); err != nil {
				return err
			}
			continue
		}
		if m == mAPP1 && bytes.HasPrefix(payload, exifHeader[:5]) {
			if err := s.exif(fill, payload); err != nil {
				return err
			}
			continue
		}
		if name := dropName(m, payload); name != "" {
			addRemoved(s.res, name)
			continue
		}
		if err := s.emitMarker(fill, m, payload); err != nil {
			return err
		}
	}
}

// dropName names a segment to drop, or returns "" for one to keep.
func dropName(m byte, p []byte) string {
	switch {
	case m == mCOM:
		return "Comment"
	case m < mAPP0 || m > mAP15:
		return "" // needed to decode
	case m == mAPP0 && bytes.HasPrefix(p, idJFIF),
		m == mAPP2 && bytes.HasPrefix(p, idICC),
		m == mAPP8 && bytes.HasPrefix(p, idSPIFF),
		m == mAP14 && bytes.HasPrefix(p, idAdobe):
		return ""
	case m == mAPP0 && bytes.HasPrefix(p, idJFXX):
		return "JFXX"
	case m == mAPP1 && bytes.HasPrefix(p, idXMP):
		return "XMP"
	case m == mAPP1 && bytes.HasPrefix(p, idExtXMP):
		return "ExtendedXMP"
	case m == mAPP1 && bytes.HasPrefix(p, exifHeader[:5]):
		return "Exif"
	case m == mAPP2 && bytes.HasPrefix(p, idMPF):
		return "MPF"
	case m == mAPP2 && bytes.HasPrefix(p, idFPXR):
		return "FlashPix"
	case m == mAP13:
		return "IPTC"
	}
	return fmt.Sprintf("APP%d", m-mAPP0)
}

// exif handles an Exif APP1 segment: only the first one before the first
// scan counts for the orientation, as in viewers. A segment that already is
// the minimal form is kept where it is.
func (s *jpegStripper) exif(fill int, payload []byte) error {
	if s.scanSeen || s.exifSeen {
		addRemoved(s.res, "Exif")
		return nil
	}
	s.exifSeen = true
	o := orientation(payload)
	if o < 2 {
		addRemoved(s.res, "Exif")
		return nil
	}
	s.orientation = o
	s.res.KeptOrientation = o
	if fill == 0 && bytes.Equal(payload, minimalExifSegment(o)[4:]) {
		s.orientDone = true
		return s.emitMarker(fill, mAPP1, payload)
	}
	addRemoved(s.res, "Exif")
	if s.flushed {
		// The header was too big to hold back: put it where the Exif was.
		s.orientDone = true
		_, err := s.w.Write(minimalExifSegment(o))
		return err
	}
	return nil
}

// flushHeader writes the orientation Exif, if any, then the held-back
// segments; later segments go straight to the output.
func (s *jpegStripper) flushHeader() error {
	if s.flushed {
		return nil
	}
	s.flushed = true
	if s.orientation >= 2 && !s.orientDone {
		s.orientDone = true
		if _, err := s.w.Write(minimalExifSegment(s.orientation)); err != nil {
			return err
		}
	}
	_, err := s.w.Write(s.pending.Bytes())
	s.pending = bytes.Buffer{}
	return err
}

// emit writes kept bytes, holding them back while the header is pending.
func (s *jpegStripper) emit(b []byte) error {
	if !s.flushed && s.pending.Len()+len(b) > maxPending {
		if err := s.flushHeader(); err != nil {
			return err
		}
	}
	if !s.flushed {
		s.pending.Write(b)
		return nil
	}
	_, err := s.w.Write(b)
	return err
}

// emitMarker emits a kept marker with its fill bytes and, when payload is
// not nil, its length and payload.
func (s *jpegStripper) emitMarker(fill int, m byte, payload []byte) error {
	for fill > 0 {
		n := min(fill, len(ffPadding))
		if err := s.emit(ffPadding[:n]); err != nil {
			return err
		}
		fill -= n
	}
	hdr := []byte{0xFF, m, 0, 0}
	if payload == nil {
		return s.emit(hdr[:2])
	}
	n := len(payload) + 2
	hdr[2], hdr[3] = byte(n>>8), byte(n)
	if err := s.emit(hdr); err != nil {
		return err
	}
	return s.emit(payload)
}

// writeMarker writes a marker with its fill bytes straight to the output.
func (s *jpegStripper) writeMarker(fill int, m byte) error {
	for ; fill > 0; fill-- {
		if err := s.w.WriteByte(0xFF); err != nil {
			return err
		}
	}
	_, err := s.w.Write([]byte{0xFF, m})
	return err
}

// writeLength writes a segment's length and payload straight to the output.
func (s *jpegStripper) writeLength(payload []byte) error {
	n := len(payload) + 2
	if _, err := s.w.Write([]byte{byte(n >> 8), byte(n)}); err != nil {
		return err
	}
	_, err := s.w.Write(payload)
	return err
}

// readMarker reads 0xFF, any fill bytes (0xFF) and the marker code.
func (s *jpegStripper) readMarker() (fill int, m byte, err error) {
	c, err := s.r.readByte("a marker")
	if err != nil {
		return 0, 0, err
	}
	if c != 0xFF {
		s.r.off--
		return 0, 0, s.r.corrupt("expected a marker, found 0x%02X", c)
	}
	for {
		c, err = s.r.readByte("a marker")
		if err != nil {
			return 0, 0, err
		}
		if c != 0xFF {
			return fill, c, nil
		}
		fill++
	}
}

// readSegment reads the length and payload of a marker segment into s.seg.
func (s *jpegStripper) readSegment(m byte) ([]byte, error) {
	var l [2]byte
	what := fmt.Sprintf("the length of segment 0x%02X", m)
	if err := s.r.readFull(l[:], what); err != nil {
		return nil, err
	}
	n := int(l[0])<<8 | int(l[1])
	if n < 2 {
		return nil, s.r.corrupt("segment 0x%02X has length %d", m, n)
	}
	p := s.seg[:n-2]
	if err := s.r.readFull(p, fmt.Sprintf("segment 0x%02X", m)); err != nil {
		return nil, err
	}
	return p, nil
}

// copyScan copies entropy-coded data byte for byte up to the next marker
// other than RSTn, leaving the reader at that marker's first 0xFF. Stuffed
// 0xFF00, RSTn and fill bytes before the marker are copied as they are.
func (s *jpegStripper) copyScan() error {
	br := s.r.br
	for {
		buf, err := br.Peek(br.Size())
		i := 0
		for {
			k := bytes.IndexByte(buf[i:], 0xFF)
			if k < 0 {
				i = len(buf)
				break
			}
			i += k
			if i+1 >= len(buf) {
				break // need the byte after 0xFF
			}
			c := buf[i+1]
			if c == 0x00 || (c >= mRST0 && c <= mRST7) {
				i += 2
				continue
			}
			if c == 0xFF {
				i++ // a fill byte
				continue
			}
			return s.consume(buf[:i]) // a marker at i
		}
		if err != nil && i == 0 {
			if errors.Is(err, io.EOF) {
				return s.r.fail(io.ErrUnexpectedEOF, "scan data")
			}
			return s.r.fail(err, "scan data")
		}
		if err := s.consume(buf[:i]); err != nil {
			return err
		}
	}
}

// consume writes b, peeked from the reader, and moves past it.
func (s *jpegStripper) consume(b []byte) error {
	if _, err := s.w.Write(b); err != nil {
		return err
	}
	n, _ := s.r.br.Discard(len(b)) // b is buffered: cannot fail
	s.r.off += int64(n)
	return nil
}
