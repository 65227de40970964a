#!/usr/bin/env bash
# Packages Upshot for Linux: dist/Upshot.tar.xz, holding the binary, the
# icon and a .desktop file, with a Makefile to install them (make install,
# or make user-install). It builds the window program ./cmd/upshot-desktop
# with Fyne's packaging tool and adds the command line, ./cmd/upshot, beside
# it ("upshot" with no subcommand starts the window).
#
# The metadata comes from FyneApp.toml at the repository root. The fyne
# tool reads that file only from the directory of the main package, which
# is cmd/upshot-desktop here, so this script passes the values on as flags and, for
# the .desktop details that have no flags, puts a copy of the file (icon
# path made absolute) next to the main package while the tool runs.
#
# Usage: scripts/package.sh [OUTDIR]   (default: dist)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${1:-$root/dist}
FYNE_TOOL=fyne.io/tools/cmd/fyne@v1.7.4

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

scripts/deps.sh build >/dev/null
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/upshot-package.XXXXXX")
staged=$root/cmd/upshot-desktop/FyneApp.toml
if [ -e "$staged" ]; then
  echo "package: $staged exists; remove it: the root FyneApp.toml is the one to edit" >&2
  exit 1
fi
trap 'rm -rf "$work"; rm -f "$staged" "$root/cmd/upshot-desktop/upshot-desktop" "$root/cmd/upshot-desktop/upshot"' EXIT
sed "s|^Icon = .*|Icon = \"$icon\"|" FyneApp.toml >"$staged"

echo "package: building $name $version ($id) for linux/$(go env GOARCH)" >&2
# The tool writes the archive into the directory it runs in.
(cd "$work" && go run "$FYNE_TOOL" package --os linux --release \
  --src "$root/cmd/upshot-desktop" --name "$name" --app-id "$id" \
  --app-version "$version" --app-build "$build" --icon "$icon")
archive=$(find "$work" -maxdepth 1 -name '*.tar.xz' | head -n 1)
[ -n "$archive" ] || { echo "package: the fyne tool made no .tar.xz" >&2; exit 1; }

# The fyne tool names the window program after its folder, upshot-desktop;
# put the command line, upshot, beside it.
unpacked=$work/unpacked
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
CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$bindir/upshot" ./cmd/upshot
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
