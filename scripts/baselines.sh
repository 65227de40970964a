#!/usr/bin/env bash
# The baselines Upshot is measured against: a bare SigV4 PUT with curl,
# rclone, and the common Linux recipe for watching a folder (inotifywait
# piped into one rclone copyto per file). It prints Go benchmark lines,
# "BenchmarkBaselineXxx 1 value unit ...", one per run, so that the figures
# of cmd/upshot's benchmarks and these are read alike.
#
# Usage, against a fresh versitygw (scripts/bench.sh does this):
#   go run ./internal/devtools/s3env [-latency 10ms] scripts/baselines.sh SCENARIO [RUNS]
# SCENARIO: 1mb (RUNS uploads of a 1 MB file with curl and rclone copyto),
# many (200 × 200 KB with rclone copy at --transfers 1, 4, 8, 16), big
# (a large file with rclone copyto, default and 100M chunks), watch (RUNS
# renames of a 1 MB file into a watched folder, then RUNS copies with cp),
# burst (one burst of small files into a watched folder).
# Knobs: RCLONE (the rclone binary), UPSHOT_BENCH_BIG (default 1GiB),
# UPSHOT_BENCH_BURST (files, default 2000), UPSHOT_BENCH_BURST_CAP (seconds
# the burst may take, default 60).
#
# Wall times come from $EPOCHREALTIME, CPU times from the shell's `times`
# (children, user+system), peak RSS from GNU time (%M), which each timed
# command runs under, as Upshot's do on the Go side.
set -euo pipefail

scenario=${1:?usage: baselines.sh 1mb|many|big|watch|burst [RUNS]}
runs=${2:-1}
: "${S3_ENDPOINT:?run under go run ./internal/devtools/s3env}"
rclone=${RCLONE:-rclone}
tmp=$(mktemp -d)
wpid=
trap 'stop_watcher; rm -rf "$tmp"' EXIT

export LC_ALL=C NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
export RCLONE_CONFIG=$tmp/rclone.conf RCLONE_S3_PROVIDER=Other RCLONE_S3_ENDPOINT=$S3_ENDPOINT \
  RCLONE_S3_REGION=$S3_REGION RCLONE_S3_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID \
  RCLONE_S3_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY RCLONE_S3_NO_CHECK_BUCKET=true
: >"$tmp/rclone.conf"
remote=":s3:$S3_BUCKET"
page_kb=$(($(getconf PAGESIZE) / 1024))

# srv_ticks: the server's CPU time so far, in 10 ms ticks, into $ticks.
srv_ticks() {
  local -a f
  read -r -a f <"/proc/$S3_SERVER_PID/stat"
  ticks=$((f[13] + f[14]))
}

