#!/usr/bin/env bash
# Runs Upshot's benchmarks: the Go micro-benchmarks (hashing, keys; no
# server), then the end-to-end tool against a local versitygw, compared with
# curl and rclone in the same run. `make bench` installs the pinned tools
# first (scripts/deps.sh bench) and then runs this.
#
# Writes bench-go.txt (raw `go test -bench` output, benchstat-ready) and
# bench-results.md (the Markdown report, also printed). Extra arguments go
# to the benchtool, e.g. scripts/bench.sh -quick.
set -euo pipefail
cd "$(dirname "$0")/.."

gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
export UPSHOT_VERSITYGW="${UPSHOT_VERSITYGW:-$gobin/versitygw}"
export LANG=C.UTF-8
for tool in "$UPSHOT_VERSITYGW" "$gobin/rclone"; do
  if [ ! -x "$tool" ]; then
    echo "bench: $tool is missing: run scripts/deps.sh bench (or make bench)" >&2
    exit 1
  fi
done

gobench_cmd="go test -run '^\$' -bench . -benchmem -count 6 ./uploader/"
echo "== $gobench_cmd" >&2
go test -run '^$' -bench . -benchmem -count 6 ./uploader/ | tee bench-go.txt

echo "== go run ./internal/benchtool -out bench-results.md" >&2
go run ./internal/benchtool -rclone "$gobin/rclone" -gobench bench-go.txt \
  -gobench-cmd "$gobench_cmd" -out bench-results.md "$@"
