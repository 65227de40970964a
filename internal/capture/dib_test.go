package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/png"
	"testing"
)

// dibHeader builds a DIB header of size hsize (40, 108 or 124) with the
// masks (red, green, blue, alpha) in it for V4 and V5 headers.
func dibHeader(hsize, w, h, bpp int, compression uint32, masks [4]uint32) []byte {
	b := make([]byte, hsize)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(hsize))
	le.PutUint32(b[4:], uint32(int32(w)))
	le.PutUint32(b[8:], uint32(int32(h)))
	le.PutUint16(b[12:], 1)
	le.PutUint16(b[14:], uint16(bpp))
	le.PutUint32(b[16:], compression)
	if hsize > 40 {
		for i, m := range masks {
			le.PutUint32(b[40+4*i:], m)
		}
		copy(b[56:], "BGRs") // LCS_sRGB, little-endian
	}
	return b
}

// rows lays out pixel bytes (pix[y] for each row, top first) bottom-up or
// top-down with each row padded to 4 bytes.
func rows(pix [][]byte, topDown bool) []byte {
	var out []byte
	for i := range pix {
		r := pix[len(pix)-1-i]
		if topDown {
			r = pix[i]
		}
		out = append(out, r...)
		for len(r)%4 != 0 {
			r = append(r, 0xEE)
			out = append(out, 0xEE)
		}
	}
	return out
}

// The 3×2 picture the tests encode, top row first.
var dibWant = [2][3]color.NRGBA{
	{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}},
	{{255, 255, 255, 255}, {0, 0, 0, 255}, {18, 52, 86, 255}},
}

