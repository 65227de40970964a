#!/usr/bin/env bash
# Builds the phone inbox's WebAssembly module (internal/inbox/wasm) into
# internal/inbox/web/upshot.wasm.gz (gzipped: the binary embeds it, and
# browsers take it so) and copies Go's wasm_exec.js next to it. Both are
# committed and embedded in the binary; the build is reproducible (no
# paths, VCS stamp or build id), and internal/inbox/web's tests fail when
# the committed files differ from a fresh build.
# Usage: scripts/build-wasm.sh   (from anywhere; also run by go generate)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/internal/inbox/web"
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
GOOS=js GOARCH=wasm go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' \
  -o "$tmp/upshot.wasm" ./internal/inbox/wasm
gzip -9 -n -c "$tmp/upshot.wasm" >"$out/upshot.wasm.gz"
cp "$(go env GOROOT)/lib/wasm/wasm_exec.js" "$out/wasm_exec.js"
chmod 0644 "$out/upshot.wasm.gz" "$out/wasm_exec.js"
echo "build-wasm: $(stat -c %s "$tmp/upshot.wasm") bytes, $(stat -c %s "$out/upshot.wasm.gz") gzipped in internal/inbox/web/upshot.wasm.gz" >&2
