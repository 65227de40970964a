// Package metastrip removes metadata that can locate or identify the person
// who took a photo (GPS position, camera make and model, capture time, XMP,
// IPTC, comments, embedded thumbnails) from JPEG, PNG and WebP files before
// Upshot uploads them to a public bucket (ShareX issue #820).
//
// Stripping is lossless: nothing is decoded or re-encoded. Kept segments and
// chunks are copied byte for byte, so the decoded pixels do not change.
//
// JPEG: kept are SOI/EOI, every non-APPn marker needed to decode (DQT, DHT,
// SOFn, DRI, DAC, DNL, SOS and the entropy-coded data after it, byte for
// byte), APP0 "JFIF", APP2 "ICC_PROFILE" (all of its parts), APP8 "SPIFF" and
// APP14 "Adobe". Dropped are every other APPn segment — among them APP1 Exif,
// APP1 XMP and extended XMP, APP13 Photoshop/IRB (IPTC), APP2 MPF and FlashPix,
// APP0 JFXX thumbnails, APP11 JUMBF/C2PA — COM comments, and any bytes after
// EOI (MPF secondary images, motion-photo videos and other trailers, which
// carry their own Exif). If the first Exif segment before the first scan had
// an Orientation other than 1, a minimal Exif APP1 holding only IFD0 with
// that Orientation is written right after SOI and any leading JFIF APP0, so
// viewers still rotate the photo; orientation 1 or none adds no Exif.
//
// PNG: eXIf, tEXt, iTXt, zTXt and tIME chunks and any bytes after IEND are
// dropped; every other chunk (IHDR, PLTE, IDAT, iCCP, sRGB, gAMA, cHRM, pHYs,
// …) is copied byte for byte with its CRC, which is verified on the way. An
// eXIf whose Orientation is not 1 is replaced in place by a minimal eXIf with
// only that Orientation.
//
// WebP: EXIF and XMP chunks and any bytes after the RIFF end are dropped, the
// EXIF and XMP flags of the VP8X chunk are cleared and the RIFF size is fixed;
// VP8X, ICCP, ANIM, ANMF, ALPH, VP8 and VP8L chunks are copied byte for byte.
// An EXIF chunk with an Orientation other than 1 in an extended (VP8X) file is
// replaced in place by a minimal EXIF chunk, and the VP8X EXIF flag stays set.
//
// Other formats (GIF, HEIC, AVIF, TIFF, anything else) are copied unchanged
// and reported with an empty Result.Format: they may still carry metadata, and
// the caller decides whether to upload them.
//
// Stripping is idempotent: stripping a stripped file reports no change.
//
// # Memory
//
// Strip streams. JPEG segments (at most 64 KiB each) are held one at a time;
// kept header segments are held until the first scan, at most 1 MiB in all,
// so the orientation Exif can be placed right after SOI wherever the original
// Exif was. PNG chunk data and JPEG scan data are streamed, whatever their
// size. A WebP file starts with its total size, which the dropped chunks
// change, so Strip first walks its chunk headers: through Seek when src is an
// io.Seeker (an *os.File, a *bytes.Reader), else by reading a WebP of at most
// 64 MiB into memory.
//
// # Errors
//
// A JPEG, PNG or WebP that is truncated or does not parse gives an error that
// wraps ErrCorrupt (and io.ErrUnexpectedEOF when the file ended early). Read
// and write errors are returned wrapped as they are. After any error dst may
// hold part of the output and must be discarded. Strip never falls back to
// the original on its own: whether to upload the original (with its
// metadata), or to refuse, is the caller's decision; refusing is the safe one.
//
// # Concurrency
//
// Strip and Detect keep no state between calls and may run in several
// goroutines at once, each call with its own src and dst.
package metastrip

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Result describes what Strip did.
type Result struct {
	// Format is "jpeg", "png" or "webp", or "" when the file is of a format
	// that Strip does not handle and was copied unchanged.
	Format string
	// Changed reports whether dst differs from src. When false, dst received
	// a byte-for-byte copy of src.
	Changed bool
	// Removed names what was dropped, each name once, in the order first met:
	// "Exif", "XMP", "ExtendedXMP", "IPTC", "Comment", "MPF", "JFXX",
	// "FlashPix" or "APPn" for JPEG; the chunk type ("eXIf", "tEXt", "iTXt",
	// "zTXt", "tIME") for PNG; "EXIF" or "XMP" for WebP; and "Trailer" for
	// bytes after the end of the image in any format.
	Removed []string
	// KeptOrientation is the Exif Orientation (2–8) written back or kept in a
	// minimal Exif block, or 0 when none was (absent, or 1: no rotation).
	KeptOrientation int
}

// ErrCorrupt is wrapped by the errors Strip returns for a JPEG, PNG or WebP
// that is truncated or does not parse.
var ErrCorrupt = errors.New("corrupt or truncated image")

const (
	bufSize = 64 << 10
	// maxExifParse bounds how much of a PNG eXIf or WebP EXIF chunk is read
	// to find the Orientation; IFD0 is at the start in practice.
	maxExifParse = 1 << 20
)

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// Detect names the format of a file from its first bytes: "jpeg", "png",
// "webp", or "" for anything else. It needs 3 bytes for JPEG, 8 for PNG and
// 12 for WebP.
func Detect(head []byte) string {
	switch {
	case len(head) >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF:
		return "jpeg"
	case bytes.HasPrefix(head, pngSignature):
		return "png"
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return "webp"
	}
	return ""
}

