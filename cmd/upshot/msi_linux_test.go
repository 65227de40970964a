package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"upshot/internal/devtools/winetest"
)

// TestMsiInstallUpgradeUninstallUnderWine builds the Windows installer with
// scripts/package.sh, checks its tables, and installs, upgrades and
// uninstalls it with msiexec in a fresh Wine prefix.
func TestMsiInstallUpgradeUninstallUnderWine(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-builds both Windows programs and the MSI: minutes")
	}
	w := winetest.Start(t)
	for _, tool := range []string{"wixl", "msiinfo", "convert", "x86_64-w64-mingw32-windres"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv(winetest.RequireEnv) == "1" {
				t.Fatalf("%s is needed to build the MSI (scripts/deps.sh package installs it): %v", tool, err)
			}
			t.Skipf("%s is not installed: %v", tool, err)
		}
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	version := fyneAppVersion(t, filepath.Join(root, "FyneApp.toml"))

	// Build: the script makes only the MSI when asked for Windows.
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Minute) // a hang guard: the first cgo cross-build is slow
	defer cancel()
	var stdout, stderr bytes.Buffer
	script := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts", "package.sh"), "--os", "windows", out)
	script.Stdout, script.Stderr = &stdout, &stderr
	start := time.Now()
	if err := script.Run(); err != nil {
		t.Fatalf("scripts/package.sh --os windows: %v\n%s", err, stderr.String())
	}
	t.Logf("package.sh --os windows took %s", time.Since(start).Round(time.Second))
	msi := filepath.Join(out, "Upshot-"+version+"-windows-amd64.msi")
	if got := strings.TrimSpace(stdout.String()); got != msi {
		t.Fatalf("package.sh printed %q, want the MSI's path %s", got, msi)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != filepath.Base(msi) {
		t.Fatalf("%s holds %v, want only %s", out, entries, filepath.Base(msi))
	}
	fi, err := os.Stat(msi)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d bytes", filepath.Base(msi), fi.Size())

	// The tables: a per-user package, the shortcut with its icon, the
	// registry key paths under HKCU, the icon for the installed-apps list and
	// the upgrade rows. Wine's user is an administrator and msiexec there
	// never asks for elevation, so installing under Wine cannot show that
	// no administrator rights are needed: the summary's word count says so
	// to Windows (bit 8, "elevated privileges are not required").
	if info := msiRun(t, "suminfo", msi); !strings.Contains(info, "Template: x64;") {
		t.Errorf("summary information: want an x64 package:\n%s", info)
	} else if m := regexp.MustCompile(`(?m)^Source: (\d+)`).FindStringSubmatch(info); m == nil {
		t.Errorf("summary information has no word count (Source):\n%s", info)
	} else if n, _ := strconv.Atoi(m[1]); n&8 == 0 {
		t.Errorf("word count %d: the package asks for elevated rights (bit 8 unset), want a per-user install", n)
	}
	props := msiTable(t, msi, "Property")
	if msiCell(props, "ARPPRODUCTICON") != "upshot.ico" || msiCell(props, "ProductVersion") != version {
		t.Errorf("Property: ARPPRODUCTICON %q, ProductVersion %q", props["ARPPRODUCTICON"], props["ProductVersion"])
	}
	if _, perMachine := props["ALLUSERS"]; perMachine {
		t.Errorf("Property sets ALLUSERS %q: the install would be for all users", props["ALLUSERS"])
	}
	upgradeCode := msiCell(props, "UpgradeCode")
	if upgradeCode == "" {
		t.Fatal("Property has no UpgradeCode")
	}
	sc := msiTable(t, msi, "Shortcut")["UpshotShortcut"]
	if len(sc) < 9 || sc[0] != "ProgramMenuFolder" || sc[1] != "Upshot" || sc[3] != "[INSTALLDIR]upshot-desktop.exe" || sc[7] != "upshot.ico" {
		t.Errorf("Shortcut row: %q, want Upshot in ProgramMenuFolder to [INSTALLDIR]upshot-desktop.exe with upshot.ico", sc)
	}
	components := msiTable(t, msi, "Component")
	for key, row := range msiTable(t, msi, "Registry") {
		if row[0] != "1" { // 1 is HKEY_CURRENT_USER
			t.Errorf("Registry row %s: root %s, want HKCU (1)", key, row[0])
		}
		// A per-user component's key path is its registry value (attribute 4).
		if c := components[row[4]]; len(c) < 5 || c[4] != key || c[2] != "4" {
			t.Errorf("component %s: %q, want registry value %s as its key path", row[4], c, key)
		}
	}
	if _, ok := msiTable(t, msi, "Upgrade")[upgradeCode]; !ok {
		t.Error("Upgrade table has no row for the UpgradeCode: a newer version would not replace an older one")
	}

	// Install.
	start = time.Now()
	if _, errs, code := w.Run(t, nil, "msiexec", "/i", winetest.Path(msi), "/qn"); code != 0 {
		t.Fatalf("msiexec /i: exit %d\n%s", code, errs)
	}
	t.Logf("msiexec /i took %s", time.Since(start).Round(time.Millisecond))
	installDir := w.LocalAppData() + `\Programs\Upshot`
	exes := []string{w.Host(installDir + `\upshot.exe`), w.Host(installDir + `\upshot-desktop.exe`)}
	lnk := w.Host(w.AppData() + `\Microsoft\Windows\Start Menu\Programs\Upshot.lnk`)
	productCode := msiCell(props, "ProductCode")
	icon := w.Host(w.AppData() + `\Microsoft\Installer\` + productCode + `\upshot.ico`)
	for _, f := range append(exes, lnk, icon) {
		if fi, err := os.Stat(f); err != nil || fi.Size() == 0 {
			t.Fatalf("after install: %s: %v", f, err)
		}
	}
	link, err := os.ReadFile(lnk)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(link, []byte("upshot-desktop.exe")) && !bytes.Contains(link, utf16le("upshot-desktop.exe")) {
		t.Errorf("the Start-menu shortcut does not point at upshot-desktop.exe")
	}
	got, errs, code := w.Run(t, nil, installDir+`\upshot.exe`, "version")
	if code != 0 || strings.TrimSpace(got) != "upshot "+version {
		t.Fatalf("installed upshot.exe version: exit %d, %q, want %q\n%s", code, got, "upshot "+version, errs)
	}
	if got := msiInstalled(t, w); len(got) != 1 || got[productCode] != "Upshot" {
		t.Fatalf("installed apps: %v, want Upshot as %s", got, productCode)
	}

	// Upgrade: an MSI of a later version from the same .wxs, the installed
	// programs and the package's icon replaces this one.
	newer := msiNewer(t, root, msi, version, installDir, w)
	newerCode := msiCell(msiTable(t, newer.path, "Property"), "ProductCode")
	if newerCode == "" || newerCode == productCode {
		t.Fatalf("the newer MSI's ProductCode is %q, the first's %q: want a new one", newerCode, productCode)
	}
	if _, errs, code := w.Run(t, nil, "msiexec", "/i", winetest.Path(newer.path), "/qn"); code != 0 {
		t.Fatalf("msiexec /i %s: exit %d\n%s", newer.version, code, errs)
	}
	if got := msiInstalled(t, w); len(got) != 1 || got[newerCode] != "Upshot" {
		t.Fatalf("installed apps after the upgrade to %s: %v, want only %s", newer.version, got, newerCode)
	}
	for _, f := range append(exes, lnk) {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("after the upgrade: %v", err)
		}
	}
	// Installing the older one again is refused, and changes nothing.
	// Windows' msiexec exits 1603 (ERROR_INSTALL_FAILURE); under Wine the
	// same code reaches Linux cut to its low byte, 67.
	_, _, code = w.Run(t, nil, "msiexec", "/i", winetest.Path(msi), "/qn")
	if code != 1603 && code != 1603&0xff {
		t.Errorf("msiexec /i of the older %s over %s: exit %d, want 1603 (a newer version is installed)", version, newer.version, code)
	}
	if got := msiInstalled(t, w); len(got) != 1 || got[newerCode] != "Upshot" {
		t.Fatalf("installed apps after the refused downgrade: %v, want only %s", got, newerCode)
	}

	// Uninstall: the programs, the shortcut, the folders and the registry
	// values go; so does the entry in the installed apps.
	start = time.Now()
	if _, errs, code := w.Run(t, nil, "msiexec", "/x", winetest.Path(newer.path), "/qn"); code != 0 {
		t.Fatalf("msiexec /x: exit %d\n%s", code, errs)
	}
	t.Logf("msiexec /x took %s", time.Since(start).Round(time.Millisecond))
	for _, f := range append(exes, lnk, w.Host(installDir), w.Host(w.LocalAppData()+`\Programs`)) {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("after uninstall, %s is still there (%v)", f, err)
		}
	}
	if got := msiInstalled(t, w); len(got) != 0 {
		t.Errorf("installed apps after uninstall: %v", got)
	}
	if out, _, code := w.Run(t, nil, "reg", "query", `HKCU\Software\Upshot`); code == 0 {
		t.Errorf(`after uninstall HKCU\Software\Upshot is still there:\n%s`, out)
	}
}

// fyneAppVersion is Details.Version in FyneApp.toml.
func fyneAppVersion(t *testing.T, path string) string {
	t.Helper()
	var meta struct{ Details struct{ Version string } }
	if _, err := toml.DecodeFile(path, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Details.Version == "" {
		t.Fatalf("%s has no Details.Version", path)
	}
	return meta.Details.Version
}

// msiRun runs msiinfo and returns its output.
func msiRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "msiinfo", args...).Output()
	if err != nil {
		t.Fatalf("msiinfo %q: %v", args, err)
	}
	return string(out)
}

// msiTable is an MSI table's rows by their first column, each the other
// columns.
func msiTable(t *testing.T, msi, table string) map[string][]string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(msiRun(t, "export", msi, table), "\r\n"), "\n")
	if len(lines) < 3 {
		t.Fatalf("msiinfo export %s: no header", table)
	}
	rows := map[string][]string{}
	for _, line := range lines[3:] { // names, types, key columns
		cols := strings.Split(strings.TrimRight(line, "\r"), "\t")
		rows[cols[0]] = cols[1:]
	}
	return rows
}

// msiCell is the first value in row key of a table, or "".
func msiCell(table map[string][]string, key string) string {
	if row := table[key]; len(row) > 0 {
		return row[0]
	}
	return ""
}

// msiInstalled is what Wine's list of installed apps (its Add/Remove
// Programs) holds: names by product code. Wine 8.0 writes a per-user
// product's entry under HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall,
// where Windows keeps it in the Installer's data for the user, so the test
// asks the list rather than the registry.
func msiInstalled(t *testing.T, w *winetest.Wine) map[string]string {
	t.Helper()
	out, errs, code := w.Run(t, nil, "uninstaller", "--list")
	if code != 0 {
		t.Fatalf("uninstaller --list: exit %d\n%s", code, errs)
	}
	apps := map[string]string{}
	for line := range strings.Lines(out) {
		product, name, ok := strings.Cut(strings.TrimSpace(line), "|||")
		if ok {
			apps[product] = name
		}
	}
	return apps
}

type msiBuild struct{ path, version string }

// msiNewer builds, with wixl, an MSI one patch version above version from
// scripts/upshot.wxs, the installed programs and the icon inside msi.
func msiNewer(t *testing.T, root, msi, version, installDir string, w *winetest.Wine) msiBuild {
	t.Helper()
	parts := strings.Split(version, ".")
	patch, err := strconv.Atoi(parts[len(parts)-1])
	if err != nil {
		t.Fatalf("version %s: %v", version, err)
	}
	parts[len(parts)-1] = strconv.Itoa(patch + 1)
	newer := msiBuild{version: strings.Join(parts, ".")}
	dir := t.TempDir()
	for _, name := range []string{"upshot.exe", "upshot-desktop.exe"} {
		data, err := os.ReadFile(w.Host(installDir + `\` + name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ico, err := exec.CommandContext(t.Context(), "msiinfo", "extract", msi, "Icon.upshot.ico").Output()
	if err != nil || len(ico) == 0 {
		t.Fatalf("msiinfo extract Icon.upshot.ico: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "upshot.ico"), ico, 0o644); err != nil {
		t.Fatal(err)
	}
	newer.path = filepath.Join(dir, fmt.Sprintf("Upshot-%s-windows-amd64.msi", newer.version))
	cmd := exec.CommandContext(t.Context(), "wixl", "--arch", "x64", "-D", "Name=Upshot", "-D", "Version="+newer.version,
		"-o", newer.path, filepath.Join(root, "scripts", "upshot.wxs"))
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("wixl for %s: %v\n%s", newer.version, err, out)
	}
	return newer
}

// utf16le is s in UTF-16, little-endian, as .lnk files hold names.
func utf16le(s string) []byte {
	b := make([]byte, 0, 2*len(s))
	for _, r := range s {
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}
