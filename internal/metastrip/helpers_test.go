package metastrip

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"

	"upshot/internal/metastrip/imagetest"
)

// The builders every strip test uses.
var (
	testPicture = imagetest.Picture
	encodeJPEG  = imagetest.EncodeJPEG
	encodePNG   = imagetest.EncodePNG
	jpegSegment = imagetest.JPEGSegment
	pngChunk    = imagetest.PNGChunk
)

// withJFIF inserts a JFIF APP0 segment right after SOI, as cameras and most
// encoders but Go's write it.
func withJFIF(j []byte) []byte {
	app0 := []byte{0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
	return concat(j[:2], app0, j[2:])
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// segment is one JPEG header segment, as found by jpegHeader.
type segment struct {
	marker  byte
	payload []byte
}

// jpegHeader lists the segments from SOI up to and including the first
// SOS; it assumes no fill bytes.
func jpegHeader(tb testing.TB, j []byte) []segment {
	tb.Helper()
	var segs []segment
	i := 2
	for i+4 <= len(j) {
		if j[i] != 0xFF {
			tb.Fatalf("no marker at byte %d", i)
		}
		m := j[i+1]
		n := int(binary.BigEndian.Uint16(j[i+2:]))
		segs = append(segs, segment{m, j[i+4 : i+2+n]})
		if m == 0xDA {
			return segs
		}
		i += 2 + n
	}
	tb.Fatal("no SOS")
	return nil
}

// exifTIFF builds a little-endian TIFF block with Make, Model, a GPS IFD and,
// when o > 0, the Orientation o.
func exifTIFF(o int) []byte {
	le := binary.LittleEndian
	type entry struct {
		tag, typ uint16
		count    uint32
		value    []byte
	}
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
			if len(data)%2 == 1 {
				data = append(data, 0)
			}
		}
		out = le.AppendUint32(out, 0)
		return append(out, data...)
	}
	rational := func(vals ...uint32) []byte {
		var b []byte
		for _, v := range vals {
			b = le.AppendUint32(b, v)
			b = le.AppendUint32(b, 1)
		}
		return b
	}
	var ifd0 []entry
	ifd0 = append(ifd0, entry{0x010F, 2, 6, []byte("Canon\x00")}, entry{0x0110, 2, 8, []byte("EOS R5\x00\x00")})
	if o > 0 {
		ifd0 = append(ifd0, entry{0x0112, 3, 1, le.AppendUint16(nil, uint16(o))})
	}
	// The GPS IFD pointer comes last; its offset is patched below.
	ifd0 = append(ifd0, entry{0x8825, 4, 1, []byte{0, 0, 0, 0}})
	first := ifd(8, ifd0)
	gpsOff := 8 + uint32(len(first))
	le.PutUint32(first[2+12*(len(ifd0)-1)+8:], gpsOff)
	gps := ifd(gpsOff, []entry{
		{0x0001, 2, 2, []byte("N\x00")},
		{0x0002, 5, 3, rational(48, 51, 24)},
		{0x0003, 2, 2, []byte("E\x00")},
		{0x0004, 5, 3, rational(2, 17, 40)},
	})
	return concat([]byte("II*\x00\x08\x00\x00\x00"), first, gps)
}

// chunk is one PNG or WebP chunk: its type and its raw bytes.
type chunk struct {
	typ string
	raw []byte
}

func pngChunks(tb testing.TB, p []byte) []chunk {
	tb.Helper()
	var cs []chunk
	for i := 8; i < len(p); {
		n := int(binary.BigEndian.Uint32(p[i:]))
		cs = append(cs, chunk{string(p[i+4 : i+8]), p[i : i+12+n]})
		i += 12 + n
	}
	return cs
}

// insertPNGChunks inserts chunks right after IHDR.
func insertPNGChunks(p []byte, chunks ...[]byte) []byte {
	ihdrEnd := 8 + 12 + int(binary.BigEndian.Uint32(p[8:]))
	return concat(p[:ihdrEnd], concat(chunks...), p[ihdrEnd:])
}

