package metastrip

import (
	"bytes"
	"io"
	"testing"
)

// bigPhoto returns a ~5 MB JPEG (3200×2200, quality 95, gradients and
// noise) with JFIF, Exif (GPS, orientation 6), XMP, IPTC, a comment and an
// ICC profile, as a phone photo has.
func bigPhoto(tb testing.TB) []byte {
	j := withJFIF(encodeJPEG(tb, testPicture(3200, 2200, 21), 95))
	return concat(j[:20], exifSegment(6), xmpSegment, iccSegments(tinyICC(0), 65519), iptcSegment, comSegment, j[20:])
}

// BenchmarkStripJPEG strips a ~5 MB photo from memory to io.Discard. The
// target is under 15 ms per file.
func BenchmarkStripJPEG(b *testing.B) {
	in := bigPhoto(b)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := Strip(io.Discard, bytes.NewReader(in))
		if err != nil || res.KeptOrientation != 6 {
			b.Fatal(res, err)
		}
	}
	b.ReportMetric(float64(len(in))/1e6, "MB/file")
}
