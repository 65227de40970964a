#!/usr/bin/env bash
# Installs what Upshot's build, tests and demo need, and only what is missing.
# Usage: scripts/deps.sh [build|test|bench|package|run]...
# It is safe to run again: every step checks first.
set -euo pipefail

# Pinned tool versions. Keep these in step with docs/benchmarks.md and the README.
VERSITYGW_VERSION=v1.8.0
STATICCHECK_VERSION=v0.8.2
RCLONE_VERSION=v1.76.0
# Cloudflare's Workers runtime, from npm; the Worker's tests run in it.
WORKERD_VERSION=1.20261117.1

BUILD_PKGS=(gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev)
TEST_PKGS=(openssl curl xvfb xclip xdotool dbus-x11 imagemagick libimage-exiftool-perl webp gnome-keyring libsecret-tools chromium)
# Windows: the window program's cgo cross-build and wixl (Debian ships it
# apart from msitools) for the MSI; and Wine to run the Windows suite.
# Wine is pinned (Debian 12's): the suite names what this version does
# differently from Windows.
PACKAGE_WINDOWS_PKGS=(gcc-mingw-w64-x86-64 msitools wixl)
WINE_VERSION=8.0~repack-4
WINDOWS_PKGS=("${PACKAGE_WINDOWS_PKGS[@]}" "wine=$WINE_VERSION" "wine64=$WINE_VERSION")

gobin() { local b; b=$(go env GOBIN); [ -n "$b" ] || b="$(go env GOPATH)/bin"; echo "$b"; }

log() { printf 'deps: %s\n' "$*" >&2; }

apt_install() {
  local missing=()
  for p in "$@"; do
    # NAME=VERSION: that version, no other.
    if [[ $p == *=* ]]; then
      [ "$(dpkg-query -W -f='${Status} ${Version}' "${p%%=*}" 2>/dev/null)" = "install ok installed ${p#*=}" ] || missing+=("$p")
    else
      dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  log "installing Debian packages: ${missing[*]}"
  if [ ! -f /tmp/.upshot-apt-updated ]; then
    $sudo apt-get update -qq && touch /tmp/.upshot-apt-updated
  fi
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    log "apt-get could not install ${missing[*]} (its reason is above)"
    if [[ "${missing[*]}" == *=* ]]; then
      log "NAME=VERSION packages are pinned to Debian 12's versions; where apt offers another, install the pinned one by hand (apt-get install --allow-downgrades NAME=VERSION), or change the pin in scripts/deps.sh"
    fi
    return 1
  fi
}

# go_tool NAME MODULE_PATH@VERSION: installs a Go command unless the pinned version is there.
go_tool() {
  local name=$1 spec=$2 want=${2##*@} bin
  bin="$(gobin)/$name"
  if [ -x "$bin" ] && go version -m "$bin" 2>/dev/null | grep -q "[[:space:]]mod[[:space:]].*[[:space:]]$want[[:space:]]"; then
    return 0
  fi
  log "installing $spec (first time only; this can take a few minutes)"
  GOFLAGS=-buildvcs=false go install "$spec"
}

# workerd_dir is where the pinned workerd lives: outside the repository,
# one folder per version. The Makefile exports $dir/workerd as UPSHOT_WORKERD.
workerd_dir() { echo "${XDG_CACHE_HOME:-$HOME/.cache}/upshot/workerd-$WORKERD_VERSION"; }

# workerd_install: installs the pinned workerd with npm unless it is there.
# npm leaves the package's postinstall unrun; the binary comes in the
# platform package and needs nothing else.
workerd_install() {
  local dir link arch bin
  dir=$(workerd_dir)
  link="$dir/workerd"
  if [ -x "$link" ] && "$link" --version >/dev/null 2>&1; then
    return 0
  fi
  case "$(uname -m)" in
    x86_64|amd64) arch=64 ;;
    aarch64|arm64) arch=arm64 ;;
    *) log "workerd: no build for $(uname -m); the Worker's tests will not run"; return 1 ;;
  esac
  command -v npm >/dev/null || apt_install nodejs npm
  log "installing workerd $WORKERD_VERSION (npm) into $dir"
  mkdir -p "$dir"
  npm install --no-audit --no-fund --loglevel=error --prefix "$dir" "workerd@$WORKERD_VERSION" >&2
  bin="$dir/node_modules/@cloudflare/workerd-linux-$arch/bin/workerd"
  if [ ! -x "$bin" ] || ! "$bin" --version >/dev/null 2>&1; then
    log "workerd: $bin is missing or does not run after npm install"
    return 1
  fi
  ln -sfn "$bin" "$link"
}

for what in "${@:-build}"; do
  case "$what" in
    build) apt_install "${BUILD_PKGS[@]}" ;;
    test)  apt_install "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}" "${WINDOWS_PKGS[@]}"
           go_tool versitygw "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
           go_tool staticcheck "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
           workerd_install ;;
    bench) apt_install "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}" "${WINDOWS_PKGS[@]}" inotify-tools time
           go_tool versitygw "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
           go_tool rclone "github.com/rclone/rclone@$RCLONE_VERSION"
           workerd_install ;;
    package) apt_install "${BUILD_PKGS[@]}" "${PACKAGE_WINDOWS_PKGS[@]}" imagemagick ;;
    run)   apt_install "${BUILD_PKGS[@]}" xclip curl
           go_tool versitygw "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" ;;
    *) echo "deps: unknown group $what (want build, test, bench, package or run)" >&2; exit 2 ;;
  esac
done
echo "$(gobin)"
