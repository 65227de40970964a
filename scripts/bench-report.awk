# Writes the body of bench-results.md: the targets, the comparisons and a
# table of every figure. scripts/bench.sh runs it on the medians it takes
# of the benchmark lines: "NAME UNIT MEDIAN MIN MAX RUNS" per figure, in
# order of first appearance. Set burst (files in a burst) with -v.

{
	med[$1, $2] = $3; lo[$1, $2] = $4; hi[$1, $2] = $5; runs[$1, $2] = $6
	if (!($1 in seen)) { seen[$1] = 1; names[++nn] = $1 }
	nu[$1]++; units[$1, nu[$1]] = $2
}

function has(n, u) { return (n, u) in med }
function m(n, u) { return has(n, u) ? med[n, u] : 0 }
function f1(x) { return sprintf("%.1f", x) }
function f2(x) { return sprintf("%.2f", x) }

# target: one row of the targets table; measured is shown when known.
function target(what, known, measured, met) {
	printf "| %s | %s | %s |\n", what, known ? measured : "–", !known ? "not measured" : met ? "**yes**" : "**NO**"
}

# span: a figure's min–max over the runs, or its one value.
function span(n, u) { return lo[n, u] == hi[n, u] ? num(lo[n, u]) : num(lo[n, u]) "–" num(hi[n, u]) }

# ratio: "a/b× (a vs b unit)" of two medians.
function ratio(a, b, unit, fmt) { return sprintf("%.2f× (" fmt " vs " fmt " %s)", a / b, a, b, unit) }

# many: the three targets of the many-files run at one added latency.
function many(rtt, label,   up, rc, c, best, bc) {
	up = "UploadMany/rtt=" rtt "/conc="; rc = "BaselineRcloneCopyMany/rtt=" rtt "/conc="
	target(label ": default concurrency ≥ 3× one by one", has(up 4, "files/s") && has(up 1, "files/s"),
		ratio(m(up 4, "files/s"), m(up 1, "files/s"), "files/s", "%.0f"), m(up 4, "files/s") >= 3 * m(up 1, "files/s"))
	target(label ": Upshot ≥ rclone (defaults: concurrency 4 vs --transfers 4)", has(up 4, "files/s") && has(rc 4, "files/s"),
		ratio(m(up 4, "files/s"), m(rc 4, "files/s"), "files/s", "%.0f"), m(up 4, "files/s") >= m(rc 4, "files/s"))
	best = -1
	for (c = 1; c <= 16; c *= 2) if (c != 2 && has(up c, "files/s") && m(up c, "files/s") > best) { best = m(up c, "files/s"); bc = c }
	target(label ": Upshot's best ≥ rclone at the same --transfers", best >= 0 && has(rc bc, "files/s"),
		ratio(best, m(rc bc, "files/s"), "files/s", "%.0f") " at " bc, best >= m(rc bc, "files/s"))
}

# manyNotes: the speed-ups and the comparisons with rclone at one latency.
function manyNotes(rtt,   up, rc, c) {
	up = "UploadMany/rtt=" rtt "/conc="; rc = "BaselineRcloneCopyMany/rtt=" rtt "/conc="
	for (c = 4; c <= 16; c *= 2) {
		if (has(up c, "files/s") && has(up 1, "files/s"))
			printf "- %s per request: Upshot at concurrency %d is %.2f× as fast as one by one", rtt, c, m(up c, "files/s") / m(up 1, "files/s")
		if (has(rc c, "files/s") && has(rc 1, "files/s"))
			printf "; rclone at --transfers %d, %.2f× its --transfers 1", c, m(rc c, "files/s") / m(rc 1, "files/s")
		if (has(up c, "files/s")) print "."
	}
	for (c = 1; c <= 16; c *= 2)
		if (has(up c, "files/s") && has(rc c, "files/s"))
			printf "- %s per request: Upshot at concurrency %d vs rclone --transfers %d: %.2f×.\n", rtt, c, c, m(up c, "files/s") / m(rc c, "files/s")
}

# val: a figure as shown; times per operation in ms, µs or ns.
function val(unit, x) {
	if (unit != "ns/op") return num(x)
	return x >= 1e6 ? sprintf("%.3g ms", x / 1e6) : x >= 1e3 ? sprintf("%.3g µs", x / 1e3) : sprintf("%.3g ns", x)
}

