#!/usr/bin/env bash
# Packages Upshot for Linux and Windows, into OUTDIR (default: dist):
#
#   Upshot-<version>-linux-<arch>.tar.xz holds the window program
#   (./cmd/upshot-desktop, built with Fyne's packaging tool), the command
#   line (./cmd/upshot) beside it, the icon and a .desktop file, with a
#   Makefile to install them (make install, or make user-install).
#
#   Upshot-<version>-windows-amd64.msi installs upshot.exe and
#   upshot-desktop.exe for the current user, with no administrator rights,
#   into %LOCALAPPDATA%\Programs\Upshot, with a Start-menu shortcut to the
#   window and an entry in the installed-apps list that uninstalls it. It is
#   made with wixl (msitools) from scripts/upshot.wxs. The window program is
#   cross-built with cgo through mingw-w64 by the fyne tool, which embeds the
#   icon, a manifest and the version; the command line gets the icon and the
#   version from a resource that windres compiles.
#
# "upshot" with no subcommand starts the window program beside it.
#
# The metadata comes from FyneApp.toml at the repository root. The fyne
# tool reads that file only from the directory of the main package, which
# is cmd/upshot-desktop here, and writes its build files there, so this
# script works on a copy of the source tree: it passes the values on as
# flags and, for the .desktop details that have no flags, puts a copy of
# FyneApp.toml (icon path made absolute) next to the copied main package.
# The repository itself is left as it was.
#
# Usage: scripts/package.sh [--os linux|windows|all] [OUTDIR]
#   --os picks one package; the default, all, makes both.
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")/.."
root=$PWD
FYNE_TOOL=fyne.io/tools/cmd/fyne@v1.7.4
MINGW_CC=x86_64-w64-mingw32-gcc
MINGW_WINDRES=x86_64-w64-mingw32-windres

usage() { echo "usage: scripts/package.sh [--os linux|windows|all] [OUTDIR]" >&2; exit 2; }
targets=all
out=
while [ $# -gt 0 ]; do
  case "$1" in
    --os) [ $# -ge 2 ] || usage; targets=$2; shift 2 ;;
    --os=*) targets=${1#--os=}; shift ;;
    -h|--help) usage ;;
    -*) echo "package: unknown option $1" >&2; usage ;;
    *) [ -z "$out" ] || usage; out=$1; shift ;;
  esac
done
case "$targets" in
  all) targets="linux windows" ;;
  linux|windows) ;;
  *) echo "package: unknown --os $targets (want linux, windows or all)" >&2; exit 2 ;;
esac
out=${out:-$root/dist}
[[ $out == /* ]] || out=$caller/$out

# toml_get SECTION KEY: a string or number value from FyneApp.toml.
toml_get() {
  awk -v section="[$1]" -v key="$2" '
    /^\[/ { in_section = ($0 == section) }
    in_section && $1 == key {
      sub(/^[^=]*=[ \t]*/, ""); gsub(/^"|"[ \t]*$/, ""); print; exit
    }' FyneApp.toml
}
name=$(toml_get Details Name)
id=$(toml_get Details ID)
version=$(toml_get Details Version)
build=$(toml_get Details Build)
icon=$root/$(toml_get Details Icon)
for v in name id version build; do
  [ -n "${!v}" ] || { echo "package: FyneApp.toml has no Details.${v^}" >&2; exit 1; }
done
[ -f "$icon" ] || { echo "package: icon $icon is missing" >&2; exit 1; }
# An MSI's ProductVersion is numbers only, and MajorUpgrade compares the
# first three: checked before anything is built.
case " $targets " in
  *" windows "*)
    [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || {
      echo "package: Details.Version $version in FyneApp.toml is not MAJOR.MINOR.PATCH (numbers only), which the MSI needs" >&2
      exit 1
    } ;;
esac

case " $targets " in
  *" windows "*) scripts/deps.sh package >/dev/null ;;
  *) scripts/deps.sh build >/dev/null ;;
esac
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/upshot-package.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The copy of the source tree the builds run in. With -trimpath, builds
# from it share the Go build cache with builds from the repository.
src=$work/src
mkdir -p "$src"
tar -C "$root" --exclude=./.git --exclude=./dist --exclude=./bin --exclude=./.demo -cf - . | tar -C "$src" -xf -
sed "s|^Icon = .*|Icon = \"$icon\"|" FyneApp.toml >"$src/cmd/upshot-desktop/FyneApp.toml"

# The fyne tool, built for this machine (it cross-builds for Windows when
# run with the mingw-w64 compiler as CC).
fyne=$work/tools/fyne
GOBIN=$work/tools go install "$FYNE_TOOL"

