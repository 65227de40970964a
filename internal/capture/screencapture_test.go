package capture

import (
	"slices"
	"testing"
)

func TestScreencaptureArgs(t *testing.T) {
	const f = "/tmp/x/capture.png"
	for mode, want := range map[Mode][]string{
		Screen: {"-x", f},
		Region: {"-i", "-x", f},
		Window: {"-i", "-W", "-x", f},
	} {
		if got := screencaptureArgs(mode, f); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", mode, got, want)
		}
	}
}
