package winpipe

import (
	"strings"
	"testing"

	"upshot/internal/devtools/winetest"
)

// TestUnderWine runs this package's Windows tests under Wine.
func TestUnderWine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Windows tests under Wine")
	}
	w := winetest.Start(t)
	out := w.RunTests(t, ".", nil)
	for _, name := range []string{"TestExchange", "TestCloseEndsAccept", "TestCloseEndsRead"} {
		if !strings.Contains(out, "--- PASS: "+name) {
			t.Errorf("%s did not pass under Wine:\n%s", name, out)
		}
	}
	// What Wine does not do as Windows does, said by the test's name.
	if !strings.Contains(out, "--- SKIP: TestNameTakenNotUnderWine") {
		t.Errorf("TestNameTakenNotUnderWine did not report Wine's gap:\n%s", out)
	}
}
