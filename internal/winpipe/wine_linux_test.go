package winpipe

import (
	"testing"

	"upshot/internal/devtools/winetest"
)

// TestUnderWine runs this package's Windows tests under Wine.
func TestUnderWine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Windows tests under Wine")
	}
	w := winetest.Start(t)
	winetest.Expect(t, w.RunTests(t, ".", nil),
		[]string{"TestExchange", "TestCloseEndsAccept", "TestCloseEndsRead", "TestClientGivesUp"},
		[]string{"TestNameTakenNotUnderWine"})
}