function num(x) {
	if (x == int(x) && x < 1e7) return sprintf("%d", x)
	if (x >= 100 || x <= -100) return sprintf("%.0f", x)
	if (x >= 10 || x <= -10) return sprintf("%.1f", x)
	return sprintf("%.3g", x)
}

END {
	w = "WatchRename"; bw = "BaselineWatchRename"; c = "WatchCopy"; bc = "BaselineWatchCopy"
	print "## Targets\n"
	print "| Target | Measured | Met |\n|---|---|---|"
	split("single multipart16MiB", hs, " ")
	for (i = 1; i <= 2; i++) {
		k = "HashFile/" hs[i]
		target("hashing ≥ 500 MB/s in one pass (`BenchmarkHashFile/" hs[i] "`)", has(k, "MB/s"), sprintf("%.0f MB/s", m(k, "MB/s")), m(k, "MB/s") >= 500)
	}
	k = "Upload1MB"
	target("one 1 MB upload: process start to exit < 30 ms (median)", has(k, "ms/upload"),
		sprintf("%.1f ms (min %.1f, max %.1f)", m(k, "ms/upload"), lo[k, "ms/upload"], hi[k, "ms/upload"]), m(k, "ms/upload") < 30)
	target("one 1 MB upload: peak RSS < 40 MB (every run)", has(k, "peak-rss-MB"),
		sprintf("%.1f MB median, %.1f MB max", m(k, "peak-rss-MB"), hi[k, "peak-rss-MB"]), hi[k, "peak-rss-MB"] < 40)
	many("0ms", "200 × 200 KB files")
	many("10ms", "200 × 200 KB files, 10 ms per request")
	k = "BaselineRcloneCopytoBig/chunk="
	target("large file: Upshot ≥ rclone copyto (defaults: 5 MiB chunks)", has("UploadBig", "MB/s") && has(k "5Mi", "MB/s"),
		ratio(m("UploadBig", "MB/s"), m(k "5Mi", "MB/s"), "MB/s", "%.0f"), m("UploadBig", "MB/s") >= m(k "5Mi", "MB/s"))
	target("large file: Upshot ≥ rclone copyto --s3-chunk-size 100M", has("UploadBig", "MB/s") && has(k "100M", "MB/s"),
		ratio(m("UploadBig", "MB/s"), m(k "100M", "MB/s"), "MB/s", "%.0f"), m("UploadBig", "MB/s") >= m(k "100M", "MB/s"))
	target("watch: 1 MB PNG renamed in → link line, p50 < 30 ms", has(w, "p50-ms"), f1(m(w, "p50-ms")) " ms", m(w, "p50-ms") < 30)
	target("watch: 1 MB PNG renamed in → link line, p99 < 100 ms", has(w, "p99-ms"),
		sprintf("%.1f ms (max %.1f)", m(w, "p99-ms"), hi[w, "max-ms"]), m(w, "p99-ms") < 100)
	target("watch: 1 MB PNG written in place by cp, cp's exit → link line, p50 < 50 ms", has(c, "p50-ms"),
		sprintf("%.1f ms (%.1f ms from cp's start)", m(c, "p50-ms"), m(c, "start-p50-ms")), m(c, "p50-ms") < 50)
	k = "WatchBurst/conc=4"
	target("watch: burst of " burst " × 2 KB, default concurrency: ≥ 200 files/s, each reported exactly once", has(k, "files/s"),
		sprintf("%.0f files/s (min %.0f); reported %s of %d, %s duplicates, %s objects, over %d runs", m(k, "files/s"), lo[k, "files/s"],
			span(k, "reported"), burst, span(k, "dups"), span(k, "objects"), runs[k, "files/s"]),
		m(k, "files/s") >= 200 && lo[k, "reported"] == burst && hi[k, "reported"] == burst && hi[k, "dups"] == 0 && lo[k, "objects"] == burst && hi[k, "objects"] == burst)
	target("watch: idle RSS after start-up < 30 MB", has(w, "idle-rss-MB"), f1(m(w, "idle-rss-MB")) " MB", m(w, "idle-rss-MB") < 30)
	target("watch: idle RSS after the renames, and after the copies < 30 MB", has(w, "after-rss-MB") && has(c, "after-rss-MB"),
		sprintf("%.1f MB and %.1f MB (VmHWM %.1f and %.1f MB)", m(w, "after-rss-MB"), m(c, "after-rss-MB"), m(w, "hwm-MB"), m(c, "hwm-MB")),
		m(w, "after-rss-MB") < 30 && m(c, "after-rss-MB") < 30)
	target("watch: rename → link p50 below inotifywait → rclone copyto's", has(w, "p50-ms") && has(bw, "p50-ms"),
		ratio(m(w, "p50-ms"), m(bw, "p50-ms"), "ms", "%.1f"), m(w, "p50-ms") < m(bw, "p50-ms"))
	target("watch: burst files/s above inotifywait → rclone copyto's", has(k, "files/s") && has("BaselineWatchBurst", "files/s"),
		ratio(m(k, "files/s"), m("BaselineWatchBurst", "files/s"), "files/s", "%.1f"), m(k, "files/s") > m("BaselineWatchBurst", "files/s"))

	print "\n## Comparisons\n"
	k = "Upload1MB"
	if (has(k, "ms/upload") && has("BaselineCurlPut1MB", "ms/upload") && has("BaselineRcloneCopyto1MB", "ms/upload"))
		printf "- One 1 MB upload: Upshot takes %.2f× the time of a bare curl PUT and %.2f× that of rclone copyto.\n",
			m(k, "ms/upload") / m("BaselineCurlPut1MB", "ms/upload"), m(k, "ms/upload") / m("BaselineRcloneCopyto1MB", "ms/upload")
	manyNotes("0ms"); manyNotes("10ms")
	k = "BaselineRcloneCopytoBig/chunk="
	if (has("UploadBig", "MB/s") && has(k "5Mi", "MB/s") && has(k "100M", "MB/s"))
		printf "- Large file: Upshot vs rclone copyto (defaults: 5 MiB chunks): %.2f×; vs rclone copyto --s3-chunk-size 100M: %.2f×.\n",
			m("UploadBig", "MB/s") / m(k "5Mi", "MB/s"), m("UploadBig", "MB/s") / m(k "100M", "MB/s")
	if (has(w, "own-p50-ms"))
		printf "- Watch, renames: Upshot's own `latency_ms` (from knowing the file complete to the link ready) p50 %.1f ms, p99 %.1f ms; the rest (rename(2) to the emit, plus the pipe) p50 %.1f ms, p99 %.1f ms.\n",
			m(w, "own-p50-ms"), m(w, "own-p99-ms"), m(w, "gap-p50-ms"), m(w, "gap-p99-ms")
	if (has(w, "p50-ms") && has(bw, "p50-ms"))
		printf "- Watch, renames: Upshot/baseline p50 %.2f×, p99 %.2f× (the baseline takes %.1f× Upshot's median time).\n",
			m(w, "p50-ms") / m(bw, "p50-ms"), m(w, "p99-ms") / m(bw, "p99-ms"), m(bw, "p50-ms") / m(w, "p50-ms")
	if (has(c, "own-p50-ms"))
		printf "- Watch, cp: Upshot's own `latency_ms` p50 %.1f ms, p99 %.1f ms.\n", m(c, "own-p50-ms"), m(c, "own-p99-ms")
	if (has(c, "p50-ms") && has(bc, "p50-ms"))
		printf "- Watch, cp: Upshot/baseline from cp's exit, p50 %.2f×.\n", m(c, "p50-ms") / m(bc, "p50-ms")
	for (i = 4; i <= 16; i *= 4)
		if (has(k = "WatchBurst/conc=" i, "files/s") && has("BaselineWatchBurst", "files/s"))
			printf "- Burst: Upshot at concurrency %d vs the baseline: %.1f× the files per second.\n", i, m(k, "files/s") / m("BaselineWatchBurst", "files/s")
	k = "Upload1MBWine"
	if (has(k, "wine-ms/upload") && has(k, "linux-ms/upload"))
		printf "- The Windows build under Wine (a sanity figure, not a target): one 1 MB upload takes %s; peak RSS %s.\n",
			ratio(m(k, "wine-ms/upload"), m(k, "linux-ms/upload"), "ms, upshot.exe vs upshot", "%.1f"),
			ratio(m(k, "wine-rss-MB"), m(k, "linux-rss-MB"), "MB", "%.1f")

	print "\n## Every figure\n"
	print "Medians over the runs, with min–max when they differ. Units: `ms/upload`, `ms/op` wall time from process start to exit (a burst: first write to last line); `link-ms` to the printed link; `cpu-ms/op` the process's user+system CPU; `srv-cpu-ms/op` versitygw's, meanwhile (10 ms ticks, so a mean); `peak-rss-MB` the largest peak RSS of a run's processes (the watch baseline's: its largest process, an rclone); `p50-ms` … `min-ms` over a run's files; `own-*` Upshot's own `latency_ms`, `gap-*` the rest; `startup-ms` exec to the \"watching\" line; `idle-rss-MB` VmRSS 3 s after start-up (the baseline: bash, its loop and inotifywait, summed), `after-rss-MB` 3 s after the work, `hwm-MB` VmHWM; `write-ms` writing the burst; `reported`, `dups`, `objects` files reported, extra lines, objects stored; `capped` 1 when the baseline was stopped at its time limit; `wine-…` and `linux-…` upshot.exe under Wine and the Linux binary in the same run. `Baseline…` lines come from scripts/baselines.sh."
	for (i = 1; i <= nn; i++) {
		sec = section(names[i])
		if (!(sec in members)) order[++ns] = sec
		members[sec] = members[sec] " " names[i]
	}
	for (i = 1; i <= ns; i++) table(order[i], members[order[i]])
}

