// Package winname knows the file names Windows cannot open as files:
// device names (CON, AUX, NUL, COM1…) and names ending in a dot or a
// space. Such files reach Windows from other systems (a network share, a
// synced folder, an archive), and opening one opens a device instead,
// which may never answer. Upshot checks a name before it touches the file.
package winname

import (
	"path/filepath"
	"strings"
)

// Check says why this system cannot open path as a file because of its
// name, or "": on Windows it is Problem of the last element (or that the
// path is a device's, \\.\NAME), elsewhere always "".
func Check(path string) string {
	if !enforced {
		return ""
	}
	if strings.HasPrefix(path, `\\.\`) {
		return "is a device, not a file"
	}
	return Problem(filepath.Base(path))
}

// Problem says why Windows cannot open a file named base as an
// ordinary file, or "" when it can: names Windows keeps for devices (CON,
// AUX, NUL, COM1…, LPT1…, with or without an extension), and names ending
// in a dot or space, which Windows drops before it looks the file up.
// Such files reach Windows from other systems: a network share, a synced
// folder, an archive.
func Problem(base string) string {
	if base == "" {
		return ""
	}
	if last := base[len(base)-1]; last == '.' || last == ' ' {
		return "ends in a dot or a space, which Windows drops, so it cannot be opened"
	}
	stem, _, _ := strings.Cut(base, ".")
	stem = strings.ToUpper(strings.TrimRight(stem, " "))
	switch stem {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return "has a name Windows keeps for a device (" + stem + "), so it cannot be opened as a file"
	}
	if r := []rune(stem); len(r) == 4 && (strings.HasPrefix(stem, "COM") || strings.HasPrefix(stem, "LPT")) &&
		strings.ContainsRune("0123456789¹²³", r[3]) {
		return "has a name Windows keeps for a device (" + stem + "), so it cannot be opened as a file"
	}
	return ""
}
