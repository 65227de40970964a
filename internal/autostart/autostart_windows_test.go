package autostart

import (
	"os"
	"testing"

	"golang.org/x/sys/windows/registry"
)

// TestRunKey: Open at login is the user's Run entry for this executable,
// quoted, and goes again when turned off.
func TestRunKey(t *testing.T) {
	if Enabled() {
		t.Fatal("enabled from the start")
	}
	if err := Set(true, ""); err != nil {
		t.Fatal(err)
	}
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE)
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := k.GetStringValue(runValue)
	k.Close()
	exe, _ := os.Executable()
	if err != nil || v != `"`+exe+`"` || !Enabled() {
		t.Fatalf("Run entry %q (%v), want %q", v, err, `"`+exe+`"`)
	}
	if err := Set(false, ""); err != nil || Enabled() {
		t.Fatalf("still enabled after turning it off (%v)", err)
	}
	if err := Set(false, ""); err != nil {
		t.Fatalf("turning it off twice: %v", err)
	}
}
