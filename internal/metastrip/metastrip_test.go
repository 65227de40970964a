package metastrip

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"io"
	"runtime"
	"slices"
	"testing"
)

// iccSegments splits an ICC profile into APP2 segments of at most chunk
// bytes of profile each.
func iccSegments(icc []byte, chunk int) []byte {
	n := (len(icc) + chunk - 1) / chunk
	var out []byte
	for i := range n {
		part := icc[i*chunk : min((i+1)*chunk, len(icc))]
		out = append(out, jpegSegment(0xE2, concat(idICC, []byte{byte(i + 1), byte(n)}, part))...)
	}
	return out
}

// jpegWithHeader puts segments between SOI (and the JFIF APP0, if any) and
// the rest of a Go-encoded JPEG.
func jpegWithHeader(tb testing.TB, jfif bool, segs ...[]byte) []byte {
	j := encodeJPEG(tb, testPicture(64, 48, 1), 85)
	if jfif {
		j = withJFIF(j)
		return concat(j[:20], concat(segs...), j[20:])
	}
	return concat(j[:2], concat(segs...), j[2:])
}

func exifSegment(o int) []byte { return jpegSegment(0xE1, concat(exifHeader, exifTIFF(o))) }

var (
	xmpSegment  = jpegSegment(0xE1, concat(idXMP, []byte(`<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="48,51.4N"/></rdf:RDF></x:xmpmeta>`)))
	iptcSegment = jpegSegment(0xED, []byte("Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x0a\x1c\x02\x19\x00\x06secret"))
	comSegment  = jpegSegment(0xFE, []byte("shot at home"))
)

// stripCase is one input and what Strip must make of it. The inputs are
// made in Go, so they also seed FuzzStrip.
type stripCase struct {
	name    string
	build   func(testing.TB) []byte
	want    Result
	wantErr bool
	check   func(t *testing.T, in, out []byte) // optional extra checks
}

