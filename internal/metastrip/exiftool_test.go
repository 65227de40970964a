package metastrip

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// These tests make real photos: Go encodes the pixels, exiftool adds the
// metadata a phone or camera would, and exiftool reads the stripped result.

// personalArgs are the exiftool arguments that add GPS, camera, time, XMP
// and IPTC metadata.
var personalArgs = []string{
	"-GPSLatitude=48.8566", "-GPSLatitudeRef=N", "-GPSLongitude=2.3522", "-GPSLongitudeRef=E", "-GPSAltitude=35",
	"-Make=Canon", "-Model=EOS R5", "-DateTimeOriginal=2024:05:06 07:08:09", "-Artist=Alice Example",
	"-XMP-dc:Creator=Alice Example", "-XMP-photoshop:City=Paris",
}

var iptcArgs = []string{"-IPTC:Keywords=home", "-IPTC:City=Paris"}

// leaks lists the tags exiftool reported that must not survive Strip. The
// ICC profile is kept on purpose, and EXIF may hold only Orientation.
func leaks(tags map[string]any) []string {
	var bad []string
	for k := range tags {
		group, name, _ := strings.Cut(k, ":")
		switch {
		case group == "ICC_Profile" || group == "File" && strings.HasPrefix(name, "File"):
			continue
		case group == "EXIF" && name != "Orientation",
			strings.HasPrefix(group, "XMP"), group == "IPTC", group == "Photoshop", group == "MakerNotes",
			strings.Contains(name, "GPS"), strings.Contains(name, "Make"), strings.Contains(name, "Model"),
			strings.Contains(name, "DateTime"), strings.Contains(name, "Date"), strings.Contains(name, "Comment"),
			name == "Artist", name == "Creator", name == "City", name == "Keywords":
			bad = append(bad, k)
		}
	}
	slices.Sort(bad)
	return bad
}

// checkLeaks checks that the input had the personal tags and the output has
// none.
func checkLeaks(t *testing.T, in, out map[string]any, mustHave ...string) {
	t.Helper()
	before := leaks(in)
	for _, tag := range mustHave {
		if !slices.Contains(before, tag) {
			t.Errorf("the test input lacks %s (has %v): the test proves nothing", tag, before)
		}
	}
	if after := leaks(out); len(after) > 0 {
		t.Errorf("after Strip exiftool still reports %v", after)
	}
}

// exiftoolBatch runs exiftool once on several files, each with its own
// arguments, writing in place.
func exiftoolBatch(tb testing.TB, files []string, args func(i int) []string) {
	tb.Helper()
	all := []string{"-q", "-q", "-overwrite_original"}
	for i, f := range files {
		if i > 0 {
			all = append(all, "-execute", "-q", "-q", "-overwrite_original")
		}
		all = append(append(all, args(i)...), f)
	}
	runTool(tb, "exiftool", all...)
}

// exiftoolTags reads the tags of several files in one exiftool run.
func exiftoolTags(tb testing.TB, files []string, args ...string) map[string]map[string]any {
	tb.Helper()
	out := runTool(tb, "exiftool", append(append([]string{"-j", "-G", "-a"}, args...), files...)...)
	var list []map[string]any
	if err := json.Unmarshal(out, &list); err != nil {
		tb.Fatalf("exiftool -j: %v\n%s", err, out)
	}
	byFile := map[string]map[string]any{}
	for _, m := range list {
		byFile[m["SourceFile"].(string)] = m
	}
	return byFile
}

