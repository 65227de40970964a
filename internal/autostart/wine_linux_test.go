package autostart

import (
	"strings"
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
	if out := w.RunTests(t, ".", nil); !strings.Contains(out, "--- PASS: TestRunKey") {
		t.Fatalf("TestRunKey did not pass under Wine:\n%s", out)
	}
}