var stripCases = []stripCase{
	{
		name:  "jpeg without metadata",
		build: func(tb testing.TB) []byte { return encodeJPEG(tb, testPicture(64, 48, 1), 85) },
		want:  Result{Format: "jpeg"},
	},
	{
		name:  "jpeg with JFIF and ICC only",
		build: func(tb testing.TB) []byte { return jpegWithHeader(tb, true, iccSegments(tinyICC(0), 100)) },
		want:  Result{Format: "jpeg"},
	},
	{
		name: "jpeg with everything, orientation 6",
		build: func(tb testing.TB) []byte {
			return jpegWithHeader(tb, true, exifSegment(6), xmpSegment, iccSegments(tinyICC(0), 65519), iptcSegment, comSegment)
		},
		want: Result{Format: "jpeg", Changed: true, Removed: []string{"Exif", "XMP", "IPTC", "Comment"}, KeptOrientation: 6},
		check: func(t *testing.T, in, out []byte) {
			h := jpegHeader(t, out)
			if h[0].marker != 0xE0 || h[1].marker != 0xE1 || !bytes.Equal(h[1].payload, minimalExifSegment(6)[4:]) {
				t.Errorf("output does not start with JFIF then the minimal Exif: %v", markers(h))
			}
		},
	},
	{
		name: "jpeg with Exif after the ICC profile, orientation 8",
		build: func(tb testing.TB) []byte {
			return jpegWithHeader(tb, true, iccSegments(tinyICC(70000), 65519), jpegSegment(0xEE, []byte("Adobe\x00\x64\x00\x00\x00\x00\x01")), exifSegment(8))
		},
		want: Result{Format: "jpeg", Changed: true, Removed: []string{"Exif"}, KeptOrientation: 8},
		check: func(t *testing.T, in, out []byte) {
			h := jpegHeader(t, out)
			if got := markers(h)[:5]; !slices.Equal(got, []byte{0xE0, 0xE1, 0xE2, 0xE2, 0xEE}) {
				t.Errorf("header markers % X, want JFIF, Exif, ICC, ICC, Adobe first", got)
			}
			in2 := jpegHeader(t, in)
			if !bytes.Equal(h[2].payload, in2[1].payload) || !bytes.Equal(h[3].payload, in2[2].payload) {
				t.Error("the ICC segments changed")
			}
		},
	},
	{
		name:  "jpeg with Exif without orientation",
		build: func(tb testing.TB) []byte { return jpegWithHeader(tb, false, exifSegment(0), comSegment) },
		want:  Result{Format: "jpeg", Changed: true, Removed: []string{"Exif", "Comment"}},
		check: noAPP1,
	},
	{
		name:  "jpeg with orientation 1",
		build: func(tb testing.TB) []byte { return jpegWithHeader(tb, true, exifSegment(1)) },
		want:  Result{Format: "jpeg", Changed: true, Removed: []string{"Exif"}},
		check: noAPP1,
	},
	{
		name: "jpeg with other APPn, MPF and a trailer",
		build: func(tb testing.TB) []byte {
			j := jpegWithHeader(tb, false,
				jpegSegment(0xE2, concat(idMPF, []byte("MM\x00\x2a\x00\x00\x00\x08"))),
				jpegSegment(0xE3, []byte("META")), jpegSegment(0xEB, []byte("JP\x00\x00jumb")),
				jpegSegment(0xE1, concat(idExtXMP, []byte("0123456789abcdef0123456789abcdef"))))
			return append(j, encodeJPEG(tb, testPicture(8, 8, 2), 50)...) // an MPF "second image"
		},
		want: Result{Format: "jpeg", Changed: true, Removed: []string{"MPF", "APP3", "APP11", "ExtendedXMP", "Trailer"}},
	},
	{
		name:  "jpeg already stripped, orientation 3",
		build: func(tb testing.TB) []byte { return jpegWithHeader(tb, true, minimalExifSegment(3)) },
		want:  Result{Format: "jpeg", KeptOrientation: 3},
	},
	{
		name: "jpeg progressive-like: a comment between scans",
		build: func(tb testing.TB) []byte {
			j := encodeJPEG(tb, testPicture(64, 48, 3), 85)
			eoi := len(j) - 2
			// Repeat the last DHT+SOS+scan as a second scan after a COM.
			h := jpegHeader(tb, j)
			sos := bytes.Index(j, concat([]byte{0xFF, 0xDA}, []byte{0, byte(len(h[len(h)-1].payload) + 2)}))
			return concat(j[:eoi], comSegment, j[sos:eoi], []byte{0xFF, 0xD9})
		},
		want: Result{Format: "jpeg", Changed: true, Removed: []string{"Comment"}},
	},
	{
		name:    "jpeg truncated in the scan",
		build:   func(tb testing.TB) []byte { j := jpegWithHeader(tb, true, exifSegment(6)); return j[:len(j)-100] },
		want:    Result{Format: "jpeg"},
		wantErr: true,
	},
	{
		name:    "jpeg truncated in a segment",
		build:   func(tb testing.TB) []byte { return jpegWithHeader(tb, true, exifSegment(6))[:60] },
		want:    Result{Format: "jpeg"},
		wantErr: true,
	},
	{
		name:    "jpeg with garbage between segments",
		build:   func(tb testing.TB) []byte { return jpegWithHeader(tb, true, []byte("junk")) },
		want:    Result{Format: "jpeg"},
		wantErr: true,
	},
	{
		name:  "png without metadata",
		build: func(tb testing.TB) []byte { return encodePNG(tb, testPicture(64, 48, 4)) },
		want:  Result{Format: "png"},
	},
	{
		name: "png with text, time, eXIf and colour chunks",
		build: func(tb testing.TB) []byte {
			return insertPNGChunks(encodePNG(tb, testPicture(64, 48, 4)),
				pngChunk("gAMA", []byte{0, 0, 0xB1, 0x8F}),
				pngChunk("sRGB", []byte{0}),
				pngChunk("pHYs", []byte{0, 0, 0x0B, 0x13, 0, 0, 0x0B, 0x13, 1}),
				pngChunk("tEXt", []byte("Comment\x00shot at home")),
				pngChunk("zTXt", []byte("Raw profile type exif\x00\x00x\x9c\x03\x00\x00\x00\x00\x01")),
				pngChunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00<x:xmpmeta/>")),
				pngChunk("tIME", []byte{0x07, 0xE8, 5, 6, 7, 8, 9}),
				pngChunk("eXIf", exifTIFF(5)))
		},
		want: Result{Format: "png", Changed: true, Removed: []string{"tEXt", "zTXt", "iTXt", "tIME", "eXIf"}, KeptOrientation: 5},
		check: func(t *testing.T, in, out []byte) {
			var want []chunk
			for _, c := range pngChunks(t, in) {
				switch {
				case c.typ == "eXIf":
					want = append(want, chunk{"eXIf", minimalEXIfChunk(5)})
				case !pngDropped[c.typ]:
					want = append(want, c)
				}
			}
			if got := pngChunks(t, out); !slices.EqualFunc(got, want, func(a, b chunk) bool { return bytes.Equal(a.raw, b.raw) }) {
				t.Errorf("chunks %v, want %v", got, want)
			}
		},
	},
	{
		name: "png with eXIf without orientation and a trailer",
		build: func(tb testing.TB) []byte {
			return append(insertPNGChunks(encodePNG(tb, testPicture(64, 48, 4)), pngChunk("eXIf", exifTIFF(0))), "PK\x03\x04zip"...)
		},
		want: Result{Format: "png", Changed: true, Removed: []string{"eXIf", "Trailer"}},
	},
	{
		name:    "png truncated",
		build:   func(tb testing.TB) []byte { p := encodePNG(tb, testPicture(64, 48, 4)); return p[:len(p)-13] },
		want:    Result{Format: "png"},
		wantErr: true,
	},
	{
		name: "png with a bad CRC",
		build: func(tb testing.TB) []byte {
			p := encodePNG(tb, testPicture(64, 48, 4))
			p[len(p)-20] ^= 1 // in the last IDAT
			return p
		},
		want:    Result{Format: "png"},
		wantErr: true,
	},
	{
		name:  "webp lossless without metadata",
		build: func(tb testing.TB) []byte { v, _ := vp8lImage(64, 48, 5); return webpFile(webpChunk("VP8L", v)) },
		want:  Result{Format: "webp"},
	},
	{
		name: "webp with ICC, EXIF and XMP, orientation 7",
		build: func(tb testing.TB) []byte {
			v, _ := vp8lImage(64, 48, 5)
			return webpFile(webpChunk("VP8X", []byte{0x2C, 0, 0, 0, 63, 0, 0, 47, 0, 0}),
				webpChunk("ICCP", tinyICC(0)), webpChunk("VP8L", v),
				webpChunk("EXIF", exifTIFF(7)), webpChunk("XMP ", []byte("<x:xmpmeta/>!")))
		},
		want: Result{Format: "webp", Changed: true, Removed: []string{"EXIF", "XMP"}, KeptOrientation: 7},
		check: func(t *testing.T, in, out []byte) {
			ci, co := webpChunks(t, in), webpChunks(t, out)
			if len(co) != 4 || co[0].raw[8] != 0x28 || !bytes.Equal(co[1].raw, ci[1].raw) || !bytes.Equal(co[2].raw, ci[2].raw) || !bytes.Equal(co[3].raw, minimalEXIFChunk(7)) {
				t.Errorf("chunks %v, want VP8X with flags 0x28, ICCP and VP8L unchanged, minimal EXIF", co)
			}
		},
	},
	{
		name: "webp with EXIF without orientation and a trailer",
		build: func(tb testing.TB) []byte {
			v, _ := vp8lImage(64, 48, 5)
			return append(webpFile(webpChunk("VP8X", []byte{0x0C, 0, 0, 0, 63, 0, 0, 47, 0, 0}),
				webpChunk("VP8L", v), webpChunk("EXIF", exifTIFF(0)), webpChunk("XMP ", []byte("x"))), "junk"...)
		},
		want: Result{Format: "webp", Changed: true, Removed: []string{"EXIF", "XMP", "Trailer"}},
		check: func(t *testing.T, in, out []byte) {
			if co := webpChunks(t, out); len(co) != 2 || co[0].raw[8] != 0 {
				t.Errorf("chunks %v, want VP8X with no flags and VP8L", co)
			}
		},
	},
	{
		name:    "webp truncated",
		build:   func(tb testing.TB) []byte { v, _ := vp8lImage(64, 48, 5); return webpFile(webpChunk("VP8L", v))[:200] },
		want:    Result{Format: "webp"},
		wantErr: true,
	},
	{
		name: "webp with a chunk past the RIFF end",
		build: func(tb testing.TB) []byte {
			w := webpFile(webpChunk("VP8L", []byte("0123456789")))
			binary.LittleEndian.PutUint32(w[16:], 1000)
			return w
		},
		want:    Result{Format: "webp"},
		wantErr: true,
	},
	{
		name:  "text file",
		build: func(testing.TB) []byte { return []byte("GPS 48.85N 2.35E, not an image\n") },
		want:  Result{},
	},
	{
		name:  "gif",
		build: func(testing.TB) []byte { return []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;") },
		want:  Result{},
	},
	{
		name:  "empty",
		build: func(testing.TB) []byte { return nil },
		want:  Result{},
	},
	{
		name:  "riff that is not webp",
		build: func(testing.TB) []byte { return []byte("RIFF\x04\x00\x00\x00WAVE") },
		want:  Result{},
	},
}

func markers(segs []segment) []byte {
	var m []byte
	for _, s := range segs {
		m = append(m, s.marker)
	}
	return m
}

func noAPP1(t *testing.T, _, out []byte) {
	t.Helper()
	if m := markers(jpegHeader(t, out)); slices.Contains(m, 0xE1) {
		t.Errorf("output has an APP1 segment: markers % X", m)
	}
}

// nonSeeker hides Seek, as a pipe or an HTTP body would.
type nonSeeker struct{ io.Reader }

func TestStrip(t *testing.T) {
	for _, tc := range stripCases {
		for _, seek := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/seek=%v", tc.name, seek), func(t *testing.T) {
				in := tc.build(t)
				var src io.Reader = bytes.NewReader(in)
				if !seek {
					src = nonSeeker{src}
				}
				var out bytes.Buffer
				got, err := Strip(&out, src)
				if tc.wantErr {
					if err == nil || !errors.Is(err, ErrCorrupt) {
						t.Fatalf("Strip error = %v, want one wrapping ErrCorrupt", err)
					}
					if got.Format != tc.want.Format {
						t.Errorf("Format = %q, want %q", got.Format, tc.want.Format)
					}
					t.Logf("error: %v", err)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if len(got.Removed) == 0 {
					got.Removed = nil
				}
				if !equalResult(got, tc.want) {
					t.Errorf("Strip = %+v, want %+v", got, tc.want)
				}
				if !got.Changed && !bytes.Equal(out.Bytes(), in) {
					t.Error("Changed is false but the output differs from the input")
				}
				if got.Changed && bytes.Equal(out.Bytes(), in) {
					t.Error("Changed is true but the output is the input")
				}
				if got.Format == "webp" {
					if n := int(binary.LittleEndian.Uint32(out.Bytes()[4:])) + 8; n != out.Len() {
						t.Errorf("output RIFF size says %d bytes, the output has %d", n, out.Len())
					}
				}
				checkPixels(t, in, out.Bytes())
				checkIdempotent(t, out.Bytes())
				if tc.check != nil {
					tc.check(t, in, out.Bytes())
				}
			})
		}
	}
}