// Strip copies src to dst without its metadata, as the package documentation
// describes per format. A file of any other format is copied unchanged, with
// an empty Result.Format and no error. Strip reads src to its end (bytes after
// the image are dropped); for a WebP it seeks src when src is an io.Seeker.
// On error, dst may hold part of the output and must be discarded, and the
// caller decides what to upload: see the package documentation.
func Strip(dst io.Writer, src io.Reader) (Result, error) {
	var seeker io.ReadSeeker // nil unless src can seek
	var start int64
	if s, ok := src.(io.ReadSeeker); ok {
		if off, err := s.Seek(0, io.SeekCurrent); err == nil {
			seeker, start = s, off
		}
	}
	br := bufio.NewReaderSize(src, bufSize)
	head, err := br.Peek(12)
	if err != nil && !errors.Is(err, io.EOF) {
		return Result{}, fmt.Errorf("metastrip: reading: %w", err)
	}
	tw := &trackedWriter{w: dst}
	bw := bufio.NewWriterSize(tw, bufSize)
	res := Result{Format: Detect(head)}
	r := &reader{br: br, format: res.Format}
	switch res.Format {
	case "jpeg":
		err = stripJPEG(bw, r, &res)
	case "png":
		err = stripPNG(bw, r, &res)
	case "webp":
		err = stripWebP(bw, r, seeker, start, &res)
	default:
		_, err = io.Copy(bw, br)
		if err != nil && tw.err == nil {
			err = fmt.Errorf("metastrip: reading: %w", err)
		}
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		if tw.err != nil {
			return res, fmt.Errorf("metastrip: writing the stripped %s: %w", nameOf(res.Format), tw.err)
		}
		return res, err
	}
	if len(res.Removed) > 0 {
		res.Changed = true
	}
	return res, nil
}

func nameOf(format string) string {
	if format == "" {
		return "file"
	}
	return format
}

// addRemoved records name in res.Removed once.
func addRemoved(res *Result, name string) {
	for _, n := range res.Removed {
		if n == name {
			return
		}
	}
	res.Removed = append(res.Removed, name)
}

// trackedWriter remembers the first write error so that Strip can tell a
// failing dst from a failing src.
type trackedWriter struct {
	w   io.Writer
	err error
}

func (t *trackedWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	if err != nil && t.err == nil {
		t.err = err
	}
	return n, err
}

// reader reads the input, counts the offset for error messages and turns an
// early end of file into an ErrCorrupt error.
type reader struct {
	br     *bufio.Reader
	off    int64
	format string
}

// corrupt returns an error wrapping ErrCorrupt about the byte at r.off.
func (r *reader) corrupt(format string, args ...any) error {
	return fmt.Errorf("metastrip: %s: %w at byte %d: %s", r.format, ErrCorrupt, r.off, fmt.Sprintf(format, args...))
}

// fail maps a read error met while reading what: an end of file means the
// image was truncated.
func (r *reader) fail(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("metastrip: %s: %w: file ends at byte %d inside %s: %w", r.format, ErrCorrupt, r.off, what, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("metastrip: reading %s at byte %d: %w", r.format, r.off, err)
}

func (r *reader) readFull(p []byte, what string) error {
	n, err := io.ReadFull(r.br, p)
	r.off += int64(n)
	if err != nil {
		return r.fail(err, what)
	}
	return nil
}

func (r *reader) readByte(what string) (byte, error) {
	c, err := r.br.ReadByte()
	if err != nil {
		return 0, r.fail(err, what)
	}
	r.off++
	return c, nil
}

// discard skips n bytes.
func (r *reader) discard(n int64, what string) error {
	for n > 0 {
		step := int(min(n, 1<<30))
		d, err := r.br.Discard(step)
		r.off += int64(d)
		n -= int64(d)
		if err != nil {
			return r.fail(err, what)
		}
	}
	return nil
}

// copyN copies n bytes to w, through tee too when it is not nil.
func (r *reader) copyN(w io.Writer, n int64, tee io.Writer, what string) error {
	var src io.Reader = r.br
	if tee != nil {
		src = io.TeeReader(r.br, tee)
	}
	c, err := io.CopyN(w, src, n)
	r.off += c
	if err != nil {
		if c < n && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
			return r.fail(io.ErrUnexpectedEOF, what)
		}
		return err
	}
	return nil
}

// atEOF reports whether the input has no bytes left.
func (r *reader) atEOF() (bool, error) {
	_, err := r.br.Peek(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	if err != nil {
		return false, r.fail(err, "the end of the file")
	}
	return false, nil
}

// dropTrailer discards any bytes left after the end of the image and records
// them as "Trailer".
func (r *reader) dropTrailer(res *Result) error {
	eof, err := r.atEOF()
	if err != nil || eof {
		return err
	}
	addRemoved(res, "Trailer")
	for {
		n, err := r.br.Discard(bufSize)
		r.off += int64(n)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return r.fail(err, "the trailer")
		}
	}
}