func checkDIB(t *testing.T, img *image.NRGBA, want [2][3]color.NRGBA) {
	t.Helper()
	if img.Bounds() != image.Rect(0, 0, 3, 2) {
		t.Fatalf("bounds %v, want 3×2", img.Bounds())
	}
	for y := range 2 {
		for x := range 3 {
			if got := img.NRGBAAt(x, y); got != want[y][x] {
				t.Errorf("pixel %d,%d = %v, want %v", x, y, got, want[y][x])
			}
		}
	}
	// And it is a valid PNG.
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeDIB24BottomUp(t *testing.T) {
	// BGR, rows of 9 bytes padded to 12.
	pix := [][]byte{
		{0, 0, 255, 0, 255, 0, 255, 0, 0},
		{255, 255, 255, 0, 0, 0, 86, 52, 18},
	}
	b := append(dibHeader(40, 3, 2, 24, biRGB, [4]uint32{}), rows(pix, false)...)
	img, err := decodeDIB(b)
	if err != nil {
		t.Fatal(err)
	}
	checkDIB(t, img, dibWant)
}

func TestDecodeDIB32TopDownIgnoresFourthByte(t *testing.T) {
	// BGRX with junk in X, as GDI leaves it.
	pix := [][]byte{
		{0, 0, 255, 0, 0, 255, 0, 7, 255, 0, 0, 0},
		{255, 255, 255, 0, 0, 0, 0, 99, 86, 52, 18, 0},
	}
	b := append(dibHeader(40, 3, -2, 32, biRGB, [4]uint32{}), rows(pix, true)...)
	img, err := decodeDIB(b)
	if err != nil {
		t.Fatal(err)
	}
	checkDIB(t, img, dibWant)
}

func TestDecodeDIB32BitfieldsAfterInfoHeader(t *testing.T) {
	// Masks in RGBX order instead of BGRX: red in the lowest byte.
	hdr := dibHeader(40, 3, 2, 32, biBitfields, [4]uint32{})
	for _, m := range []uint32{0x000000ff, 0x0000ff00, 0x00ff0000} {
		hdr = binary.LittleEndian.AppendUint32(hdr, m)
	}
	pix := [][]byte{
		{255, 0, 0, 0, 0, 255, 0, 0, 0, 0, 255, 0},
		{255, 255, 255, 0, 0, 0, 0, 0, 18, 52, 86, 0},
	}
	img, err := decodeDIB(append(hdr, rows(pix, false)...))
	if err != nil {
		t.Fatal(err)
	}
	checkDIB(t, img, dibWant)
}

func TestDecodeDIBV5Alpha(t *testing.T) {
	masks := [4]uint32{0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000}
	pix := [][]byte{
		{0, 0, 255, 255, 0, 255, 0, 128, 255, 0, 0, 0},
		{255, 255, 255, 64, 0, 0, 0, 255, 86, 52, 18, 1},
	}
	want := dibWant
	want[0][1].A, want[0][2].A, want[1][0].A, want[1][2].A = 128, 0, 64, 1
	for _, hsize := range []int{dibV4Header, dibV5Header} {
		img, err := decodeDIB(append(dibHeader(hsize, 3, 2, 32, biBitfields, masks), rows(pix, false)...))
		if err != nil {
			t.Fatal(err)
		}
		checkDIB(t, img, want)
	}
}

func TestDecodeDIBV5AlphaUnsetIsOpaque(t *testing.T) {
	masks := [4]uint32{0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000}
	pix := [][]byte{
		{0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0, 0},
		{255, 255, 255, 0, 0, 0, 0, 0, 86, 52, 18, 0},
	}
	hdr := dibHeader(dibV5Header, 3, -2, 32, biBitfields, masks)
	img, err := decodeDIB(append(hdr, rows(pix, true)...))
	if err != nil {
		t.Fatal(err)
	}
	checkDIB(t, img, dibWant)
}

func TestDecodeDIBV5MasksRepeatedAfterHeader(t *testing.T) {
	masks := [4]uint32{0x00ff0000, 0x0000ff00, 0x000000ff, 0}
	hdr := dibHeader(dibV5Header, 3, 2, 32, biBitfields, masks)
	for _, m := range masks[:3] {
		hdr = binary.LittleEndian.AppendUint32(hdr, m)
	}
	pix := [][]byte{
		{0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0, 0},
		{255, 255, 255, 0, 0, 0, 0, 0, 86, 52, 18, 0},
	}
	img, err := decodeDIB(append(hdr, rows(pix, false)...))
	if err != nil {
		t.Fatal(err)
	}
	checkDIB(t, img, dibWant)
}

func TestDecodeDIB16(t *testing.T) {
	// 5-6-5 bit fields; the odd colour is r=16/31, g=0, b=31/31.
	hdr := dibHeader(40, 3, 2, 16, biBitfields, [4]uint32{})
	for _, m := range []uint32{0xf800, 0x07e0, 0x001f} {
		hdr = binary.LittleEndian.AppendUint32(hdr, m)
	}
	px := func(v uint16) []byte { return []byte{byte(v), byte(v >> 8)} }
	pix := [][]byte{
		append(append(px(0xf800), px(0x07e0)...), px(0x001f)...),
		append(append(px(0xffff), px(0x0000)...), px(16<<11|0x1f)...),
	}
	want := dibWant
	want[1][2] = color.NRGBA{132, 0, 255, 255}
	img, err := decodeDIB(append(hdr, rows(pix, false)...))
	if err != nil {
		t.Fatal(err)
	}
	checkDIB(t, img, want)
}

func TestDecodeDIBRejects(t *testing.T) {
	good := append(dibHeader(40, 3, 2, 24, biRGB, [4]uint32{}), make([]byte, 24)...)
	if _, err := decodeDIB(good); err != nil {
		t.Fatalf("the baseline fails: %v", err)
	}
	cases := map[string][]byte{
		"empty":            nil,
		"short pixels":     good[:len(good)-1],
		"unknown header":   append(dibHeader(40, 3, 2, 24, biRGB, [4]uint32{}), 0)[1:],
		"8 bits":           append(dibHeader(40, 3, 2, 8, biRGB, [4]uint32{}), make([]byte, 1024+8)...),
		"24-bit fields":    append(dibHeader(40, 3, 2, 24, biBitfields, [4]uint32{}), make([]byte, 36)...),
		"RLE":              append(dibHeader(40, 3, 2, 24, 1, [4]uint32{}), make([]byte, 24)...),
		"zero width":       dibHeader(40, 0, 2, 24, biRGB, [4]uint32{}),
		"huge":             dibHeader(40, 1<<20, 1<<20, 32, biRGB, [4]uint32{}),
		"missing bitfield": dibHeader(40, 3, 2, 32, biBitfields, [4]uint32{}),
	}
	for name, b := range cases {
		if img, err := decodeDIB(b); !errors.Is(err, errDIB) {
			t.Errorf("%s: %v, %v; want an errDIB", name, img != nil, err)
		}
	}
}
