package capture

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestParseUserDirs(t *testing.T) {
	const home = "/home/ada"
	cases := []struct {
		data string
		want string
		ok   bool
	}{
		{"# written by xdg-user-dirs-update\nXDG_DESKTOP_DIR=\"$HOME/Desktop\"\nXDG_PICTURES_DIR=\"$HOME/Bilder\"\n", "/home/ada/Bilder", true},
		{`XDG_PICTURES_DIR="${HOME}/My Pictures/"`, "/home/ada/My Pictures", true},
		{`XDG_PICTURES_DIR="/srv/pics"`, "/srv/pics", true},
		{`XDG_PICTURES_DIR="$HOME/say \"cheese\""`, `/home/ada/say "cheese"`, true},
		{`XDG_PICTURES_DIR="$HOMEWORK/pics"`, "", false},
		{`XDG_PICTURES_DIR="pics"`, "", false},
		{`# XDG_PICTURES_DIR="/srv/pics"`, "", false},
		{"XDG_DOCUMENTS_DIR=\"$HOME/Docs\"\n", "", false},
	}
	for _, c := range cases {
		got, ok := parseUserDirs(c.data, home)
		if got != c.want || ok != c.ok {
			t.Errorf("parseUserDirs(%q) = %q, %v; want %q, %v", c.data, got, ok, c.want, c.ok)
		}
	}
}

// macOS: captures go to ~/Pictures/Upshot and its own screenshots to the
// Desktop; without HOME, under the temporary folder.
func TestHomeFolder(t *testing.T) {
	for _, c := range []struct{ home, name, want string }{
		{"/Users/ann", "Pictures", "/Users/ann/Pictures"},
		{"", "Pictures", "/var/folders/xy/T/Pictures"},
		{"/Users/ann", "Desktop", "/Users/ann/Desktop"},
		{"", "Desktop", "/var/folders/xy/T/Desktop"},
	} {
		if got := homeFolder(c.home, "/var/folders/xy/T", c.name); got != c.want {
			t.Errorf("homeFolder(%q, %q) = %q, want %q", c.home, c.name, got, c.want)
		}
	}
}

// TestScreenshotsDirXDG: GNOME's and KDE's folder, under the Pictures
// folder that user-dirs.dirs names.
func TestScreenshotsDirXDG(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		t.Skip("the XDG folders are for Linux and the BSDs; darwin and Windows have their own tests")
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "cfg"))
	os.MkdirAll(filepath.Join(home, "cfg"), 0o755)
	os.WriteFile(filepath.Join(home, "cfg", "user-dirs.dirs"), []byte(`XDG_PICTURES_DIR="$HOME/Bilder"`+"\n"), 0o644)
	if got, want := ScreenshotsDir(), filepath.Join(home, "Bilder", "Screenshots"); got != want {
		t.Errorf("ScreenshotsDir = %q, want %q", got, want)
	}
}
