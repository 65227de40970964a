package main

import (
	"fmt"
	"io"
	"strings"

	"upshot/uploader"
)

// Targets for `upshot watch`.
const (
	targetWatchRenameP50MS = 30  // rename → link line, median
	targetWatchRenameP99MS = 100 // … 99th percentile
	targetWatchCpExitMS    = 50  // cp's exit → link line, median (Linux)
	targetWatchBurstFPS    = 200 // files per second in a burst of small files
	targetWatchIdleMB      = 30  // VmRSS at rest
)

// upshotLat and baseLat are the rename/cp series, or nil.
func (w *watchResult) upshotLat() *latSeries {
	if w == nil || len(w.lat) == 0 {
		return nil
	}
	return w.lat[0]
}

func (w *watchResult) baseLat() *latSeries {
	if w == nil || len(w.lat) < 2 {
		return nil
	}
	return w.lat[1]
}

// burst finds the burst series at a concurrency (0: the baseline), or nil.
func (w *watchResult) burst(conc int) *burstSeries {
	if w == nil {
		return nil
	}
	for _, s := range w.bursts {
		if s.conc == conc && len(s.runs) > 0 {
			return s
		}
	}
	return nil
}

// rates, durations and the like of a burst series.
func (s *burstSeries) of(f func(burstRun) float64) stat {
	xs := make([]float64, len(s.runs))
	for i, r := range s.runs {
		xs[i] = f(r)
	}
	return summarize(xs)
}

// exact reports whether every run reported every file exactly once.
func (s *burstSeries) exact() bool {
	for _, r := range s.runs {
		if r.reported != r.files || r.dups > 0 || r.capped {
			return false
		}
	}
	return true
}

// counts says how many files the runs reported, at worst.
func (s *burstSeries) counts() string {
	worst, dups := s.runs[0], 0
	for _, r := range s.runs {
		if r.reported < worst.reported {
			worst = r
		}
		dups += r.dups
	}
	out := fmt.Sprintf("%d of %d", worst.reported, worst.files)
	if len(s.runs) > 1 {
		if worst.reported == worst.files {
			out += " in every run"
		} else {
			out = "at least " + out
		}
	}
	if dups > 0 {
		out += fmt.Sprintf(", %d duplicate lines", dups)
	}
	return out
}

func burstRate(r burstRun) float64 { return r.rate() }
func burstSec(r burstRun) float64  { return r.dur.Seconds() }
func burstCPU(r burstRun) float64  { return r.cpu.Seconds() }
func burstSrv(r burstRun) float64  { return r.srvCPU.Seconds() }
func burstPeak(r burstRun) float64 { return float64(r.peak) / 1e6 }
func burstWrites(r burstRun) float64 {
	return ms(r.writes)
}

func mb(n int64) float64 { return float64(n) / 1e6 }

