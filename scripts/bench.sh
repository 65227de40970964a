#!/usr/bin/env bash
# Runs Upshot's benchmarks: the Go micro-benchmarks (hashing, keys; no
# server), then the end-to-end tool against a local versitygw, compared with
# curl and rclone in the same run. `make bench` installs the pinned tools
# first (scripts/deps.sh bench) and then runs this.
#
# Writes bench-go.txt (raw `go test -bench` output, benchstat-ready) and
# bench-results.md (the Markdown report, also printed). Extra arguments go
# to the benchtool, e.g. scripts/bench.sh -quick, or scripts/bench.sh -only
# watch to run one scenario group (the Go micro-benchmarks are skipped then).
# The watch group's baseline needs inotifywait (Debian: inotify-tools).
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

if ! command -v inotifywait >/dev/null; then
  echo "bench: inotifywait is missing, so the watch group runs without its baseline: run scripts/deps.sh bench" >&2
fi

only=false
for a in "$@"; do
  case "$a" in -only|--only|-only=*|--only=*) only=true ;; esac
done
gobench_args=()
if [ "$only" = false ]; then
  gobench_cmd="go test -run '^\$' -bench . -benchmem -count 6 ./uploader/"
  echo "== $gobench_cmd" >&2
  go test -run '^$' -bench . -benchmem -count 6 ./uploader/ | tee bench-go.txt
  gobench_args=(-gobench bench-go.txt -gobench-cmd "$gobench_cmd")
fi

echo "== go run ./internal/devtools/benchtool -out bench-results.md" >&2
go run ./internal/devtools/benchtool -rclone "$gobin/rclone" "${gobench_args[@]}" -out bench-results.md "$@"

if [ "$only" = false ]; then
  # The window: start-up and idle memory against a bare Fyne window, and
  # the first paint of a 10,000-upload history.
  echo "== go run ./internal/devtools/appbench -runs 5" >&2
  go run ./internal/devtools/appbench -runs 5 | tee bench-app.txt
  echo "== go test -run '^\$' -bench HistoryFirstPaint -count 6 ./app/" >&2
  go test -run '^$' -bench HistoryFirstPaint -count 6 ./app/ | tee -a bench-app.txt
  # How long one batch of a 500-file burst holds the UI thread.
  echo "== go test -run '^\$' -bench BurstBatch -count 3 ./app/" >&2
  go test -run '^$' -bench BurstBatch -count 3 ./app/ | tee -a bench-app.txt
  # The history search box over 10,000 uploads.
  echo "== go test -run '^\$' -bench HistorySearch10k -count 6 ./internal/store/" >&2
  go test -run '^$' -bench HistorySearch10k -count 6 ./internal/store/ | tee -a bench-app.txt
fi
