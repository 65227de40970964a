//go:build ignore

// gen_tray draws the tray icons from icon.png: the icon at 64×64 with a
// badge in the lower right corner, none when idle, a green disc when
// uploading, a red disc with a "!" on error. Run it with go generate.
package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"

	"golang.org/x/image/draw"
)

const size = 64

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gen_tray:", err)
		os.Exit(1)
	}
}

func run() error {
	raw, err := os.ReadFile("icon.png")
	if err != nil {
		return err
	}
	src, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	base := image.NewRGBA(image.Rect(0, 0, size, size))
	draw.CatmullRom.Scale(base, base.Bounds(), src, src.Bounds(), draw.Src, nil)

	white := color.RGBA{255, 255, 255, 255}
	green := color.RGBA{0x12, 0x8c, 0x3e, 255} // work in progress, not alarming
	red := color.RGBA{0xd9, 0x2d, 0x20, 255}

	icons := map[string]func(*image.RGBA){
		"tray_idle.png": func(*image.RGBA) {},
		"tray_uploading.png": func(img *image.RGBA) {
			disc(img, 46, 46, 17, white)
			disc(img, 46, 46, 14, green)
			// three dots: busy
			for _, x := range []float64{39, 46, 53} {
				disc(img, x, 46, 2.6, white)
			}
		},
		"tray_error.png": func(img *image.RGBA) {
			disc(img, 46, 46, 17, white)
			disc(img, 46, 46, 14, red)
			rect(img, 44, 36, 48, 50, white)
			rect(img, 44, 52, 48, 56, white)
		},
	}
	for name, badge := range icons {
		img := image.NewRGBA(base.Bounds())
		copy(img.Pix, base.Pix)
		badge(img)
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			return err
		}
		if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// disc paints an antialiased filled circle.
func disc(img *image.RGBA, cx, cy, r float64, c color.RGBA) {
	for y := int(cy - r - 1); y <= int(cy+r+1); y++ {
		for x := int(cx - r - 1); x <= int(cx+r+1); x++ {
			d := math.Hypot(float64(x)+0.5-cx, float64(y)+0.5-cy)
			a := math.Max(0, math.Min(1, r-d+0.5))
			if a > 0 {
				blend(img, x, y, c, a)
			}
		}
	}
}

func rect(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			blend(img, x, y, c, 1)
		}
	}
}

func blend(img *image.RGBA, x, y int, c color.RGBA, a float64) {
	if !(image.Point{x, y}.In(img.Bounds())) {
		return
	}
	o := img.RGBAAt(x, y)
	mix := func(s, d uint8) uint8 { return uint8(float64(s)*a + float64(d)*(1-a) + 0.5) }
	img.SetRGBA(x, y, color.RGBA{mix(c.R, o.R), mix(c.G, o.G), mix(c.B, o.B), uint8(math.Max(float64(o.A), a*255))})
}