func (r *report) watchTargets() []target {
	w := r.watch
	label := func(s string) string { return "watch: " + s }
	size := sizeLabel(latencySize)
	t1 := target{what: label(fmt.Sprintf("%s PNG renamed in → link line, p50 < %d ms", size, targetWatchRenameP50MS))}
	t2 := target{what: label(fmt.Sprintf("%s PNG renamed in → link line, p99 < %d ms", size, targetWatchRenameP99MS))}
	t3 := target{what: label(fmt.Sprintf("%s PNG written in place by cp, cp's exit → link line, p50 < %d ms", size, targetWatchCpExitMS))}
	t4 := target{what: label(fmt.Sprintf("burst of %d × %s, default concurrency: ≥ %d files/s, each reported exactly once", r.opts.watchBurst, sizeLabel(r.opts.watchBurstSize), targetWatchBurstFPS))}
	t5 := target{what: label(fmt.Sprintf("idle RSS after start-up < %d MB", targetWatchIdleMB))}
	t6 := target{what: label(fmt.Sprintf("idle RSS after the renames and copies < %d MB", targetWatchIdleMB))}
	t7 := target{what: label("rename → link p50 below " + baselineName + "'s")}
	t8 := target{what: label("burst files/s above " + baselineName + "'s")}
	ts := []*target{&t1, &t2, &t3, &t4, &t5, &t6, &t7, &t8}
	out := func() []target {
		var o []target
		for _, t := range ts {
			o = append(o, *t)
		}
		return o
	}
	if w == nil {
		return out()
	}
	if up := w.upshotLat(); up != nil && len(up.rename) > 0 {
		p50, p99 := percentile(up.rename, 50), percentile(up.rename, 99)
		t1.measured, t1.met = fmt.Sprintf("%.1f ms (%d renames)", p50, len(up.rename)), verdictOf(p50 < targetWatchRenameP50MS && up.missed == 0)
		t2.measured, t2.met = fmt.Sprintf("%.1f ms (max %.1f)", p99, percentile(up.rename, 100)), verdictOf(p99 < targetWatchRenameP99MS && up.missed == 0)
		if up.missed > 0 {
			t1.measured += fmt.Sprintf(", %d missed", up.missed)
		}
		if base := w.baseLat(); base != nil && len(base.rename) > 0 {
			b50 := percentile(base.rename, 50)
			t7.measured, t7.met = fmt.Sprintf("%.2f× (%.1f vs %.1f ms)", p50/b50, p50, b50), verdictOf(p50 < b50)
		}
	}
	if up := w.upshotLat(); up != nil && len(up.cpExit) > 0 {
		p50 := percentile(up.cpExit, 50)
		t3.measured, t3.met = fmt.Sprintf("%.1f ms (%d files; %.1f ms from cp's start)", p50, len(up.cpExit), percentile(up.cpStart, 50)), verdictOf(p50 < targetWatchCpExitMS)
	}
	if s := w.burst(uploader.DefaultConcurrency); s != nil {
		rate := s.of(burstRate)
		t4.measured = fmt.Sprintf("%.0f files/s (min %.0f; %s)", rate.med, rate.min, s.counts())
		t4.met = verdictOf(rate.med >= targetWatchBurstFPS && s.exact())
		if base := w.burst(0); base != nil {
			br := base.of(burstRate).med
			t8.measured, t8.met = fmt.Sprintf("%.1f× (%.0f vs %.1f files/s)", rate.med/br, rate.med, br), verdictOf(rate.med > br)
		}
	}
	if w.idleStart > 0 {
		t5.measured, t5.met = fmt.Sprintf("%.1f MB", mb(w.idleStart)), verdictOf(mb(w.idleStart) < targetWatchIdleMB)
	}
	if w.idleAfter > 0 {
		t6.measured, t6.met = fmt.Sprintf("%.1f MB (VmHWM %.1f MB)", mb(w.idleAfter), mb(w.hwm)), verdictOf(mb(w.idleAfter) < targetWatchIdleMB)
	}
	return out()
}

func (r *report) watchSection(out io.Writer) {
	w := r.watch
	if w == nil {
		return
	}
	fmt.Fprintf(out, "## 4. Folder watching: `upshot watch`\n\n")
	fmt.Fprintf(out, "`upshot watch --json --no-clipboard DIR` runs with a fresh data dir, credentials in the environment and no display; its stdout lines are timed as they arrive. ")
	fmt.Fprintf(out, "The baseline is the common Linux recipe, run by bash: `inotifywait -m -e close_write -e moved_to --format '%%w%%f' DIR | while read f; do rclone copyto \"$f\" :s3,…:bucket/key && echo \"$f\"; done` (the echo marks the moment a link could be printed). ")
	fmt.Fprintf(out, "Both watch their own folders in the same run and are fed the same kind of files alternately, one at a time, so they share the machine's noise. Files are PNG-like (a valid chunk structure around random pixels, so nothing deduplicates and Upshot's metadata stripping parses each one). Percentiles interpolate between ranks.%s\n\n", fyneNote(w))
	if w.baseNote != "" {
		fmt.Fprintf(out, "**%s.**\n\n", w.baseNote)
	}
	r.watchRenameTable(out, w)
	r.watchCpTable(out, w)
	r.watchBurstTable(out, w)
	r.watchMemory(out, w)
}

// fyneNote says whether the measured binary links the GUI.
func fyneNote(w *watchResult) string {
	switch w.linksFyne {
	case "yes":
		return " The measured binary links the Fyne GUI (built without `-tags headless`), which adds to its start-up and resident set."
	case "no":
		return " The measured binary does not link Fyne."
	}
	return ""
}

