package autostart

import (
	"os"
	"strings"
	"testing"
)

func TestEntry(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	if Enabled() {
		t.Fatal("enabled from the start")
	}
	if err := Set(true, "app.upshot.desktop"); err != nil {
		t.Fatal(err)
	}
	p, _ := autostartPath()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	if !strings.Contains(string(b), "Exec="+quoteExec(exe)+"\n") || !strings.Contains(string(b), "Icon=app.upshot.desktop\n") || !strings.HasPrefix(string(b), "[Desktop Entry]\n") || !Enabled() {
		t.Fatalf("entry:\n%s", b)
	}
	if err := Set(false, "app.upshot.desktop"); err != nil || Enabled() {
		t.Fatalf("still enabled after turning it off (%v)", err)
	}
	if err := Set(false, "app.upshot.desktop"); err != nil {
		t.Fatalf("turning it off twice: %v", err)
	}
	if got := quoteExec(`/opt/my "apps"/$up\shot`); got != `"/opt/my \\"apps\\"/\\$up\\\\shot"` {
		t.Fatalf("quoteExec: %s", got)
	}
}
