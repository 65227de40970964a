#!/usr/bin/env bash
# Builds the phone inbox's WebAssembly module (internal/inbox/wasm) into
# internal/inbox/web/upshot.wasm and copies Go's wasm_exec.js next to it.
# Both are committed and embedded in the binary; the build is reproducible
# (no paths, VCS stamp or build id), and internal/inbox/web's tests fail
# when the committed files differ from a fresh build.
# Usage: scripts/build-wasm.sh   (from anywhere; also run by go generate)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/internal/inbox/web"
cd "$root"
GOOS=js GOARCH=wasm go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' \
  -o "$out/upshot.wasm" ./internal/inbox/wasm
cp "$(go env GOROOT)/lib/wasm/wasm_exec.js" "$out/wasm_exec.js"
chmod 0644 "$out/upshot.wasm" "$out/wasm_exec.js"
echo "build-wasm: $(stat -c %s "$out/upshot.wasm") bytes in internal/inbox/web/upshot.wasm" >&2
