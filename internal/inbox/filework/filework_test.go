package filework

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"upshot/internal/metastrip"
	"upshot/internal/metastrip/imagetest"
)

// gpsJPEG returns a JPEG whose APP1 Exif holds a GPS position, followed by
// extra segments, as a phone's camera writes it.
func gpsJPEG(tb testing.TB, seed uint64, extra ...[]byte) []byte {
	return imagetest.WithGPS(imagetest.EncodeJPEG(tb, imagetest.Picture(96, 64, seed), 85), extra...)
}

// textPNG returns a PNG with a tEXt chunk right after IHDR.
func textPNG(tb testing.TB) []byte {
	p := imagetest.EncodePNG(tb, imagetest.Picture(40, 30, 5))
	ihdrEnd := 8 + 12 + int(binary.BigEndian.Uint32(p[8:]))
	return slices.Concat(p[:ihdrEnd], imagetest.PNGChunk("tEXt", []byte("Location\x00home")), p[ihdrEnd:])
}

// stripCase is one input and what Strip must make of it. The inputs also
// seed FuzzStrip.
type stripCase struct {
	name    string
	build   func(testing.TB) []byte
	want    Stripped // Bytes is not compared
	wantErr string   // a part of the error message
}

var stripCases = []stripCase{
	{
		name:  "jpeg with GPS Exif",
		build: func(tb testing.TB) []byte { return gpsJPEG(tb, 1) },
		want:  Stripped{Changed: true, Removed: []string{"Exif"}, Format: "jpeg"},
	},
	{
		name: "jpeg with GPS Exif, XMP and a comment",
		build: func(tb testing.TB) []byte {
			xmp := imagetest.JPEGSegment(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta exif:GPSLatitude=\"48,51.4N\"/>"))
			return gpsJPEG(tb, 2, xmp, imagetest.JPEGSegment(0xFE, []byte("shot at home")))
		},
		want: Stripped{Changed: true, Removed: []string{"Exif", "XMP", "Comment"}, Format: "jpeg"},
	},
	{
		name:  "jpeg without metadata",
		build: func(tb testing.TB) []byte { return imagetest.EncodeJPEG(tb, imagetest.Picture(32, 32, 3), 85) },
		want:  Stripped{Format: "jpeg"},
	},
	{
		name:  "png with a text chunk",
		build: textPNG,
		want:  Stripped{Changed: true, Removed: []string{"tEXt"}, Format: "png"},
	},
	{
		name:  "png without metadata",
		build: func(tb testing.TB) []byte { return imagetest.EncodePNG(tb, imagetest.Picture(20, 20, 4)) },
		want:  Stripped{Format: "png"},
	},
	{
		name: "a video",
		build: func(testing.TB) []byte {
			return []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom\x00\x00\x00\x08free")
		},
		want: Stripped{},
	},
	{
		name:  "empty",
		build: func(testing.TB) []byte { return nil },
		want:  Stripped{},
	},
	{
		name: "truncated jpeg",
		build: func(tb testing.TB) []byte {
			j := gpsJPEG(tb, 6)
			return j[:len(j)/3]
		},
		wantErr: "looks damaged or cut short",
	},
	{
		name: "png with a bad CRC",
		build: func(tb testing.TB) []byte {
			p := textPNG(tb)
			p[len(p)-20] ^= 0xFF // inside the last IDAT or its CRC
			return p
		},
		wantErr: "this PNG image looks damaged",
	},
}

func TestStrip(t *testing.T) {
	for _, tc := range stripCases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.build(t)
			orig := bytes.Clone(in)
			got, err := Strip(in)
			if !bytes.Equal(in, orig) {
				t.Fatal("Strip modified its input")
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Strip: error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Strip: %v", err)
			}
			if got.Changed != tc.want.Changed || got.Format != tc.want.Format || !slices.Equal(got.Removed, tc.want.Removed) {
				t.Errorf("Strip = {Changed:%v Format:%q Removed:%q}, want {Changed:%v Format:%q Removed:%q}",
					got.Changed, got.Format, got.Removed, tc.want.Changed, tc.want.Format, tc.want.Removed)
			}
			if !got.Changed && !bytes.Equal(got.Bytes, in) {
				t.Errorf("unchanged output differs from the input")
			}
			// The same bytes as the desktop's own stripper.
			var desk bytes.Buffer
			if _, err := metastrip.Strip(&desk, bytes.NewReader(in)); err != nil {
				t.Fatalf("metastrip.Strip: %v", err)
			}
			if !bytes.Equal(got.Bytes, desk.Bytes()) {
				t.Errorf("Strip gave %d bytes, metastrip.Strip %d different ones", len(got.Bytes), desk.Len())
			}
			if bytes.Contains(in, imagetest.GPSLatitude) && bytes.Contains(got.Bytes, imagetest.GPSLatitude) {
				t.Errorf("the GPS latitude is still in the output")
			}
			if got.Format == "jpeg" {
				before, err1 := jpeg.Decode(bytes.NewReader(in))
				after, err2 := jpeg.Decode(bytes.NewReader(got.Bytes))
				if err1 != nil || err2 != nil {
					t.Fatalf("decoding before and after: %v, %v", err1, err2)
				}
				if !samePixels(before, after) {
					t.Errorf("the pixels changed")
				}
			}
		})
	}
}

func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}

