package metastrip

import (
	"bytes"
	"io"
	"testing"
)

// TestCleanAgreesWithStrip: Clean says "clean" only where Strip changes
// nothing, and says so for a PNG as an encoder writes it.
func TestCleanAgreesWithStrip(t *testing.T) {
	plain := encodePNG(t, testPicture(64, 48, 4))
	cases := []struct {
		name  string
		file  []byte
		clean bool
	}{
		{"plain PNG", plain, true},
		{"tEXt", insertPNGChunks(plain, pngChunk("tEXt", []byte("Author\x00someone"))), false},
		{"eXIf", insertPNGChunks(plain, pngChunk("eXIf", exifTIFF(1))), false},
		{"tIME", insertPNGChunks(plain, pngChunk("tIME", make([]byte, 7))), false},
		{"bytes after IEND", append(bytes.Clone(plain), "trailer"...), false},
		{"truncated", plain[:len(plain)-13], false},
		{"length past the end", insertPNGChunks(plain, []byte("\x7f\xff\xff\xf0abcd")), false},
		{"JPEG", encodeJPEG(t, testPicture(16, 16, 1), 90), false},
		{"empty", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Clean(bytes.NewReader(c.file)); got != c.clean {
				t.Fatalf("Clean = %v, want %v", got, c.clean)
			}
			if !c.clean {
				return
			}
			res, err := Strip(io.Discard, bytes.NewReader(c.file))
			if err != nil || res.Changed {
				t.Fatalf("Clean said clean, but Strip: changed %v, %v", res.Changed, err)
			}
		})
	}
}