# section: the heading of the table a benchmark goes in.
function section(n) {
	if (n ~ /Wine$/) return "The Windows build under Wine"
	if (n ~ /1MB$/ || n == "Version") return "One 1 MB file, whole process"
	if (n ~ /Many\/rtt=0ms/) return "200 × 200 KB files in one process"
	if (n ~ /Many\/rtt=10ms/) return "200 × 200 KB files in one process, 10 ms per request"
	if (n ~ /Big/) return "One large file"
	if (n ~ /WatchRename/) return "Watch: a 1 MB PNG renamed into the folder"
	if (n ~ /WatchCopy/) return "Watch: a 1 MB PNG written in place by cp"
	if (n ~ /WatchBurst/) return "Watch: a burst of " burst " files of 2 KB"
	if (n ~ /^Phone/) return "Phone inbox: a 5 MB photo in Chromium, pick to link"
	if (n ~ /^HotkeyToLink/) return "Capture: the screen hotkey to the link"
	if (n ~ /^FirstByte/) return "Private bucket: first byte through the Worker"
	return "Go micro-benchmarks (`./uploader/`, no server)"
}

# table: one Markdown table of the benchmarks in list, a column per unit.
function table(title, list,   ns, bs, i, u, ncol, col, colseen, n, k) {
	ns = split(list, bs, " ")
	ncol = 0
	for (i = 1; i <= nprefer; i++)
		for (k = 1; k <= ns; k++)
			if (has(bs[k], prefer[i]) && !(prefer[i] in colseen)) { colseen[prefer[i]] = 1; col[++ncol] = prefer[i] }
	for (i = 1; i <= ns; i++)
		for (u = 1; u <= nu[bs[i]]; u++)
			if (!(units[bs[i], u] in colseen)) { colseen[units[bs[i], u]] = 1; col[++ncol] = units[bs[i], u] }
	printf "\n### %s\n\n%s\n\n| Benchmark | Runs |", title, about[title]
	for (u = 1; u <= ncol; u++) printf " %s |", col[u] == "ns/op" ? "time/op" : col[u]
	printf "\n|---|--:|"
	for (u = 1; u <= ncol; u++) printf "--:|"
	print ""
	for (i = 1; i <= ns; i++) {
		n = bs[i]
		printf "| `%s` | %d |", n, runs[n, units[n, 1]]
		for (u = 1; u <= ncol; u++) {
			k = col[u]
			if (!has(n, k)) { printf " – |"; continue }
			printf " %s", val(k, med[n, k])
			if (lo[n, k] != hi[n, k]) printf " (%s–%s)", val(k, lo[n, k]), val(k, hi[n, k])
			printf " |"
		}
		print ""
	}
}