// webpChunks lists the chunks inside the RIFF size of a WebP file.
func webpChunks(tb testing.TB, w []byte) []chunk {
	tb.Helper()
	end := int(binary.LittleEndian.Uint32(w[4:])) + 8
	if end > len(w) {
		tb.Fatalf("RIFF size says %d bytes, the file has %d", end, len(w))
	}
	var cs []chunk
	for i := 12; i < end; {
		n := int(binary.LittleEndian.Uint32(w[i+4:]))
		n += n & 1
		cs = append(cs, chunk{string(w[i : i+4]), w[i : i+8+n]})
		i += 8 + n
	}
	return cs
}

// webpFile wraps chunks in a RIFF WEBP header.
func webpFile(chunks ...[]byte) []byte {
	body := concat(chunks...)
	h := append([]byte("RIFF"), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(h[4:], uint32(4+len(body)))
	return concat(h, []byte("WEBP"), body)
}

// webpChunk builds a RIFF chunk with its padding byte.
func webpChunk(fourcc string, data []byte) []byte {
	c := append([]byte(fourcc), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(c[4:], uint32(len(data)))
	c = append(c, data...)
	if len(data)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

// bitWriter writes bits least significant first, as VP8L reads them.
type bitWriter struct {
	buf  []byte
	bits uint64
	n    uint
}

func (w *bitWriter) write(v uint64, n uint) {
	w.bits |= v << w.n
	w.n += n
	for w.n >= 8 {
		w.buf = append(w.buf, byte(w.bits))
		w.bits >>= 8
		w.n -= 8
	}
}

func (w *bitWriter) bytes() []byte {
	if w.n > 0 {
		return append(w.buf, byte(w.bits))
	}
	return w.buf
}

// vp8lColors are the two values each channel of vp8lImage can take.
var vp8lColors = [3][2]uint8{{10, 240}, {30, 200}, {60, 180}} // R, G, B

// vp8lImage returns a w×h lossless VP8L bitstream (no transforms, no color
// cache) whose pixels take eight colours in a pseudo-random pattern: each of
// green, red and blue has a simple prefix code of two 1-bit symbols, alpha
// one symbol (255). It also returns the pixels, for checking a decoder.
func vp8lImage(w, h int, seed uint64) ([]byte, *image.NRGBA) {
	rng := rand.New(rand.NewPCG(seed, 9))
	bw := &bitWriter{}
	bw.write(0x2F, 8)
	bw.write(uint64(w-1), 14)
	bw.write(uint64(h-1), 14)
	bw.write(0, 1) // alpha not used
	bw.write(0, 3) // version
	bw.write(0, 1) // no transform
	bw.write(0, 1) // no color cache
	bw.write(0, 1) // no meta prefix codes
	two := func(a, b uint8) {
		bw.write(1, 1) // simple code
		bw.write(1, 1) // two symbols
		bw.write(1, 1) // first symbol has 8 bits
		bw.write(uint64(a), 8)
		bw.write(uint64(b), 8)
	}
	two(vp8lColors[1][0], vp8lColors[1][1]) // green
	two(vp8lColors[0][0], vp8lColors[0][1]) // red
	two(vp8lColors[2][0], vp8lColors[2][1]) // blue
	bw.write(1, 1)                          // alpha: simple code,
	bw.write(0, 1)                          // one symbol,
	bw.write(1, 1)                          // of 8 bits:
	bw.write(255, 8)                        // 255
	bw.write(1, 1)                          // distance: simple code,
	bw.write(0, 1)                          // one symbol,
	bw.write(0, 1)                          // of 1 bit:
	bw.write(0, 1)                          // 0
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := rng.Uint32()
			g, r, b := v&1, v>>1&1, v>>2&1
			if (x/8+y/8)%2 == 0 { // a checkerboard under the noise
				r = 1
			}
			bw.write(uint64(g), 1)
			bw.write(uint64(r), 1)
			bw.write(uint64(b), 1)
			img.SetNRGBA(x, y, color.NRGBA{vp8lColors[0][r], vp8lColors[1][g], vp8lColors[2][b], 255})
		}
	}
	return bw.bytes(), img
}

// tinyICC returns a valid ICC v2 RGB display profile (sRGB primaries, gamma
// 2.2); pad adds a private tag of that many bytes, to make a profile that
// must be split over several JPEG APP2 segments.
func tinyICC(pad int) []byte {
	be := binary.BigEndian
	xyz := func(x, y, z float64) []byte {
		b := append([]byte("XYZ "), 0, 0, 0, 0)
		for _, v := range []float64{x, y, z} {
			b = be.AppendUint32(b, uint32(int32(v*65536)))
		}
		return b
	}
	curv := append([]byte("curv"), 0, 0, 0, 0, 0, 0, 0, 1, 0x02, 0x33, 0, 0)
	desc := func(s string) []byte {
		b := append([]byte("desc"), 0, 0, 0, 0)
		b = be.AppendUint32(b, uint32(len(s)+1))
		b = append(append(b, s...), 0)
		b = append(b, make([]byte, 4+4+2+1+67)...)
		return b
	}
	type tag struct {
		sig  string
		data []byte
	}
	tags := []tag{
		{"desc", desc("Upshot test RGB")},
		{"cprt", append([]byte("text\x00\x00\x00\x00"), "No copyright\x00"...)},
		{"wtpt", xyz(0.9642, 1.0, 0.8249)},
		{"rXYZ", xyz(0.4361, 0.2225, 0.0139)},
		{"gXYZ", xyz(0.3851, 0.7169, 0.0971)},
		{"bXYZ", xyz(0.1431, 0.0606, 0.7141)},
		{"rTRC", curv},
		{"gTRC", curv},
		{"bTRC", curv},
	}
	if pad > 0 {
		data := append([]byte("zzzz\x00\x00\x00\x00"), make([]byte, pad)...)
		for i := 8; i < len(data); i++ {
			data[i] = byte(i * 7)
		}
		tags = append(tags, tag{"zzzz", data})
	}
	table := be.AppendUint32(nil, uint32(len(tags)))
	off := 128 + 4 + 12*len(tags)
	var body []byte
	for _, t := range tags {
		for (off+len(body))%4 != 0 {
			body = append(body, 0)
		}
		table = append(table, t.sig...)
		table = be.AppendUint32(table, uint32(off+len(body)))
		table = be.AppendUint32(table, uint32(len(t.data)))
		body = append(body, t.data...)
	}
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	h := make([]byte, 128)
	be.PutUint32(h[0:], uint32(128+len(table)+len(body)))
	be.PutUint32(h[8:], 0x02100000)
	copy(h[12:], "mntrRGB XYZ ")
	for i, v := range []uint16{2024, 1, 1, 0, 0, 0} {
		be.PutUint16(h[24+2*i:], v)
	}
	copy(h[36:], "acsp")
	copy(h[68:], []byte{0, 0, 0xF6, 0xD6, 0, 1, 0, 0, 0, 0, 0xD3, 0x2D})
	return concat(h, table, body)
}

// requireExiftool skips the test when exiftool is missing, unless
// UPSHOT_REQUIRE_EXIFTOOL is set, as in CI, where it fails.
func requireExiftool(tb testing.TB) {
	tb.Helper()
	requireTool(tb, "exiftool", "libimage-exiftool-perl")
}

func requireTool(tb testing.TB, name, pkg string) {
	tb.Helper()
	if _, err := exec.LookPath(name); err == nil {
		return
	}
	if os.Getenv("UPSHOT_REQUIRE_EXIFTOOL") != "" {
		tb.Fatalf("%s is not on PATH and UPSHOT_REQUIRE_EXIFTOOL is set: install it with `apt-get install -y %s`", name, pkg)
	}
	tb.Skipf("%s is not on PATH: install it with `apt-get install -y %s`, or set UPSHOT_REQUIRE_EXIFTOOL=1 to fail instead of skipping", name, pkg)
}

// runTool runs a command and returns its standard output.
func runTool(tb testing.TB, name string, args ...string) []byte {
	tb.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return out
}

// pixelsDiffer reports where two images first differ, or "" when they have
// the same bounds and pixels.
func pixelsDiffer(a, b image.Image) string {
	if a.Bounds() != b.Bounds() {
		return "bounds " + a.Bounds().String() + " and " + b.Bounds().String()
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ar, ag, ab, aa := a.At(x, y).RGBA()
			br, bg, bb, ba := b.At(x, y).RGBA()
			if ar != br || ag != bg || ab != bb || aa != ba {
				return "pixel " + image.Pt(x, y).String()
			}
		}
	}
	return ""
}
