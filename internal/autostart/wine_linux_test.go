package autostart

import (
	"testing"

	"upshot/internal/devtools/winetest"
)

// TestUnderWine runs this package's Windows tests under Wine, whose
// registry is the prefix's own.
func TestUnderWine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Windows tests under Wine")
	}
	w := winetest.Start(t)
	winetest.Expect(t, w.RunTests(t, ".", nil), []string{"TestRunKey"}, nil)
}