BEGIN {
	# Columns come in this order, then any others.
	nprefer = split("ms/upload wine-ms/upload linux-ms/upload ms/op ns/op files/s MB/s link-ms p50-ms p90-ms p99-ms max-ms min-ms start-p50-ms " \
		"own-p50-ms own-p99-ms own-max-ms gap-p50-ms gap-p99-ms cpu-ms/op cpu-ms/file srv-cpu-ms/op peak-rss-MB wine-rss-MB linux-rss-MB " \
		"ms/link tool-ms tool-% startup-ms idle-rss-MB after-rss-MB hwm-MB write-ms reported dups objects capped B/op allocs/op", prefer, " ")
	about["Phone inbox: a 5 MB photo in Chromium, pick to link"] = "The real page in headless Chromium at phone size, against the real desktop server and versitygw on loopback, each run a new 5 MB JPEG with GPS: the page's own timings of stripping and hashing (in its worker, in wasm), the grant, the PUT straight to the bucket and the desktop's confirming HEAD. MB/s is the photo's size over pick to link."
	about["Capture: the screen hotkey to the link"] = "The real window program under Xvfb (1280×800) with versitygw on loopback: `xdotool key ctrl+shift+alt+3` to the new link read back with `xclip -o` (polled every 5 ms), each press after a window was painted a new colour, so that every capture is new content. The capture tool is ImageMagick's `import -window root`, the fallback found on this machine; `tool-ms` is the same capture taken directly in the same run, and `tool-%` its share of the whole."
	about["Private bucket: first byte through the Worker"] = "Upshot's Worker in workerd (Cloudflare's own runtime, from npm, pinned) in front of versitygw on loopback, signing each request (SigV4, WebCrypto): the time to the first byte of a 200 KB object through the Worker (`ttfb-ms`), against a signed GET straight to versitygw in the same run (`direct-ttfb-ms`)."
	about["The Windows build under Wine"] = "`upshot.exe upload` of a fresh 1 MB file under Wine (`wine-…`) and the Linux binary's (`linux-…`), alternating upload by upload against one versitygw on loopback, each run in a fresh 64-bit Wine prefix, after one warm-up upload each; the wineserver and the prefix's services run throughout, as Windows does. Times run from process start to exit under GNU time, so the Windows side's include Wine's start of a Windows process. Peak RSS is the Windows process's own (Wine's DLLs in it included), not the wineserver's or the services'. A sanity figure: Wine is not Windows."
	about["One 1 MB file, whole process"] = "Each run uploads a freshly written file under a new name, timed from process start to exit, after one warm-up upload (Upshot learns the endpoint's capabilities there, as any installed copy has). `Version` is `upshot version`: the cost of starting the binary at all."
	about["200 × 200 KB files in one process"] = "One process uploads the whole folder, each run under its own key prefix (Upshot's files get new content every run, so nothing deduplicates). `conc` is Upshot's `[transfer] concurrency` (default 4; 1 is one by one) and rclone's `--transfers` (default 4)."
	about["200 × 200 KB files in one process, 10 ms per request"] = "The same, through a proxy on 127.0.0.1 that holds every request 10 ms, as a distant server would: on bare loopback, client and server share the same cores, so concurrency can only win what they allow."
	about["One large file"] = "Random content written once, read from the page cache by every run. Upshot uses its defaults (multipart, 100 MB parts, 4 at once, SHA1 and MD5 per part); rclone copyto its default 5 MiB chunks, and 100M chunks."
	about["Watch: a 1 MB PNG renamed into the folder"] = "`upshot watch --json --no-clipboard DIR` (fresh data dir, no display) against the common Linux recipe, `inotifywait -m -e close_write -e moved_to DIR | while read f; do rclone copyto \"$f\" …; echo \"$f\"; done`, each line timed as it arrives. Each file is written beside the folder and renamed in at once, as a screenshot tool does, one at a time after 3 warm-ups; latency runs from rename(2) (the baseline: mv's exit, which slightly favours it) to the line."
	about["Watch: a 1 MB PNG written in place by cp"] = "The real `cp` copies a synced file into the folder; latency runs from cp's exit to the line (`start-p50-ms`: from its start)."
	about["Watch: a burst of " burst " files of 2 KB"] = "A fresh watcher per run, warmed up with one file; then the files are written straight into the folder (the baseline's by one cp). Files/s is files reported over first write → last line; every line is checked (lines are collected 1 s after the last, for duplicates), and the server's objects are counted after the watcher stops. The baseline runs once, stopped at its time limit."
	about["Go micro-benchmarks (`./uploader/`, no server)"] = "Hashing runs over a 64 MiB in-memory file (`small200KB`: 200 KB, a screenshot's size). `HashFile` is Upshot's one-pass SHA1+MD5; the others are baselines."
}
