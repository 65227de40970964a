#!/usr/bin/env bash
# Starts Upshot. With no config, it first starts a local S3-compatible
# server with a demo bucket and points Upshot at it, uploads a sample image
# and shows that its link serves the same bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=bin/upshot

config=${UPSHOT_CONFIG:-${XDG_CONFIG_HOME:-$HOME/.config}/upshot/config.toml}
if [ -f "$config" ]; then
  exec "$bin" "$@"
fi

demo=$(mktemp -d "${TMPDIR:-/tmp}/upshot-demo.XXXXXX")
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$demo"
}
trap cleanup EXIT

echo "No config at $config: starting a local demo server (your files stay on this machine)."
go build -o "$demo/demoserver" ./internal/devtools/demoserver
"$demo/demoserver" -dir "$demo" -config "$demo/config.toml" >"$demo/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
  [ -f "$demo/config.toml" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$demo/server.log" >&2; exit 1; }
  sleep 0.1
done
[ -f "$demo/config.toml" ] || { echo "the demo server did not start:" >&2; cat "$demo/server.log" >&2; exit 1; }
cat "$demo/server.log"

export UPSHOT_CONFIG="$demo/config.toml" UPSHOT_DATA_DIR="$demo/data"
echo
echo "\$ upshot check"
"$bin" check
echo
echo "\$ upshot upload assets/icon.png"
link=$("$bin" upload assets/icon.png)
echo "$link"
if curl -fsS "$link" | cmp -s - assets/icon.png; then
  echo "Fetched $link: the same bytes as assets/icon.png."
fi
echo
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display here, so no window: the command line above works without one (bin/upshot help)."
  echo "On a desktop, make run opens the window against this demo server."
  exit 0
fi
echo "Opening the window (the demo server stops when you quit Upshot)."
"$bin" "$@"
