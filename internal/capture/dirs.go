package capture

import (
	"path/filepath"
	"strings"
)

// DefaultDir is where captures go when Options.Dir is empty: an "Upshot"
// folder in the user's Pictures folder. On Linux and the BSDs that is
// XDG_PICTURES_DIR from $XDG_CONFIG_HOME/user-dirs.dirs (~/.config when
// unset), else ~/Pictures; on Windows %USERPROFILE%\Pictures; on macOS
// ~/Pictures. It only reads the environment and that file.
func DefaultDir() string { return filepath.Join(picturesDir(), "Upshot") }

// ScreenshotsDir is where the system's own screenshot tool saves: the
// folder Upshot offers to watch first. On Windows the Screenshots known
// folder (%USERPROFILE%\Pictures\Screenshots, where Win+PrtScn and the
// Snipping Tool save), on macOS the Desktop, elsewhere the Pictures
// folder's Screenshots (GNOME's and KDE's default).
func ScreenshotsDir() string { return screenshotsDir() }

// parseUserDirs returns XDG_PICTURES_DIR from the contents of a
// user-dirs.dirs file, with a leading $HOME (or ${HOME}) replaced by home.
// It reports false when the entry is missing or is not an absolute path.
func parseUserDirs(data, home string) (string, bool) {
	found := ""
	for line := range strings.Lines(data) {
		line = strings.TrimSpace(line)
		key, value, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(key) != "XDG_PICTURES_DIR" {
			continue
		}
		found = unquoteUserDir(strings.TrimSpace(value))
	}
	if found == "" {
		return "", false
	}
	for _, h := range []string{"$HOME", "${HOME}"} {
		if rest, ok := strings.CutPrefix(found, h); ok && (rest == "" || rest[0] == '/') {
			found = home + rest
			break
		}
	}
	if !strings.HasPrefix(found, "/") {
		return "", false
	}
	return filepath.Clean(found), true
}

// unquoteUserDir reads a user-dirs.dirs value: "…" with \" and \\ escapes.
func unquoteUserDir(v string) string {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return v
	}
	v = v[1 : len(v)-1]
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// homeFolder is the folder name under home, or under temp when home is
// "" (unknown): macOS's Pictures and Desktop.
func homeFolder(home, temp, name string) string {
	if home == "" {
		home = temp
	}
	return filepath.Join(home, name)
}