func equalResult(a, b Result) bool {
	return a.Format == b.Format && a.Changed == b.Changed && a.KeptOrientation == b.KeptOrientation && slices.Equal(a.Removed, b.Removed)
}

// checkPixels checks that out decodes to the same pixels as in, when in
// decodes (JPEG and PNG), and that WebP image chunks are unchanged.
func checkPixels(t *testing.T, in, out []byte) {
	t.Helper()
	if Detect(in) == "webp" {
		var want, got [][]byte
		for _, c := range webpChunks(t, in) {
			if c.typ == "VP8L" || c.typ == "VP8 " || c.typ == "ALPH" || c.typ == "ICCP" {
				want = append(want, c.raw)
			}
		}
		for _, c := range webpChunks(t, out) {
			if c.typ == "VP8L" || c.typ == "VP8 " || c.typ == "ALPH" || c.typ == "ICCP" {
				got = append(got, c.raw)
			}
		}
		if !slices.EqualFunc(got, want, bytes.Equal) {
			t.Error("the WebP image data or ICC chunks changed")
		}
		return
	}
	a, _, err := image.Decode(bytes.NewReader(in))
	if err != nil {
		return
	}
	b, _, err := image.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("the input decodes, the output does not: %v", err)
	}
	if d := pixelsDiffer(a, b); d != "" {
		t.Errorf("decoded pixels differ: %s", d)
	}
}