package_linux() {
  local dir=$work/linux archive gui bindir desktop makefile listing dest
  mkdir -p "$dir"
  echo "package: building $name $version ($id) for linux/$(go env GOARCH)" >&2
  # The tool writes the archive into the directory it runs in.
  (cd "$dir" && "$fyne" package --os linux --release \
    --src "$src/cmd/upshot-desktop" --name "$name" --app-id "$id" \
    --app-version "$version" --app-build "$build" --icon "$icon")
  archive=$(find "$dir" -maxdepth 1 -name '*.tar.xz' | head -n 1)
  [ -n "$archive" ] || { echo "package: the fyne tool made no .tar.xz" >&2; exit 1; }

  # The fyne tool names the window program after its folder, upshot-desktop;
  # put the command line, upshot, beside it.
  local unpacked=$dir/unpacked
  mkdir -p "$unpacked"
  tar -xJf "$archive" -C "$unpacked"
  gui=$(find "$unpacked" -path '*/bin/*' -type f | head -n 1)
  [ -n "$gui" ] || { echo "package: no binary in $archive" >&2; exit 1; }
  bindir=$(dirname "$gui")
  [ "$(basename "$gui")" = upshot-desktop ] || { echo "package: the window program is $(basename "$gui"), not upshot-desktop" >&2; exit 1; }
  desktop=$(find "$unpacked" -name '*.desktop' | head -n 1)
  [ -n "$desktop" ] || { echo "package: no .desktop file in $archive" >&2; exit 1; }
  sed -i -E 's|^Exec=.*|Exec=upshot-desktop|' "$desktop"
  # The install Makefile knows only the window program: install the command
  # line the same way.
  makefile=$(find "$unpacked" -maxdepth 2 -name Makefile | head -n 1)
  [ -n "$makefile" ] || { echo "package: no install Makefile in $archive" >&2; exit 1; }
  sed -i -E '/^\t(install|-rm) .*bin\/\$\(Exec\)/{p;s/\$\(Exec\)/upshot/g}' "$makefile"
  (cd "$src" && CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$bindir/upshot" ./cmd/upshot)
  rm -f "$archive"
  (cd "$unpacked" && tar -cJf "$archive" .)

  # Check what went in: both programs and a .desktop entry.
  listing=$(tar -tJf "$archive")
  grep -q '/bin/upshot$' <<<"$listing" || { echo "package: no bin/upshot in $archive" >&2; exit 1; }
  grep -q '/bin/upshot-desktop$' <<<"$listing" || { echo "package: no bin/upshot-desktop in $archive" >&2; exit 1; }
  grep -q '\.desktop$' <<<"$listing" || { echo "package: no .desktop file in $archive" >&2; exit 1; }

  dest=$out/$name-$version-linux-$(go env GOARCH).tar.xz
  mv "$archive" "$dest"
  echo "$dest"
}

package_windows() {
  local dir=$work/windows dest listing f
  mkdir -p "$dir"
  echo "package: building $name $version ($id) for windows/amd64" >&2
  convert "$icon" -define icon:auto-resize=256,64,48,32,16 "$dir/upshot.ico"

  # The window: cgo through mingw-w64, no console (-H=windowsgui, which
  # the tool adds for Windows). The tool builds it in the main package's
  # folder and names it after the app.
  (cd "$src/cmd/upshot-desktop" && CC=$MINGW_CC GOOS=windows GOARCH=amd64 \
    "$fyne" package --os windows --release \
    --src "$src/cmd/upshot-desktop" --name "$name" --app-id "$id" \
    --app-version "$version" --app-build "$build" --icon "$icon")
  [ -f "$src/cmd/upshot-desktop/$name.exe" ] || { echo "package: the fyne tool made no $name.exe" >&2; exit 1; }
  mv "$src/cmd/upshot-desktop/$name.exe" "$dir/upshot-desktop.exe"

  # The command line: no cgo, a console program, with the icon and the
  # version as a resource (Go links a .syso in the main package's folder).
  local v=${version//./,}
  cat >"$dir/upshot.rc" <<EOF
#include <winver.h>
1 ICON "upshot.ico"
1 VERSIONINFO
FILEVERSION $v,$build
PRODUCTVERSION $v,$build
FILEOS VOS_NT_WINDOWS32
FILETYPE VFT_APP
BEGIN
  BLOCK "StringFileInfo"
  BEGIN
    BLOCK "040904B0"
    BEGIN
      VALUE "FileDescription", "$name command line"
      VALUE "FileVersion", "$version.$build"
      VALUE "InternalName", "upshot"
      VALUE "OriginalFilename", "upshot.exe"
      VALUE "ProductName", "$name"
      VALUE "ProductVersion", "$version.$build"
    END
  END
  BLOCK "VarFileInfo"
  BEGIN
    VALUE "Translation", 0x0409, 1200
  END
END
EOF
  (cd "$dir" && "$MINGW_WINDRES" -O coff -i upshot.rc -o "$src/cmd/upshot/upshot_windows_amd64.syso")
  (cd "$src" && GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X main.version=$version" -o "$dir/upshot.exe" ./cmd/upshot)

  # wixl takes the files from the folder it runs in.
  dest=$out/$name-$version-windows-amd64.msi
  (cd "$dir" && wixl --arch x64 -D Name="$name" -D Version="$version" -o "$dest" "$root/scripts/upshot.wxs")

  # Check what went in: both programs and the Start-menu shortcut.
  listing=$(msiinfo export "$dest" File)
  for f in upshot.exe upshot-desktop.exe; do
    grep -q "[[:space:]]${f}[[:space:]]" <<<"$listing" || { echo "package: no $f in $dest" >&2; exit 1; }
  done
  msiinfo export "$dest" Shortcut | grep -q 'upshot-desktop\.exe' || { echo "package: no shortcut to upshot-desktop.exe in $dest" >&2; exit 1; }
  echo "$dest"
}

for target in $targets; do
  "package_$target"
done
