package uploader

import (
	"path/filepath"
	"testing"
)

// DefaultConfigPath and DataDir read this system's environment.
func TestHostFolders(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv(EnvConfig, "")
	t.Setenv(EnvDataDir, "")
	if got, want := DefaultConfigPath(), filepath.Join(home, ".config", "upshot", "config.toml"); got != want {
		t.Errorf("DefaultConfigPath() = %q, want %q", got, want)
	}
	if got, want := DataDir(), filepath.Join(home, ".local", "share", "upshot"); got != want {
		t.Errorf("DataDir() = %q, want %q", got, want)
	}
	t.Setenv(EnvConfig, "/etc/upshot.toml")
	t.Setenv(EnvDataDir, "/srv/upshot")
	if got := DefaultConfigPath(); got != "/etc/upshot.toml" {
		t.Errorf("DefaultConfigPath() = %q, want UPSHOT_CONFIG's", got)
	}
	if got := DataDir(); got != "/srv/upshot" {
		t.Errorf("DataDir() = %q, want UPSHOT_DATA_DIR's", got)
	}
}