func (r *report) watchRenameTable(out io.Writer, w *watchResult) {
	up := w.upshotLat()
	if up == nil || len(up.rename) == 0 {
		return
	}
	fmt.Fprintf(out, "### 4a. A %s PNG renamed into the folder\n\n", sizeLabel(w.fileSize))
	fmt.Fprintf(out, "Each file is written beside the folder (same filesystem, not synced) and renamed in at once, as a screenshot tool does, so its mtime is fresh at the rename; latency runs from just before rename(2) to the watcher's line. %d unrecorded warm-up renames per watcher come first (Upshot probes the endpoint once per data dir).", w.warm)
	if w.baseRenames < w.renames && w.baseLat() != nil {
		fmt.Fprintf(out, " The baseline did only the first %d of the %d renames.", w.baseRenames, w.renames)
	}
	fmt.Fprintf(out, "\n\n| Watcher | Files | p50 ms | p90 ms | p99 ms | Max ms | Min ms | Own `latency_ms` p50 | Missed | CPU ms per file |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, s := range w.lat {
		if len(s.rename) == 0 {
			continue
		}
		x, own := s.rename, "–"
		if len(s.renameOwn) > 0 {
			own = fmt.Sprintf("%.1f", percentile(s.renameOwn, 50))
		}
		fmt.Fprintf(out, "| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %s | %d | %.1f |\n", s.name, len(x), percentile(x, 50), percentile(x, 90), percentile(x, 99),
			percentile(x, 100), percentile(x, 0), own, s.missed, ms(s.renameCPU)/float64(len(x)))
	}
	fmt.Fprintln(out)
	if len(up.renameOwn) == len(up.rename) {
		gap := make([]float64, len(up.rename))
		for i := range gap {
			gap[i] = up.rename[i] - up.renameOwn[i]
		}
		fmt.Fprintf(out, "- Upshot's own `latency_ms` (from the watcher knowing the file complete to the link being ready): p50 %.1f ms, p99 %.1f ms. The rest, from rename(2) to the watcher's emit plus the output pipe, is p50 %.1f ms, p99 %.1f ms.\n",
			percentile(up.renameOwn, 50), percentile(up.renameOwn, 99), percentile(gap, 50), percentile(gap, 99))
	}
	if base := w.baseLat(); base != nil && len(base.rename) > 0 {
		fmt.Fprintf(out, "- Upshot/baseline: p50 %.2f×, p99 %.2f× (the baseline takes %.1f× Upshot's median time).\n",
			percentile(up.rename, 50)/percentile(base.rename, 50), percentile(up.rename, 99)/percentile(base.rename, 99),
			percentile(base.rename, 50)/percentile(up.rename, 50))
	}
	if up.stray > 0 {
		fmt.Fprintf(out, "- Upshot printed %d lines for files it was no longer waited for (late reports or duplicates).\n", up.stray)
	}
	fmt.Fprintln(out)
}

func (r *report) watchCpTable(out io.Writer, w *watchResult) {
	up := w.upshotLat()
	if up == nil || len(up.cpExit) == 0 {
		return
	}
	fmt.Fprintf(out, "### 4b. A %s PNG written in place by `cp`\n\n", sizeLabel(w.fileSize))
	fmt.Fprintf(out, "The real `cp` copies a synced file from beside the folder into it; the file is complete when cp closes it (inotify's IN_CLOSE_WRITE). Latency is taken from just before cp starts and from its exit.\n\n")
	fmt.Fprintf(out, "| Watcher | Files | p50 ms from cp's start | p50 ms from cp's exit | p90 from exit | p99 from exit | Max from exit | CPU ms per file |\n|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, s := range w.lat {
		if len(s.cpExit) == 0 {
			continue
		}
		x := s.cpExit
		fmt.Fprintf(out, "| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n", s.name, len(x), percentile(s.cpStart, 50), percentile(x, 50),
			percentile(x, 90), percentile(x, 99), percentile(x, 100), ms(s.cpCPU)/float64(len(x)))
	}
	fmt.Fprintln(out)
	if len(up.cpOwn) > 0 {
		fmt.Fprintf(out, "- Upshot's own `latency_ms` for these: p50 %.1f ms, p99 %.1f ms.\n", percentile(up.cpOwn, 50), percentile(up.cpOwn, 99))
	}
	if base := w.baseLat(); base != nil && len(base.cpExit) > 0 {
		fmt.Fprintf(out, "- Upshot/baseline, from cp's exit: p50 %.2f×.\n", percentile(up.cpExit, 50)/percentile(base.cpExit, 50))
	}
	fmt.Fprintln(out)
}