// checkIdempotent checks that stripping a stripped file changes nothing.
func checkIdempotent(t *testing.T, out []byte) {
	t.Helper()
	var again bytes.Buffer
	res, err := Strip(&again, bytes.NewReader(out))
	if err != nil || res.Changed || len(res.Removed) > 0 || !bytes.Equal(again.Bytes(), out) {
		t.Errorf("stripping the output again: %+v, %v, same bytes: %v", res, err, bytes.Equal(again.Bytes(), out))
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		head string
		want string
	}{
		{"\xFF\xD8\xFF", "jpeg"},
		{"\xFF\xD8\xFF\xE1\x00\x10Exif", "jpeg"},
		{"\xFF\xD8", ""},
		{"\x89PNG\r\n\x1a\n", "png"},
		{"\x89PNG\r\n", ""},
		{"RIFF\x00\x00\x00\x00WEBPVP8L", "webp"},
		{"RIFF\x00\x00\x00\x00WEB", ""},
		{"RIFF\x00\x00\x00\x00AVI ", ""},
		{"GIF89a", ""},
		{"", ""},
	} {
		if got := Detect([]byte(tc.head)); got != tc.want {
			t.Errorf("Detect(%q) = %q, want %q", tc.head, got, tc.want)
		}
	}
}

// TestTruncatedEverywhere cuts each format at every length: every proper
// prefix of an image must give an ErrCorrupt error, never a silent success.
func TestTruncatedEverywhere(t *testing.T) {
	v, _ := vp8lImage(16, 16, 5)
	for name, full := range map[string][]byte{
		"jpeg": jpegWithHeader(t, true, exifSegment(6), comSegment),
		"png":  insertPNGChunks(encodePNG(t, testPicture(16, 16, 4)), pngChunk("eXIf", exifTIFF(6))),
		"webp": webpFile(webpChunk("VP8X", []byte{0x08, 0, 0, 0, 15, 0, 0, 15, 0, 0}), webpChunk("VP8L", v), webpChunk("EXIF", exifTIFF(6))),
	} {
		for n := 3; n < len(full); n++ {
			if Detect(full[:n]) == "" {
				continue // too short to tell: copied unchanged
			}
			_, err := Strip(io.Discard, bytes.NewReader(full[:n]))
			if !errors.Is(err, ErrCorrupt) || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("%s cut at %d of %d bytes: error %v, want ErrCorrupt and io.ErrUnexpectedEOF", name, n, len(full), err)
			}
		}
	}
}