func writeFile(tb testing.TB, path string, b []byte) string {
	tb.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func strip(tb testing.TB, in []byte) (Result, []byte) {
	tb.Helper()
	var out bytes.Buffer
	res, err := Strip(&out, bytes.NewReader(in))
	if err != nil {
		tb.Fatal(err)
	}
	return res, out.Bytes()
}

// iccOf extracts the ICC profile as exiftool sees it.
func iccOf(tb testing.TB, path string) []byte {
	tb.Helper()
	return runTool(tb, "exiftool", "-b", "-ICC_Profile", path)
}

func TestJPEGWithExiftool(t *testing.T) {
	requireExiftool(t)
	dir := t.TempDir()
	icc := tinyICC(150000) // three APP2 segments
	iccPath := writeFile(t, filepath.Join(dir, "big.icc"), icc)
	in := filepath.Join(dir, "photo.jpg")
	writeFile(t, in, withJFIF(encodeJPEG(t, testPicture(640, 480, 11), 90)))
	exiftoolBatch(t, []string{in}, func(int) []string {
		return append(slices.Concat(personalArgs, iptcArgs), "-Comment=shot at home", "-icc_profile<="+iccPath, "-Orientation#=6")
	})
	inBytes := readFile(t, in)

	res, outBytes := strip(t, inBytes)
	out := writeFile(t, filepath.Join(dir, "stripped.jpg"), outBytes)
	t.Logf("%d → %d bytes: %+v", len(inBytes), len(outBytes), res)
	if want := (Result{Format: "jpeg", Changed: true, Removed: []string{"Exif", "IPTC", "XMP", "Comment"}, KeptOrientation: 6}); !equalResult(res, want) {
		t.Errorf("Strip = %+v, want %+v", res, want)
	}

	tags := exiftoolTags(t, []string{in, out})
	checkLeaks(t, tags[in], tags[out], "EXIF:GPSLatitude", "EXIF:Make", "EXIF:Model", "EXIF:DateTimeOriginal",
		"XMP:Creator", "IPTC:Keywords", "File:Comment", "Composite:GPSPosition")
	if got := tags[out]["EXIF:Orientation"]; got != "Rotate 90 CW" {
		t.Errorf("Orientation = %v, want Rotate 90 CW", got)
	}
	if got := iccOf(t, out); !bytes.Equal(got, icc) {
		t.Errorf("the ICC profile changed: %d bytes, want %d", len(got), len(icc))
	}
	checkPixels(t, inBytes, outBytes)

	// The ICC segments and the entropy-coded data are copied byte for byte.
	iccSegs := func(segs []segment) (out [][]byte) {
		for _, s := range segs {
			if s.marker == 0xE2 && bytes.HasPrefix(s.payload, idICC) {
				out = append(out, s.payload)
			}
		}
		return out
	}
	hIn, hOut := jpegHeader(t, inBytes), jpegHeader(t, outBytes)
	if a, b := iccSegs(hIn), iccSegs(hOut); len(a) != 3 || !slices.EqualFunc(a, b, bytes.Equal) {
		t.Errorf("ICC segments: %d in, %d out, or they differ", len(a), len(b))
	}
	if m := markers(hOut); m[0] != 0xE0 || m[1] != 0xE1 {
		t.Errorf("output header % X: want JFIF APP0 then the orientation Exif", m)
	}
	sosIn := bytes.Index(inBytes, []byte{0xFF, 0xDA})
	sosOut := bytes.Index(outBytes, []byte{0xFF, 0xDA})
	if !bytes.Equal(inBytes[sosIn:], outBytes[sosOut:]) {
		t.Error("the scan data changed")
	}
}

func TestPNGWithExiftool(t *testing.T) {
	requireExiftool(t)
	dir := t.TempDir()
	icc := tinyICC(0)
	iccPath := writeFile(t, filepath.Join(dir, "tiny.icc"), icc)
	in := filepath.Join(dir, "screenshot.png")
	base := insertPNGChunks(encodePNG(t, testPicture(320, 240, 12)),
		pngChunk("gAMA", []byte{0, 0, 0xB1, 0x8F}),
		pngChunk("pHYs", []byte{0, 0, 0x0B, 0x13, 0, 0, 0x0B, 0x13, 1}))
	writeFile(t, in, base)
	exiftoolBatch(t, []string{in}, func(int) []string {
		return append(slices.Concat(personalArgs, iptcArgs), "-PNG:Comment=shot at home", "-PNG:ModifyDate=2024:05:06 07:08:09",
			"-PNG:Author=Alice", "-icc_profile<="+iccPath)
	})
	inBytes := readFile(t, in)

	res, outBytes := strip(t, inBytes)
	out := writeFile(t, filepath.Join(dir, "stripped.png"), outBytes)
	t.Logf("%d → %d bytes: %+v", len(inBytes), len(outBytes), res)
	if res.Format != "png" || !res.Changed || res.KeptOrientation != 0 {
		t.Errorf("Strip = %+v", res)
	}
	for _, want := range []string{"tEXt", "iTXt", "zTXt", "tIME", "eXIf"} {
		if !slices.Contains(res.Removed, want) {
			t.Errorf("Removed %v lacks %s", res.Removed, want)
		}
	}

	tags := exiftoolTags(t, []string{in, out})
	checkLeaks(t, tags[in], tags[out], "EXIF:GPSLatitude", "EXIF:Make", "EXIF:DateTimeOriginal",
		"XMP:Creator", "IPTC:Keywords", "PNG:Comment", "PNG:ModifyDate")
	if got := iccOf(t, out); !bytes.Equal(got, icc) {
		t.Errorf("the ICC profile changed: %d bytes, want %d", len(got), len(icc))
	}
	checkPixels(t, inBytes, outBytes)

	var want []chunk
	for _, c := range pngChunks(t, inBytes) {
		if !pngDropped[c.typ] {
			want = append(want, c)
		}
	}
	got := pngChunks(t, outBytes)
	if !slices.EqualFunc(got, want, func(a, b chunk) bool { return bytes.Equal(a.raw, b.raw) }) {
		t.Errorf("kept chunks %v, want %v byte for byte", got, want)
	}
	for _, typ := range []string{"iCCP", "gAMA", "pHYs", "IDAT"} {
		if !slices.ContainsFunc(got, func(c chunk) bool { return c.typ == typ }) {
			t.Errorf("no %s chunk in the output", typ)
		}
	}
}

func TestWebPWithExiftool(t *testing.T) {
	requireExiftool(t)
	dir := t.TempDir()
	icc := tinyICC(0)
	iccPath := writeFile(t, filepath.Join(dir, "tiny.icc"), icc)
	v, _ := vp8lImage(64, 48, 13)
	in := writeFile(t, filepath.Join(dir, "photo.webp"), webpFile(webpChunk("VP8L", v)))
	exiftoolBatch(t, []string{in}, func(int) []string { return append(slices.Clone(personalArgs), "-icc_profile<="+iccPath) })
	inBytes := readFile(t, in)

	res, outBytes := strip(t, inBytes)
	out := writeFile(t, filepath.Join(dir, "stripped.webp"), outBytes)
	if want := (Result{Format: "webp", Changed: true, Removed: []string{"EXIF", "XMP"}}); !equalResult(res, want) {
		t.Errorf("Strip = %+v, want %+v", res, want)
	}
	tags := exiftoolTags(t, []string{in, out})
	checkLeaks(t, tags[in], tags[out], "EXIF:GPSLatitude", "EXIF:Make", "EXIF:DateTimeOriginal", "XMP:Creator")
	if got := tags[out]["RIFF:WebP_Flags"]; got != "ICC Profile" {
		t.Errorf("WebP flags %v, want only ICC Profile", got)
	}
	if got := iccOf(t, out); !bytes.Equal(got, icc) {
		t.Errorf("the ICC profile changed: %d bytes, want %d", len(got), len(icc))
	}
	checkPixels(t, inBytes, outBytes) // VP8L and ICCP chunks byte for byte
	if n := len(webpChunks(t, outBytes)); n != 3 {
		t.Errorf("%d chunks, want VP8X, ICCP, VP8L", n)
	}
}

// TestWebPLossyWithCwebp strips a lossy WebP made by cwebp and checks the
// pixels with dwebp (Debian package webp).
func TestWebPLossyWithCwebp(t *testing.T) {
	requireExiftool(t)
	requireTool(t, "cwebp", "webp")
	requireTool(t, "dwebp", "webp")
	dir := t.TempDir()
	src := writeFile(t, filepath.Join(dir, "src.png"), encodePNG(t, testPicture(320, 240, 14)))
	in := filepath.Join(dir, "photo.webp")
	runTool(t, "cwebp", "-quiet", "-q", "80", src, "-o", in)
	exiftoolBatch(t, []string{in}, func(int) []string { return append(slices.Clone(personalArgs), "-Orientation#=3") })
	inBytes := readFile(t, in)

	res, outBytes := strip(t, inBytes)
	out := writeFile(t, filepath.Join(dir, "stripped.webp"), outBytes)
	if want := (Result{Format: "webp", Changed: true, Removed: []string{"EXIF", "XMP"}, KeptOrientation: 3}); !equalResult(res, want) {
		t.Errorf("Strip = %+v, want %+v", res, want)
	}
	tags := exiftoolTags(t, []string{in, out})
	checkLeaks(t, tags[in], tags[out], "EXIF:GPSLatitude", "EXIF:Make", "XMP:Creator")
	checkPixels(t, inBytes, outBytes)
	decode := func(path string) image.Image {
		t.Helper()
		pngPath := path + ".png"
		runTool(t, "dwebp", "-quiet", path, "-o", pngPath)
		img, err := png.Decode(bytes.NewReader(readFile(t, pngPath)))
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	if d := pixelsDiffer(decode(in), decode(out)); d != "" {
		t.Errorf("dwebp pixels differ: %s", d)
	}
}

// TestOrientation sets each of the 8 Exif orientations (and none) with
// exiftool in each format and checks that exiftool reads the same one back
// after Strip, and that orientation 1 or none leaves no Exif at all.
func TestOrientation(t *testing.T) {
	requireExiftool(t)
	v, _ := vp8lImage(64, 48, 15)
	for _, f := range []struct {
		format string
		base   []byte
	}{
		{"jpeg", withJFIF(encodeJPEG(t, testPicture(64, 48, 15), 85))},
		{"png", encodePNG(t, testPicture(64, 48, 15))},
		{"webp", webpFile(webpChunk("VP8L", v))},
	} {
		t.Run(f.format, func(t *testing.T) {
			dir := t.TempDir()
			var files []string
			for o := range 9 { // 0: no Orientation tag
				files = append(files, writeFile(t, filepath.Join(dir, fmt.Sprintf("o%d.%s", o, f.format)), f.base))
			}
			exiftoolBatch(t, files, func(o int) []string {
				args := slices.Clone(personalArgs)
				if o > 0 {
					args = append(args, "-Orientation#="+strconv.Itoa(o))
				}
				return args
			})
			var stripped []string
			for o, in := range files {
				res, out := strip(t, readFile(t, in))
				want := o
				if o == 1 {
					want = 0
				}
				if res.KeptOrientation != want {
					t.Errorf("orientation %d: KeptOrientation = %d, want %d", o, res.KeptOrientation, want)
				}
				if want == 0 && hasExif(t, f.format, out) {
					t.Errorf("orientation %d: the output has an Exif block", o)
				}
				stripped = append(stripped, writeFile(t, filepath.Join(dir, fmt.Sprintf("s%d.%s", o, f.format)), out))
			}
			tags := exiftoolTags(t, append(slices.Clone(files), stripped...), "-n")
			for o := range files {
				in, out := tags[files[o]], tags[stripped[o]]
				checkLeaks(t, in, out, "EXIF:GPSLatitude", "EXIF:Make")
				if got, want := out["EXIF:Orientation"], in["EXIF:Orientation"]; o > 1 && got != want {
					t.Errorf("orientation %d: exiftool reads %v after Strip, %v before", o, got, want)
				}
				if got, ok := out["EXIF:Orientation"]; o <= 1 && ok {
					t.Errorf("orientation %d: exiftool reads Orientation %v after Strip, want none", o, got)
				}
				if o > 1 && in["EXIF:Orientation"] != float64(o) {
					t.Errorf("orientation %d: exiftool wrote %v", o, in["EXIF:Orientation"])
				}
			}
		})
	}
}

// hasExif reports whether a stripped file holds an Exif block.
func hasExif(t *testing.T, format string, b []byte) bool {
	switch format {
	case "jpeg":
		return slices.Contains(markers(jpegHeader(t, b)), 0xE1)
	case "png":
		return slices.ContainsFunc(pngChunks(t, b), func(c chunk) bool { return c.typ == "eXIf" })
	default:
		return slices.ContainsFunc(webpChunks(t, b), func(c chunk) bool { return c.typ == "EXIF" })
	}
}