# timed CMD...: runs CMD under GNU time; sets wall_ms, cpu_ms, srv_ms, rss_mb.
timed() {
  local t0 t1 s0
  srv_ticks
  s0=$ticks
  times >"$tmp/cpu0"
  t0=$EPOCHREALTIME
  /usr/bin/time -f %M -o "$tmp/rss" "$@" >/dev/null
  t1=$EPOCHREALTIME
  times >"$tmp/cpu1"
  srv_ticks
  read -r wall_ms cpu_ms srv_ms rss_mb < <(awk -v t0="$t0" -v t1="$t1" -v st=$((ticks - s0)) '
    function sec(s) { split(s, p, /[ms]/); return p[1] * 60 + p[2] }
    FNR == 2 { split($0, f, " "); c[FILENAME] = sec(f[1]) + sec(f[2]) }
    END { while ((getline x < rss) > 0) m = x; printf "%.3f %.3f %.1f %.2f\n", (t1 - t0) * 1e3, (c[b] - c[a]) * 1e3, st * 10, m * 1024 / 1e6 }
  ' a="$tmp/cpu0" b="$tmp/cpu1" rss="$tmp/rss" "$tmp/cpu0" "$tmp/cpu1")
}

# line NAME FIGURE...: prints one benchmark line.
line() { local name=$1; shift; printf 'BenchmarkBaseline%s\t1\t%s\n' "$name" "$*"; }

# count PREFIX: objects under PREFIX (the posix backend keeps one file per
# object), which it then removes from the server's disk.
count() {
  find "$S3_DIR/$S3_BUCKET/$1" -type f 2>/dev/null | wc -l
  rm -rf "${S3_DIR:?}/$S3_BUCKET/$1"
}

# A bare SigV4-signed PUT: the least any client can do.
curl_put=(curl -sS --fail -o /dev/null -H 'Expect:' --aws-sigv4 "aws:amz:$S3_REGION:s3"
  --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD')

# One 1 MB file per run, fresh content and name, alternating the tools.
bench_1mb() {
  local i tool
  head -c 1000 /dev/urandom >"$tmp/warm"
  "${curl_put[@]}" -T "$tmp/warm" "$S3_ENDPOINT/$S3_BUCKET/lat/warm-curl"
  "$rclone" copyto "$tmp/warm" "$remote/lat/warm-rclone"
  for ((i = 1; i <= runs; i++)); do
    for tool in curl rclone; do
      head -c 1000000 /dev/urandom >"$tmp/f.bin"
      sync "$tmp/f.bin"
      if [ $tool = curl ]; then
        timed "${curl_put[@]}" -T "$tmp/f.bin" "$S3_ENDPOINT/$S3_BUCKET/lat/curl-$i.bin"
        line CurlPut1MB "$wall_ms ms/upload $cpu_ms cpu-ms/op $srv_ms srv-cpu-ms/op $rss_mb peak-rss-MB"
      else
        timed "$rclone" copyto "$tmp/f.bin" "$remote/lat/rclone-$i.bin"
        line RcloneCopyto1MB "$wall_ms ms/upload $cpu_ms cpu-ms/op $srv_ms srv-cpu-ms/op $rss_mb peak-rss-MB"
      fi
    done
  done
  [ "$(count lat)" -eq $((2 * runs + 2)) ] || { echo "baselines: objects missing" >&2; exit 1; }
}

# 200 × 200 KB with rclone copy, one process per run, at each --transfers.
bench_many() {
  local i t
  mkdir "$tmp/many"
  head -c 40000000 /dev/urandom | split -b 200000 -a 4 -d - "$tmp/many/img-"
  sync "$tmp/many"/*
  "$rclone" copyto "$tmp/many/img-0000" "$remote/many-warm/img-0000"
  count many-warm >/dev/null
  for ((i = 1; i <= runs; i++)); do
    for t in 1 4 8 16; do
      timed "$rclone" copy "$tmp/many" "$remote/many-$t-$i" --transfers $t
      [ "$(count "many-$t-$i")" -eq 200 ] || { echo "baselines: objects missing" >&2; exit 1; }
      line "RcloneCopyMany/rtt=${S3_LATENCY_MS}ms/conc=$t" "$wall_ms ms/op $cpu_ms cpu-ms/op $srv_ms srv-cpu-ms/op $rss_mb peak-rss-MB" \
        "$(awk -v w="$wall_ms" 'BEGIN { printf "%.1f", 200 / w * 1e3 }') files/s"
    done
  done
}

# A large file, read from the page cache, with rclone's default chunks and
# with 100 MB chunks like Upshot's parts.
bench_big() {
  local size i chunk mb
  size=${UPSHOT_BENCH_BIG:-1GiB}
  size=$(numfmt --from=auto "${size%B}") # 1Gi is 2^30 and 1G is 10^9, as for Upshot
  head -c "$size" /dev/urandom >"$tmp/big.bin"
  sync "$tmp/big.bin"
  for ((i = 1; i <= runs; i++)); do
    for chunk in 5Mi 100M; do
      timed "$rclone" copyto "$tmp/big.bin" "$remote/big/big.bin" --s3-chunk-size $chunk
      [ "$(count big)" -eq 1 ] || { echo "baselines: object missing" >&2; exit 1; }
      mb=$(awk -v s="$size" -v w="$wall_ms" 'BEGIN { printf "%.1f", s / 1e6 / w * 1e3 }')
      line "RcloneCopytoBig/chunk=$chunk" "$mb MB/s $wall_ms ms/op $cpu_ms cpu-ms/op $srv_ms srv-cpu-ms/op $rss_mb peak-rss-MB"
    done
  done
}

# The recipe under test: every file closed after writing or moved into
# $DIR is copied with its own rclone; the echo marks when a link could be
# printed.
# shellcheck disable=SC2016 # expanded by the recipe's own shell
recipe='inotifywait -m -e close_write -e moved_to --format "%w%f" "$DIR" 2>"$ERR" |
  while IFS= read -r f; do "$RCLONE" copyto "$f" "$REMOTE/${f##*/}" && printf "%s\n" "$f"; done'

# start_watcher PREFIX: runs the recipe under GNU time in a process group
# of its own (id $wpid) on a fresh $wdir; its lines come on fd 3.
start_watcher() {
  local i
  command -v inotifywait >/dev/null || { echo "baselines: inotifywait is missing: run scripts/deps.sh bench" >&2 && exit 1; }
  w=$tmp/$1 wdir=$tmp/$1/in wsrc=$tmp/$1/src
  mkdir -p "$wdir" "$wsrc"
  mkfifo "$w/out"
  DIR=$wdir ERR=$w/err RCLONE=$rclone REMOTE=$remote/$1 \
    setsid /usr/bin/time -f %M -o "$w/rss" bash -c "$recipe" >"$w/out" 2>"$w/log" &
  wpid=$!
  exec 3<"$w/out"
  for ((i = 0; i < 600; i++)); do
    grep -qs 'Watches established' "$w/err" && return
    sleep 0.05
  done
  echo "baselines: inotifywait did not start" >&2
  exit 1
}

# group PGID: sums over the recipe's processes (GNU time, the leader, left
# out) their CPU time, reaped children included, into $g_ticks and their
# resident sets into $g_rss_kb; $g_below lists all but the recipe's shell.
group() {
  local f s
  local -a p
  g_ticks=0 g_rss_kb=0 g_below=()
  for f in /proc/[0-9]*/stat; do
    { read -r s <"$f"; } 2>/dev/null || continue
    read -r -a p <<<"${s##*) }"
    if [ "${p[2]}" != "$1" ] || [ "${f//[^0-9]/}" = "$1" ]; then continue; fi
    g_ticks=$((g_ticks + p[11] + p[12] + p[13] + p[14]))
    g_rss_kb=$((g_rss_kb + p[21] * page_kb))
    [ "${p[1]}" = "$1" ] || g_below+=("${f//[^0-9]/}")
  done
}

# stop_watcher: ends the recipe as a user would (the watch and the loop
# stop, the shell exits) so that GNU time reports its peak RSS into
# $peak_mb.
stop_watcher() {
  [ -n "$wpid" ] || return 0
  group "$wpid"
  [ ${#g_below[@]} -eq 0 ] || kill "${g_below[@]}" 2>/dev/null || true
  wait "$wpid" 2>/dev/null || true
  kill -KILL -- "-$wpid" 2>/dev/null || true
  exec 3<&-
  peak_mb=$(awk 'END { printf "%.1f", $NF * 1024 / 1e6 }' "$w/rss" 2>/dev/null || echo 0)
  wpid=
}

# await NAME: waits for the recipe's line for NAME.
await() {
  local l
  while read -r -t 120 -u 3 l; do [ "${l##*/}" = "$1" ] && return; done
  echo "baselines: $1 was not reported; the recipe said:" >&2
  tail -n 20 "$w/log" >&2
  exit 1
}

# pct FILE: p50 p90 p99 max min of the numbers in FILE, interpolated
# between ranks.
pct() {
  sort -g "$1" | awk '{ v[NR] = $1 }
    function p(q,  x, i) { x = q / 100 * (NR - 1) + 1; i = int(x); return i >= NR ? v[NR] : v[i] + (x - i) * (v[i + 1] - v[i]) }
    END { printf "%.2f p50-ms %.2f p90-ms %.2f p99-ms %.2f max-ms %.2f min-ms", p(50), p(90), p(99), v[NR], v[1] }'
}

# Renames of a fresh 1 MB file into the watched folder, timed from mv's
# exit (just after rename(2), which slightly favours the recipe) to its
# line; then copies with cp, from cp's start and from its exit.
bench_watch() {
  local i n t0 t1 c0 idle
  start_watcher watch
  sleep 3
  group "$wpid"
  idle=$(awk -v k=$g_rss_kb 'BEGIN { printf "%.1f", k * 1024 / 1e6 }')
  : >"$tmp/rename" && : >"$tmp/cpstart" && : >"$tmp/cpexit"
  for ((i = -2; i <= runs; i++)); do # three warm-ups, as Upshot gets
    [ $i -ne 1 ] || { group "$wpid"; c0=$g_ticks; }
    n=shot-$((i + 3)).png
    head -c 1000000 /dev/urandom >"$wsrc/$n"
    mv "$wsrc/$n" "$wdir/$n"
    t0=$EPOCHREALTIME
    await "$n"
    t1=$EPOCHREALTIME
    [ $i -lt 1 ] || echo "$t0 $t1" >>"$tmp/rename"
  done
  group "$wpid"
  line WatchRename "$(pct <(awk '{ print ($2 - $1) * 1e3 }' "$tmp/rename")) $(((g_ticks - c0) * 10 / runs)) cpu-ms/file $idle idle-rss-MB"
  c0=$g_ticks
  for ((i = 1; i <= runs; i++)); do
    n=cp-$i.png
    head -c 1000000 /dev/urandom >"$wsrc/$n"
    sync "$wsrc/$n"
    t0=$EPOCHREALTIME
    cp "$wsrc/$n" "$wdir/$n"
    t1=$EPOCHREALTIME
    await "$n"
    echo "$t0 $t1 $EPOCHREALTIME" >>"$tmp/cp"
  done
  group "$wpid"
  line WatchCopy "$(pct <(awk '{ print ($3 - $2) * 1e3 }' "$tmp/cp"))" \
    "$(pct <(awk '{ print ($3 - $1) * 1e3 }' "$tmp/cp") | cut -d' ' -f1) start-p50-ms $(((g_ticks - c0) * 10 / runs)) cpu-ms/file"
  stop_watcher
  [ "$(count watch)" -eq $((2 * runs + 3)) ] || { echo "baselines: objects missing" >&2; exit 1; }
}

# A burst of small files copied into the watched folder by one cp, until
# every file is reported or the cap.
bench_burst() {
  local n=${UPSHOT_BENCH_BURST:-2000} cap=${UPSHOT_BENCH_BURST_CAP:-60} got=0 dups=0 capped=0
  local t0 tw last left tmo l c0 s0 objects
  local -A seen=()
  start_watcher burst
  head -c 2000 /dev/urandom >"$wsrc/warm.png"
  mv "$wsrc/warm.png" "$wdir/"
  await warm.png
  mkdir "$tmp/files"
  head -c $((n * 2000)) /dev/urandom | split -b 2000 -a 5 -d --additional-suffix=.png - "$tmp/files/burst-"
  group "$wpid"
  c0=$g_ticks
  srv_ticks
  s0=$ticks
  t0=${EPOCHREALTIME/./}
  cp "$tmp/files/"* "$wdir/"
  tw=${EPOCHREALTIME/./} last=$t0
  while ((got < n)); do
    left=$((t0 + cap * 1000000 - ${EPOCHREALTIME/./}))
    ((left > 0)) || { capped=1 && break; }
    printf -v tmo '%d.%06d' $((left / 1000000)) $((left % 1000000))
    read -r -t "$tmo" -u 3 l || { capped=1 && break; }
    l=${l##*/}
    if [ -n "${seen[$l]:-}" ]; then dups=$((dups + 1)); else seen[$l]=1 got=$((got + 1)) last=${EPOCHREALTIME/./}; fi
  done
  if ((capped)); then
    last=$((t0 + cap * 1000000))
  else
    while read -r -t 1 -u 3 l; do dups=$((dups + 1)); done
  fi
  group "$wpid"
  srv_ticks
  local cpu=$(((g_ticks - c0) * 10)) srv=$(((ticks - s0) * 10))
  stop_watcher
  objects=$(($(count burst) - 1))
  line WatchBurst "$(awk -v g=$got -v d=$((last - t0)) 'BEGIN { printf "%.1f files/s %.0f ms/op", g / d * 1e6, d / 1e3 }')" \
    "$(((tw - t0) / 1000)) write-ms $got reported $dups dups $objects objects $capped capped" \
    "$cpu cpu-ms/op $srv srv-cpu-ms/op $peak_mb peak-rss-MB"
}

case $scenario in
  1mb | many | big | watch | burst) "bench_$scenario" ;;
  *) echo "baselines: unknown scenario $scenario" >&2; exit 2 ;;
esac
