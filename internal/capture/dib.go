package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math/bits"
)

// Windows device-independent bitmaps (DIBs), as the clipboard holds them
// (CF_DIB, CF_DIBV5) and GDI's GetDIBits writes them: a BITMAPINFOHEADER
// (40 bytes), BITMAPV4HEADER (108) or BITMAPV5HEADER (124), the colour masks
// after a 40-byte header with BI_BITFIELDS, an optional colour table, then
// the rows, each padded to 4 bytes, bottom-up unless the height is
// negative.

// DIB compressions.
const (
	biRGB            = 0
	biBitfields      = 3
	biAlphaBitfields = 6
)

// DIB header sizes.
const (
	dibInfoHeader = 40
	dibV4Header   = 108
	dibV5Header   = 124
)

// maxDIBPixels bounds a DIB's size (a 16K by 16K screen).
const maxDIBPixels = 1 << 28

// errDIB prefixes every DIB decoding error.
var errDIB = errors.New("unreadable bitmap (DIB)")

// decodeDIB converts a packed DIB (header, masks, colour table, pixels) with
// 16, 24 or 32 bits per pixel, BI_RGB or BI_BITFIELDS, into an image. A
// 32-bit BI_RGB picture is opaque (its fourth byte is unused); one with an
// alpha mask whose alpha is 0 everywhere is taken as opaque too, as many
// programs leave alpha unset.
func decodeDIB(b []byte) (*image.NRGBA, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("%w: %d bytes", errDIB, len(b))
	}
	le := binary.LittleEndian
	hsize := int(le.Uint32(b))
	switch hsize {
	case dibInfoHeader, dibV4Header, dibV5Header:
	default:
		return nil, fmt.Errorf("%w: header of %d bytes", errDIB, hsize)
	}
	if len(b) < hsize {
		return nil, fmt.Errorf("%w: %d bytes, shorter than its header", errDIB, len(b))
	}
	width := int(int32(le.Uint32(b[4:])))
	height := int(int32(le.Uint32(b[8:])))
	bpp := int(le.Uint16(b[14:]))
	compression := le.Uint32(b[16:])
	colorsUsed := int(le.Uint32(b[32:]))
	topDown := height < 0
	if topDown {
		height = -height
	}
	if width <= 0 || height <= 0 || width > maxDIBPixels/height {
		return nil, fmt.Errorf("%w: %d×%d pixels", errDIB, width, height)
	}

	offset := hsize
	var masks [4]uint32 // red, green, blue, alpha
	switch compression {
	case biRGB:
		switch bpp {
		case 16:
			masks = [4]uint32{0x7c00, 0x03e0, 0x001f, 0}
		case 24, 32:
			masks = [4]uint32{0xff0000, 0x00ff00, 0x0000ff, 0}
		default:
			return nil, fmt.Errorf("%w: %d bits per pixel (only 16, 24 and 32 are read)", errDIB, bpp)
		}
	case biBitfields, biAlphaBitfields:
		if bpp != 16 && bpp != 32 {
			return nil, fmt.Errorf("%w: bit fields with %d bits per pixel", errDIB, bpp)
		}
		n := 3
		if compression == biAlphaBitfields {
			n = 4
		}
		if hsize == dibInfoHeader {
			// The masks follow the header.
			if len(b) < offset+4*n {
				return nil, fmt.Errorf("%w: its colour masks are missing", errDIB)
			}
			for i := range n {
				masks[i] = le.Uint32(b[offset+4*i:])
			}
			offset += 4 * n
		} else {
			// The masks are in the header (alpha too).
			for i := range 4 {
				masks[i] = le.Uint32(b[40+4*i:])
			}
		}
	default:
		return nil, fmt.Errorf("%w: compression %d (only BI_RGB and BI_BITFIELDS are read)", errDIB, compression)
	}
	if colorsUsed < 0 || colorsUsed > len(b)/4 {
		return nil, fmt.Errorf("%w: a colour table of %d entries", errDIB, colorsUsed)
	}
	offset += 4 * colorsUsed

	stride := (width*bpp + 31) / 32 * 4
	size := stride * height
	if len(b) < offset+size {
		return nil, fmt.Errorf("%w: %d bytes of pixels for %d×%d at %d bits, %d needed", errDIB, max(len(b)-offset, 0), width, height, bpp, size)
	}
	if extra := len(b) - offset - size; extra == 12 && hsize > dibInfoHeader && compression == biBitfields {
		// Some programs put the three masks after a V4 or V5 header too.
		offset += 12
	}

	fields := [4]field{newField(masks[0]), newField(masks[1]), newField(masks[2]), newField(masks[3])}
	img := image.NewNRGBA(image.Rect(0, 0, width, height))
	bytesPP := bpp / 8
	anyAlpha := false
	for y := range height {
		row := b[offset+y*stride:]
		dy := height - 1 - y
		if topDown {
			dy = y
		}
		out := img.Pix[dy*img.Stride:]
		for x := range width {
			var px uint32
			switch bytesPP {
			case 2:
				px = uint32(le.Uint16(row[2*x:]))
			case 3:
				px = uint32(row[3*x]) | uint32(row[3*x+1])<<8 | uint32(row[3*x+2])<<16
			default:
				px = le.Uint32(row[4*x:])
			}
			a := uint8(0xff)
			if fields[3].mask != 0 {
				a = fields[3].get(px)
				anyAlpha = anyAlpha || a != 0
			}
			c := color.NRGBA{fields[0].get(px), fields[1].get(px), fields[2].get(px), a}
			out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = c.R, c.G, c.B, c.A
		}
	}
	if fields[3].mask != 0 && !anyAlpha {
		for i := 3; i < len(img.Pix); i += 4 {
			img.Pix[i] = 0xff
		}
	}
	return img, nil
}

// field reads one colour channel out of a pixel through its mask.
type field struct {
	mask  uint32
	shift int
	width int
}

func newField(mask uint32) field {
	if mask == 0 {
		return field{}
	}
	shift := bits.TrailingZeros32(mask)
	return field{mask: mask, shift: shift, width: bits.Len32(mask >> shift)}
}

// get scales the channel to 8 bits.
func (f field) get(px uint32) uint8 {
	if f.mask == 0 {
		return 0
	}
	v := (px & f.mask) >> f.shift
	switch {
	case f.width == 8:
		return uint8(v)
	case f.width > 8:
		return uint8(v >> (f.width - 8))
	}
	// Spread the bits over 8, so that all ones become 0xff.
	maxV := uint32(1)<<f.width - 1
	return uint8((v*255 + maxV/2) / maxV)
}
