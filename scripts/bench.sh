#!/usr/bin/env bash
# Runs Upshot's benchmarks and writes bench-results.md (also printed).
#
# End to end: the benchmarks in cmd/upshot/bench_linux_test.go (the real
# upshot binary against versitygw on loopback) alternate, round by round,
# with scripts/baselines.sh (curl, rclone, inotifywait | rclone copyto,
# each round on a fresh versitygw started by internal/devtools/s3env), so
# that both share the machine's noise. Then the Go micro-benchmarks
# (./uploader/) and the window's benchmarks, and the Windows build's 1 MB
# upload under Wine next to the Linux binary's. `make bench` installs the
# pinned tools first (scripts/deps.sh bench) and then runs this.
#
# Usage: scripts/bench.sh [-quick] [-only GROUP,...]
#   -quick  fewer rounds, a 256 MiB large file, a burst of 500: a quick
#           look, not for the record
#   -only   some of: 1mb many wan big watch burst go app phone capture cdn
#           windows
#
# Writes bench-raw.txt (every benchmark line, Upshot's and the baselines',
# benchstat-ready), bench-go.txt, bench-app.txt and bench-results.md: the
# targets, the comparisons and every figure's median over the runs.
set -euo pipefail
cd "$(dirname "$0")/.."

cmdline="scripts/bench.sh${*:+ $*}" quick=false only=all
while [ $# -gt 0 ]; do
  case $1 in
    -quick | --quick) quick=true ;;
    -only | --only) only=${2:?-only needs groups} && shift ;;
    *) echo "usage: scripts/bench.sh [-quick] [-only 1mb,many,wan,big,watch,burst,go,app,phone,capture,cdn,windows]" >&2 && exit 2 ;;
  esac
  shift
done
want() { [ "$only" = all ] || [[ ,$only, == *,$1,* ]]; }

gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
export UPSHOT_VERSITYGW=${UPSHOT_VERSITYGW:-$gobin/versitygw} RCLONE=${RCLONE:-$gobin/rclone} LANG=C.UTF-8
for tool in "$UPSHOT_VERSITYGW" "$RCLONE" /usr/bin/time "$(command -v inotifywait || echo inotifywait)" "$(command -v curl || echo curl)"; do
  [ -x "$tool" ] || { echo "bench: $tool is missing: run scripts/deps.sh bench (or make bench)" >&2 && exit 1; }
done
if want windows; then
  for tool in wine x86_64-w64-mingw32-gcc; do
    command -v $tool >/dev/null || { echo "bench: $tool is missing: run scripts/deps.sh bench (or make bench)" >&2 && exit 1; }
  done
fi

# Runs per side: 1 MB uploads (rounds × 3), many files, large file, watch
# (rounds × renames, and as many copies), bursts, Wine (runs × uploads).
if $quick; then
  r1mb=2 rmany=2 rbig=1 rwatch=1 renames=30 rburst=1 gocount=3 rwine=2 nwine=3
  export UPSHOT_BENCH_BIG=256MiB UPSHOT_BENCH_BURST=500 UPSHOT_BENCH_BURST_CAP=20
else
  r1mb=7 rmany=5 rbig=3 rwatch=3 renames=100 rburst=3 gocount=6 rwine=5 nwine=5
  export UPSHOT_BENCH_BIG=1GiB UPSHOT_BENCH_BURST=2000 UPSHOT_BENCH_BURST_CAP=60
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
raw=bench-raw.txt
: >"$raw"
started=$(date +%s) load0=$(cut -d' ' -f1 /proc/loadavg)

# upshot BENCH BENCHTIME COUNT: cmd/upshot's benchmarks matching BENCH.
upshot() {
  echo "== go test -run '^\$' -bench '$1' -benchtime $2 -count $3 ./cmd/upshot/" >&2
  (cd cmd/upshot && "$work/upshot.test" -test.run '^$' -test.bench "$1" -test.benchtime "$2" -test.count "$3" -test.timeout 30m) >"$work/out" ||
    { cat "$work/out" >&2 && exit 1; }
  grep '^Benchmark' "$work/out" | tee -a "$raw"
}

# baseline [-latency D] SCENARIO RUNS: scripts/baselines.sh on a fresh server.
baseline() {
  echo "== s3env $* (scripts/baselines.sh)" >&2
  local args=("$@")
  "$work/s3env" "${args[@]:0:$#-2}" scripts/baselines.sh "${args[@]: -2}" | tee -a "$raw"
}

# rounds N 'UPSHOT ARGS' 'BASELINE ARGS': Upshot goes first in odd rounds,
# the baseline in even ones.
rounds() {
  local r
  for ((r = 1; r <= $1; r++)); do
    echo "== round $r of $1" >&2
    # shellcheck disable=SC2086 # the arguments are lists of words
    if ((r % 2)); then
      upshot $2
      baseline $3
    else
      baseline $3
      upshot $2
    fi
  done
}

if want 1mb || want many || want wan || want big || want watch || want burst || want windows; then
  echo "== building the benchmarks" >&2
  go test -c -o "$work/upshot.test" ./cmd/upshot/
  go build -o "$work/s3env" ./internal/devtools/s3env
fi
if want 1mb; then rounds $r1mb 'Upload1MB$|Version$ 1x 3' '1mb 3'; fi
if want many; then rounds $rmany 'UploadMany/rtt=0ms 1x 1' 'many 1'; fi
if want wan; then rounds $rmany 'UploadMany/rtt=10ms 1x 1' '-latency 10ms many 1'; fi
if want big; then rounds $rbig 'UploadBig 1x 1' 'big 1'; fi
if want watch; then rounds $rwatch "WatchRename\$|WatchCopy\$ ${renames}x 1" "watch $renames"; fi
if want burst; then # the baseline, capped, bursts once
  rounds 1 'WatchBurst 1x 1' 'burst 1'
  if ((rburst > 1)); then upshot WatchBurst 1x $((rburst - 1)); fi