func (r *report) watchBurstTable(out io.Writer, w *watchResult) {
	if len(w.bursts) == 0 {
		return
	}
	fmt.Fprintf(out, "### 4c. A burst of %d files of %s\n\n", w.burstFiles, sizeLabel(w.burstSize))
	fmt.Fprintf(out, "A fresh watcher per run, warmed up with one renamed file; then the files are written straight into the folder as fast as benchtool can (create, write, close; no sync). Files/s = files reported / (first write → last line). Every line is checked against the files written: each must be reported exactly once (lines are collected for %v after the last one, to catch duplicates), and the server's object count is checked after the watcher stops. Upshot runs %d time(s) per concurrency, in rotating order; the baseline runs once, stopped after %v. Peak RSS is Upshot's VmHWM, and for the baseline the largest sum of its processes' VmRSS sampled every 50 ms.\n\n",
		watchGrace, r.opts.watchBurstRuns, w.baseCap)
	fmt.Fprintf(out, "| Watcher | Concurrency | Runs | Files/s (median) | Files/s (min–max) | Seconds (median) | Writing took (median ms) | Reported | Server objects | CPU s (median) | Server CPU s (median) | Peak RSS MB (max) |\n|---|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|\n")
	for _, s := range w.bursts {
		if len(s.runs) == 0 {
			continue
		}
		rate, sec := s.of(burstRate), s.of(burstSec)
		conc, counts := fmt.Sprint(s.conc), s.counts()
		if s.conc == 0 {
			conc = "1 (serial)"
		}
		if s.runs[0].capped && len(s.runs) == 1 {
			counts += fmt.Sprintf(" (stopped at %v)", w.baseCap)
		}
		objs := make([]string, len(s.runs))
		for i, run := range s.runs {
			objs[i] = fmt.Sprint(run.objects)
		}
		fmt.Fprintf(out, "| %s | %s | %d | %.1f | %.1f–%.1f | %.2f | %.0f | %s | %s | %.2f | %.2f | %.1f |\n", s.name, conc, len(s.runs), rate.med, rate.min, rate.max, sec.med,
			s.of(burstWrites).med, counts, strings.Join(objs, ", "), s.of(burstCPU).med, s.of(burstSrv).med, s.of(burstPeak).max)
	}
	fmt.Fprintln(out)
	if base := w.burst(0); base != nil {
		br := base.of(burstRate).med
		for _, s := range w.bursts {
			if s.conc > 0 && len(s.runs) > 0 {
				fmt.Fprintf(out, "- Upshot at concurrency %d vs the baseline: %.1f× the files per second.\n", s.conc, s.of(burstRate).med/br)
			}
		}
	}
	for _, s := range w.bursts {
		var own []float64
		for _, run := range s.runs {
			own = append(own, run.own...)
		}
		if len(own) > 0 {
			fmt.Fprintf(out, "- Upshot at concurrency %d, its own `latency_ms` per file in the burst (queueing included): p50 %.0f ms, p99 %.0f ms, max %.0f ms.\n",
				s.conc, percentile(own, 50), percentile(own, 99), percentile(own, 100))
		}
	}
	fmt.Fprintln(out)
}

func (r *report) watchMemory(out io.Writer, w *watchResult) {
	fmt.Fprintf(out, "### 4d. Memory and start-up\n\n| What | Measured |\n|---|--:|\n")
	fmt.Fprintf(out, "| Upshot: exec to its \"watching\" line | %.1f ms |\n", ms(w.startup))
	fmt.Fprintf(out, "| Upshot: VmRSS %v after start-up, nothing done yet | %.1f MB |\n", watchIdle, mb(w.idleStart))
	fmt.Fprintf(out, "| Upshot: VmRSS %v after the renames and copies | %.1f MB |\n", watchIdle, mb(w.idleAfter))
	fmt.Fprintf(out, "| Upshot: VmHWM of that process at the end | %.1f MB |\n", mb(w.hwm))
	for _, s := range w.bursts {
		if s.conc > 0 && len(s.runs) > 0 {
			fmt.Fprintf(out, "| Upshot: VmHWM after a burst, concurrency %d (max over runs) | %.1f MB |\n", s.conc, s.of(burstPeak).max)
		}
	}
	if w.baseLat() != nil {
		fmt.Fprintf(out, "| Baseline at rest: bash, its pipeline subshell and inotifywait, VmRSS summed | %.1f MB |\n", mb(w.baseIdle))
	}
	if base := w.burst(0); base != nil {
		fmt.Fprintf(out, "| Baseline during its burst, sampled peak (with one rclone running) | %.1f MB |\n", base.of(burstPeak).max)
	}
	fmt.Fprintln(out)
}
