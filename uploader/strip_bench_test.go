package uploader

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// photo5MB writes a ~5 MB JPEG carrying an Exif segment with GPS tags, the
// case privacy stripping is for.
func photo5MB(b *testing.B) string {
	b.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 3000, 2000))
	r := rand.New(rand.NewPCG(1, 2))
	for y := range 2000 {
		for x := range 3000 {
			img.Set(x, y, color.RGBA{uint8(x + r.IntN(64)), uint8(y + r.IntN(64)), uint8(r.IntN(256)), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 92}); err != nil {
		b.Fatal(err)
	}
	// Exif with an IFD0 holding a GPS IFD pointer, as a phone writes it.
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08\x00\x01\x88\x25\x00\x04\x00\x00\x00\x01\x00\x00\x00\x1a\x00\x00\x00\x00" +
		"\x00\x01\x00\x02\x00\x02\x00\x00\x00\x02N\x00\x00\x00\x00\x00\x00")
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	out := append(append(append([]byte{0xFF, 0xD8}, seg...), payload...), buf.Bytes()[2:]...)
	p := filepath.Join(b.TempDir(), "photo.jpg")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkPrepare5MBJPEG measures Prepare (read, hash, sniff) of a 5 MB
// photo with and without metadata stripping; the difference is what
// stripping adds to an upload.
func BenchmarkPrepare5MBJPEG(b *testing.B) {
	path := photo5MB(b)
	fi, _ := os.Stat(path)
	cfg := &Config{Target: Target{Endpoint: "http://127.0.0.1:9", Bucket: "bench", KeyID: "k", Key: NewSecret("s")}}
	cfg.SetDefaults()
	up, err := New(cfg, Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, strip := range []bool{false, true} {
		name := map[bool]string{false: "keep", true: "strip"}[strip]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(fi.Size())
			for b.Loop() {
				p, err := up.Prepare(b.Context(), Request{Path: path, StripMetadata: strip})
				if err != nil {
					b.Fatal(err)
				}
				if strip && len(p.Stripped()) == 0 {
					b.Fatal("nothing was stripped")
				}
				p.Close()
			}
		})
	}
}