fi
took=$(($(date +%s) - started))

if want windows; then
  # upshot.exe under Wine and the Linux binary, alternating upload by
  # upload against one versitygw, each run in a fresh Wine prefix: a
  # sanity figure for the Windows build, not a target.
  UPSHOT_REQUIRE_WINE=1 upshot 'Upload1MBWine$' "${nwine}x" "$rwine"
fi

gocmd="go test -run '^\$' -bench . -benchmem -count $gocount ./uploader/"
if want go; then
  echo "== $gocmd" >&2
  go test -run '^$' -bench . -benchmem -count $gocount ./uploader/ | tee bench-go.txt | tee -a "$raw"
fi

if want app; then
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

if want phone; then
  # The phone inbox in Chromium against the real desktop and bucket: a 5 MB
  # photo from pick to link, step by step, as the page times it.
  echo "== go test -run '^\$' -bench PhoneUpload5MB -count 3 ./internal/inbox/" >&2
  go test -run '^$' -bench PhoneUpload5MB -count 3 ./internal/inbox/ | tee bench-phone.txt | tee -a "$raw"
fi

if want capture; then
  # The real window program under Xvfb: the screen-capture hotkey (xdotool)
  # to the link on the clipboard (xclip), and the capture tool's own time
  # for the same capture, measured in the same run.
  echo "== go test -run '^\$' -bench HotkeyToLink -benchtime 10x -count 3 ./app/" >&2
  go test -run '^$' -bench HotkeyToLink -benchtime 10x -count 3 ./app/ | tee bench-capture.txt | tee -a "$raw"
fi

if want cdn; then
  # A private bucket's Worker in workerd, Cloudflare's runtime, in front of
  # versitygw: time to first byte of a 200 KB object, through the Worker
  # and direct, in the same run.
  echo "== go test -run '^\$' -bench FirstByte -count 3 ./internal/cdn/worker/" >&2
  go test -run '^$' -bench FirstByte -count 3 ./internal/cdn/worker/ | tee bench-cdn.txt | tee -a "$raw"
fi

# Medians: "name unit median min max runs" per figure, in order of first
# appearance (names without Go's -GOMAXPROCS suffix).
awk '/^Benchmark/ && NF % 2 == 0 {
    name = substr($1, 10); sub(/-[0-9]+$/, "", name)
    for (i = 3; i < NF; i += 2) { k = name " " $(i + 1); if (!(k in idx)) idx[k] = ++n; print idx[k], k, $i }
  }' "$raw" | sort -k1,1n -k4,4g | awk '
  function flush() { if (c) printf "%s %s %s %s %d\n", prev, c % 2 ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2, v[1], v[c], c }
  { k = $2 " " $3; if (k != prev) { flush(); prev = k; c = 0 } v[++c] = $4 }
  END { flush() }' >"$work/medians"

ver() { local v; v=$("$@" 2>/dev/null) || true; v=${v%%$'\n'*}; echo "${v:-unknown}"; }
{
  echo "# Upshot benchmark results"
  echo
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`$cmdline\`."
  echo "Upshot's benchmarks and the baselines ran in alternating rounds (Upshot first in odd rounds), each round on a fresh versitygw; every figure is the median over the runs, with min–max. MB = 10^6 bytes."
  if $quick; then printf '\n**-quick run: fewer runs, a smaller large file and burst; not for the record.**\n'; fi
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| Machine | nproc $(nproc) · $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) · $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 2^20 }' /proc/meminfo) RAM · kernel $(uname -r) |"
  echo "| Go | $(go version) |"
  echo "| Upshot | built from ./cmd/upshot at $(git describe --always --dirty 2>/dev/null || echo unknown) (\`go test -c ./cmd/upshot/\`; TestMain builds the binary) |"
  echo "| Server | versitygw $(go version -m "$UPSHOT_VERSITYGW" 2>/dev/null | awk '$1 == "mod" { print $3 }') (posix backend), on 127.0.0.1 |"
  echo "| rclone | $(ver "$RCLONE" version) |"
  echo "| curl | $(ver curl --version | cut -d' ' -f1-2) |"
  if want go; then echo "| Go micro-benchmarks | \`$gocmd\` |"; fi
  if want windows; then echo "| Wine | $(ver wine --version) (WINEARCH=win64, a fresh prefix per run; upshot.exe built by \`go build\` for windows/amd64, as the Linux binary is for linux) |"; fi
  echo "| Load average (1 min) | $load0 at start, $(cut -d' ' -f1 /proc/loadavg) at end (other work on the machine widens the spread) |"
  echo "| Peak RSS | GNU time's %M (the child's own ru_maxrss; Go's vfork-based exec would count the test binary's resident set in it) for uploads (under Wine: the Windows process's own, not the wineserver's) and the baselines, whose times include GNU time's start; VmRSS/VmHWM from /proc for \`upshot watch\` |"
  echo "| Took | $((took / 60))m$((took % 60))s (end-to-end rounds) |"
  echo
} >"$work/head"
awk -v burst="$UPSHOT_BENCH_BURST" -f scripts/bench-report.awk "$work/medians" >"$work/body"
cat "$work/head" "$work/body" | tee bench-results.md