// TestStripExiftool checks with exiftool, as a reader of photos, that the
// test JPEG carries a GPS position and that the stripped one carries none.
func TestStripExiftool(t *testing.T) {
	if _, err := exec.LookPath("exiftool"); err != nil {
		if os.Getenv("UPSHOT_REQUIRE_EXIFTOOL") != "" {
			t.Fatal("exiftool is not on PATH and UPSHOT_REQUIRE_EXIFTOOL is set: run scripts/deps.sh test")
		}
		t.Skip("exiftool is not on PATH: run scripts/deps.sh test, or set UPSHOT_REQUIRE_EXIFTOOL=1 to fail instead")
	}
	in := gpsJPEG(t, 7)
	got, err := Strip(in)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tags := func(data []byte, name string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.CommandContext(t.Context(), "exiftool", "-s", "-GPS:all", "-Make", "-Model", path).CombinedOutput()
		if err != nil {
			t.Fatalf("exiftool %s: %v\n%s", name, err, out)
		}
		return string(out)
	}
	if before := tags(in, "in.jpg"); !strings.Contains(before, "GPSLatitude") || !strings.Contains(before, "iPhone 15") {
		t.Fatalf("the test photo has no GPS position or camera to remove; exiftool says:\n%s", before)
	}
	if after := tags(got.Bytes, "out.jpg"); strings.TrimSpace(after) != "" {
		t.Errorf("exiftool still finds in the stripped photo:\n%s", after)
	}
}

// FuzzStrip checks that Strip never panics, agrees with the desktop's
// stripper, returns other formats unchanged and that a stripped file has
// nothing more to strip.
func FuzzStrip(f *testing.F) {
	for _, tc := range stripCases {
		f.Add(tc.build(f))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := Strip(in)
		var desk bytes.Buffer
		_, deskErr := metastrip.Strip(&desk, bytes.NewReader(in))
		if (err != nil) != (deskErr != nil) {
			t.Fatalf("Strip: %v; metastrip.Strip: %v", err, deskErr)
		}
		if err != nil {
			return
		}
		if !bytes.Equal(got.Bytes, desk.Bytes()) {
			t.Fatalf("Strip and metastrip.Strip disagree")
		}
		if got.Format == "" && !bytes.Equal(got.Bytes, in) {
			t.Fatalf("a file of another format was changed")
		}
		again, err := Strip(got.Bytes)
		if err != nil || again.Changed {
			t.Fatalf("stripping a stripped file: changed %v, %v", again.Changed, err)
		}
	})
}

// testData returns n pseudo-random bytes.
func testData(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 11))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func stdSums(data []byte) (string, string) {
	s, m := sha1.Sum(data), md5.Sum(data)
	return hex.EncodeToString(s[:]), hex.EncodeToString(m[:])
}

// hashCase is data fed to a Hasher in slices of the given sizes, cycled.
type hashCase struct {
	name  string
	size  int
	slice []int
}

var hashCases = []hashCase{
	{"empty", 0, []int{1}},
	{"one byte", 1, []int{1}},
	{"a block and one", 65, []int{1, 63, 1}},
	{"bytes one by one", 1000, []int{1}},
	{"uneven slices", 100_003, []int{7, 4096, 1, 65536, 333}},
	{"4 MiB slices, a short last one", 9<<20 + 3, []int{4 << 20}},
	{"slices larger than the file", 5000, []int{1 << 20}},
}

func TestHasher(t *testing.T) {
	for i, tc := range hashCases {
		t.Run(tc.name, func(t *testing.T) {
			data := testData(tc.size, uint64(i))
			wantSHA1, wantMD5 := stdSums(data)
			sliced := hashSliced(data, tc.slice)
			whole := NewHasher()
			whole.Update(data)
			for what, h := range map[string]*Hasher{"in slices": sliced, "in one pass": whole} {
				if s, m := h.Sum(); s != wantSHA1 || m != wantMD5 {
					t.Errorf("%s: Sum = %s %s, want %s %s", what, s, m, wantSHA1, wantMD5)
				}
			}
		})
	}
}

// hashSliced feeds data to a new Hasher in slices of the given sizes,
// cycled, alternating Write and Update.
func hashSliced(data []byte, sizes []int) *Hasher {
	h := NewHasher()
	for i, off := 0, 0; off < len(data); i++ {
		end := min(off+max(sizes[i%len(sizes)], 1), len(data))
		if i%2 == 0 {
			h.Write(data[off:end])
		} else {
			h.Update(data[off:end])
		}
		off = end
	}
	return h
}

func TestHasherZeroAndSumMidway(t *testing.T) {
	data := testData(10_000, 99)
	var h Hasher // the zero Hasher is ready to use
	h.Update(data[:4000])
	if s, m := h.Sum(); s+m != join(stdSums(data[:4000])) {
		t.Errorf("Sum after 4000 bytes = %s %s, want the sums of those bytes", s, m)
	}
	h.Update(data[4000:])
	if s, m := h.Sum(); s+m != join(stdSums(data)) {
		t.Errorf("Sum after all bytes = %s %s, want the sums of the whole data", s, m)
	}
	var empty Hasher
	if s, m := empty.Sum(); s != "da39a3ee5e6b4b0d3255bfef95601890afd80709" || m != "d41d8cd98f00b204e9800998ecf8427e" {
		t.Errorf("the zero Hasher sums to %s %s, want the sums of nothing", s, m)
	}
}

func join(a, b string) string { return a + b }

// FuzzHasher checks that any slicing gives the sums of crypto/sha1 and
// crypto/md5.
func FuzzHasher(f *testing.F) {
	for i, tc := range hashCases {
		if tc.size <= 1<<20 {
			f.Add(testData(tc.size, uint64(i)), uint16(tc.slice[0]), uint16(tc.slice[len(tc.slice)-1]))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, a, b uint16) {
		s, m := hashSliced(data, []int{int(a), int(b)}).Sum()
		if s+m != join(stdSums(data)) {
			t.Fatalf("sliced by %d and %d: %s %s, want %s", a, b, s, m, join(stdSums(data)))
		}
	})
}