type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		n := w.n
		w.n = 0
		return n, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteErrors(t *testing.T) {
	v, _ := vp8lImage(300, 300, 5)
	for name, in := range map[string][]byte{
		"jpeg":  jpegWithHeader(t, true, exifSegment(6)),
		"png":   encodePNG(t, testPicture(300, 300, 4)),
		"webp":  webpFile(webpChunk("VP8L", v)),
		"other": bytes.Repeat([]byte("text "), 100000),
	} {
		_, err := Strip(&failingWriter{n: 1000}, bytes.NewReader(in))
		if err == nil || errors.Is(err, ErrCorrupt) || !bytes.Contains([]byte(err.Error()), []byte("disk full")) {
			t.Errorf("%s: error %v, want the write error", name, err)
		}
	}
}

// patternReader yields n pseudo-random bytes without 0xFF, without holding
// them.
type patternReader struct {
	n, i int64
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.i >= p.n {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n-p.i)]
	for k := range b {
		x := uint32(p.i+int64(k)) * 2654435761
		b[k] = byte(x>>24) % 0xFF
	}
	p.i += int64(len(b))
	return len(b), nil
}

// TestStreamingMemory strips a JPEG with 64 MiB of scan data and a PNG with
// one 64 MiB chunk and checks that memory does not follow the file size.
func TestStreamingMemory(t *testing.T) {
	const size = 64 << 20
	j := jpegWithHeader(t, true, exifSegment(6))
	sos := bytes.LastIndex(j, []byte{0xFF, 0xDA})
	sosLen := int(binary.BigEndian.Uint16(j[sos+2:]))
	jpegHead := j[:sos+2+sosLen]

	crc := crc32.NewIEEE()
	crc.Write([]byte("abCd"))
	if _, err := io.Copy(crc, &patternReader{n: size}); err != nil {
		t.Fatal(err)
	}
	p := encodePNG(t, testPicture(8, 8, 1))
	ihdrEnd := 8 + 25
	chunkHead := binary.BigEndian.AppendUint32(nil, size)
	chunkHead = append(chunkHead, "abCd"...)

	for name, mk := range map[string]func() io.Reader{
		"jpeg": func() io.Reader {
			return io.MultiReader(bytes.NewReader(jpegHead), &patternReader{n: size}, bytes.NewReader([]byte{0xFF, 0xD9}))
		},
		"png": func() io.Reader {
			return io.MultiReader(bytes.NewReader(p[:ihdrEnd]), bytes.NewReader(chunkHead), &patternReader{n: size},
				bytes.NewReader(binary.BigEndian.AppendUint32(nil, crc.Sum32())), bytes.NewReader(p[ihdrEnd:]))
		},
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		n := &countingWriter{}
		res, err := Strip(n, mk())
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n.n < size {
			t.Errorf("%s: wrote %d bytes", name, n.n)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2<<20 {
			t.Errorf("%s: allocated %d bytes for a %d-byte file", name, alloc, n.n)
		} else {
			t.Logf("%s: %+v, allocated %d KiB for %d MiB", name, res, alloc>>10, n.n>>20)
		}
	}
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// FuzzStrip checks that Strip never panics, that an output it calls
// unchanged is the input, that a JPEG or PNG input that decodes gives an
// output that decodes to the same size, and that stripping is idempotent.
// The seeds are whole images, so minimizing takes long: fuzz with
//
//	go test -run '^$' -fuzz FuzzStrip -fuzzminimizetime 20x ./internal/metastrip/
func FuzzStrip(f *testing.F) {
	for _, tc := range stripCases {
		f.Add(tc.build(f))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		res, err := Strip(&out, bytes.NewReader(in))
		if err != nil {
			if res.Format == "" || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("format %q: unexpected error %v", res.Format, err)
			}
			return
		}
		if !res.Changed && !bytes.Equal(out.Bytes(), in) {
			t.Fatal("Changed is false but the output differs")
		}
		if res.Format == "" && res.Changed {
			t.Fatal("an unsupported file was changed")
		}
		if res.Format == "jpeg" || res.Format == "png" {
			cfg, _, err := image.DecodeConfig(bytes.NewReader(in))
			if err == nil && cfg.Width*cfg.Height <= 1<<20 {
				if a, _, err := image.Decode(bytes.NewReader(in)); err == nil {
					b, _, err := image.Decode(bytes.NewReader(out.Bytes()))
					if err != nil {
						t.Fatalf("the input decodes, the output does not: %v", err)
					}
					if a.Bounds() != b.Bounds() {
						t.Fatalf("bounds %v became %v", a.Bounds(), b.Bounds())
					}
				}
			}
		}
		var again bytes.Buffer
		res2, err := Strip(&again, bytes.NewReader(out.Bytes()))
		if err != nil || res2.Changed || !bytes.Equal(again.Bytes(), out.Bytes()) || res2.KeptOrientation != res.KeptOrientation {
			t.Fatalf("not idempotent: %+v then %+v, %v", res, res2, err)
		}
	})
}
