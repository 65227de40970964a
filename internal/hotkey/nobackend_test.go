package hotkey

import (
	"errors"
	"strings"
	"testing"
)

// On macOS Start fails with ErrUnsupported, naming the system and what to
// do instead.
func TestNoBackend(t *testing.T) {
	for goos, prefix := range map[string]string{"darwin": "macOS: ", "freebsd": "freebsd: "} {
		err := noBackend(goos)
		if !errors.Is(err, ErrUnsupported) || !strings.HasPrefix(err.Error(), prefix) ||
			!strings.Contains(err.Error(), "upshot capture region") {
			t.Errorf("noBackend(%q) = %v, want ErrUnsupported starting %q and naming upshot capture region", goos, err, prefix)
		}
	}
}
