package app

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"upshot/internal/capture"
)

// BenchmarkHotkeyToLink measures, with the real window program under Xvfb
// and versitygw, the time from the screen-capture hotkey (sent with
// xdotool) to the capture's link on the clipboard (read with xclip), and
// how much of it is the capture tool (ImageMagick's import, the fallback
// used here): the same capture taken directly, in this process, in the
// same run. A window painted a new colour before each press makes every
// capture new content, so none is deduplicated.
func BenchmarkHotkeyToLink(b *testing.B) {
	a := startCaptureApp(b, 1280, 800, "")
	paint := colourWindow(b, a.display)
	var total []float64
	last := ""
	i := 0
	for b.Loop() {
		i++
		paint(uint32(i * 0x10203))
		start := time.Now()
		a.key(b, "ctrl+shift+alt+3")
		last = clipboardLink(b, a.tools["xclip"], a.display, a.srv.Endpoint, last)
		total = append(total, float64(time.Since(start).Microseconds())/1000)
	}
	b.StopTimer()
	a.p.stop(b)

	b.Setenv("DISPLAY", a.display)
	b.Setenv("WAYLAND_DISPLAY", "")
	b.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
	dir, bin := b.TempDir(), b.TempDir()
	if err := os.Symlink(a.tools["import"], filepath.Join(bin, "import")); err != nil {
		b.Fatal(err)
	}
	b.Setenv("PATH", bin) // the tool the window used, and no other
	var tool []float64
	for j := range max(len(total), 3) {
		paint(uint32(j * 0x30201))
		shot, err := capture.Take(b.Context(), capture.Screen, capture.Options{Dir: dir})
		if err != nil {
			b.Fatal(err)
		}
		tool = append(tool, float64(shot.ToolTime.Microseconds())/1000)
	}
	med := func(v []float64) float64 {
		v = slices.Clone(v)
		slices.Sort(v)
		return v[len(v)/2]
	}
	b.ReportMetric(med(total), "ms/link")
	b.ReportMetric(med(tool), "tool-ms")
	b.ReportMetric(100*med(tool)/med(total), "tool-%")
}

// colourWindow maps a window over the whole screen of display and returns
// a function that paints it one colour, returning once the X server has
// done so.
func colourWindow(b *testing.B, display string) func(pixel uint32) {
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(conn.Close)
	screen := xproto.Setup(conn).DefaultScreen(conn)
	win, err := xproto.NewWindowId(conn)
	if err != nil {
		b.Fatal(err)
	}
	err = xproto.CreateWindowChecked(conn, screen.RootDepth, win, screen.Root, 0, 0, screen.WidthInPixels, screen.HeightInPixels, 0,
		xproto.WindowClassInputOutput, screen.RootVisual, xproto.CwBackPixel|xproto.CwOverrideRedirect, []uint32{0, 1}).Check()
	if err == nil {
		err = xproto.MapWindowChecked(conn, win).Check()
	}
	if err != nil {
		b.Fatal(err)
	}
	return func(pixel uint32) {
		xproto.ChangeWindowAttributes(conn, win, xproto.CwBackPixel, []uint32{pixel & 0xffffff})
		xproto.ClearArea(conn, false, win, 0, 0, 0, 0)
		// A round trip: the server has painted when it answers.
		if _, err := xproto.GetInputFocus(conn).Reply(); err != nil {
			b.Fatal(err)
		}
	}
}
