package capture

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDefaultDirFromUserDirs(t *testing.T) {
	home := t.TempDir()
	config := filepath.Join(t.TempDir(), "config")
	if err := os.MkdirAll(config, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", config)
	if got, want := DefaultDir(), filepath.Join(home, "Pictures", "Upshot"); got != want {
		t.Errorf("without user-dirs.dirs: %s, want %s", got, want)
	}
	dirs := "# xdg-user-dirs\nXDG_DESKTOP_DIR=\"$HOME/Schreibtisch\"\nXDG_PICTURES_DIR=\"$HOME/Bilder\"\n"
	if err := os.WriteFile(filepath.Join(config, "user-dirs.dirs"), []byte(dirs), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, want := DefaultDir(), filepath.Join(home, "Bilder", "Upshot"); got != want {
		t.Errorf("with user-dirs.dirs: %s, want %s", got, want)
	}
	// XDG_CONFIG_HOME unset: ~/.config.
	t.Setenv("XDG_CONFIG_HOME", "")
	if got, want := DefaultDir(), filepath.Join(home, "Pictures", "Upshot"); got != want {
		t.Errorf("no ~/.config/user-dirs.dirs: %s, want %s", got, want)
	}
	if err := os.MkdirAll(filepath.Join(home, ".config"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".config", "user-dirs.dirs"), []byte(`XDG_PICTURES_DIR="/srv/shots"`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, want := DefaultDir(), "/srv/shots/Upshot"; got != want {
		t.Errorf("~/.config/user-dirs.dirs: %s, want %s", got, want)
	}
}
