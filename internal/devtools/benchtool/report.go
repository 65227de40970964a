package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"upshot/uploader"
)

// report collects every result and renders them as Markdown.
type report struct {
	opts    options
	env     environment
	elapsed time.Duration
	loadEnd string
	goBench *goBenchSet
	latency *latencyResult
	many    *manyResult
	wan     *manyResult // many files through the round-trip proxy
	big     *bigResult
	watch   *watchResult
}

// Target thresholds the project has set itself.
const (
	targetHashMBps     = 500
	targetManySpeedup  = 3
	targetLatencyMS    = 30
	targetLatencyRSSMB = 40
)

// write prints the report to stdout and, when file is set, saves it there.
func (r *report) write(stdout io.Writer, file string) error {
	text := r.render()
	if _, err := io.WriteString(stdout, text); err != nil {
		return fmt.Errorf("print report: %w", err)
	}
	if file == "" {
		return nil
	}
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		return fmt.Errorf("save report: %w", err)
	}
	return nil
}

// render is the whole Markdown report.
func (r *report) render() string {
	var w strings.Builder
	r.header(&w)
	r.targets(&w)
	r.goBenchSection(&w)
	r.latencySection(&w)
	r.manySection(&w, "2", r.many)
	r.manySection(&w, "2b", r.wan)
	r.bigSection(&w)
	r.watchSection(&w)
	return w.String()
}

func (r *report) header(w io.Writer) {
	e := r.env
	fmt.Fprintf(w, "# Upshot benchmark results\n\n")
	fmt.Fprintf(w, "Measured %s. Each scenario runs its variants in rounds, rotating their order every round, so all of them share the machine's noise; figures are medians with min and max over the runs. MB = 10^6 bytes; a rate's min comes from the slowest run.\n\n", e.date)
	fmt.Fprintf(w, "| | |\n|---|---|\n")
	fmt.Fprintf(w, "| Machine | nproc %s · %s · %s RAM · %s, kernel %s |\n", e.nproc, e.cpu, e.memory, e.osArch, e.kernel)
	fmt.Fprintf(w, "| Go | %s |\n", e.goVersion)
	fmt.Fprintf(w, "| Server | %s at %s; data on %s free |\n", e.versitygw, e.endpoint, e.tmpFS)
	fmt.Fprintf(w, "| Upshot | %s |\n", e.upshot)
	fmt.Fprintf(w, "| rclone | %s |\n", e.rclone)
	fmt.Fprintf(w, "| curl | %s |\n", e.curl)
	if r.goBench != nil && r.opts.goBenchCmd != "" {
		fmt.Fprintf(w, "| Go benchmarks | `%s` |\n", cell(r.opts.goBenchCmd))
	}
	fmt.Fprintf(w, "| Load average (1 min) | %s at start, %s at end (other work on the machine widens the spread) |\n", e.loadStart, r.loadEnd)
	fmt.Fprintf(w, "| Peak RSS | %s |\n", e.rss)
	fmt.Fprintf(w, "| Command | `%s` |\n", cell(commandLine(r.opts.args)))
	fmt.Fprintf(w, "| Took | %s (end-to-end scenarios) |\n\n", r.elapsed.Round(time.Second))
	if r.opts.quick {
		fmt.Fprintf(w, "**-quick run: fewer runs and a smaller large file; not for the record.**\n\n")
	}
}

// cell escapes the pipes that would end a Markdown table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// commandLine is how benchtool was run, quoted for a POSIX shell.
func commandLine(args []string) string {
	words := []string{"go", "run", "./internal/devtools/benchtool"}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " '\"$\\*?|&;<>()[]{}`!#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		words = append(words, a)
	}
	return strings.Join(words, " ")
}

// target is one line of the targets table; met is nil when not measured.
type target struct {
	what, measured string
	met            *bool
}

func (r *report) targets(w io.Writer) {
	fmt.Fprintf(w, "## Targets\n\n| Target | Measured | Met |\n|---|---|---|\n")
	for _, t := range r.targetList() {
		verdict := "not measured"
		if t.met != nil {
			verdict = map[bool]string{true: "**yes**", false: "**NO**"}[*t.met]
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", t.what, t.measured, verdict)
	}
	fmt.Fprintln(w)
}

func (r *report) targetList() []target {
	// With -only, the groups not run are left out rather than listed as
	// not measured.
	shown := func(g string) bool { return len(r.opts.only) == 0 || r.opts.only[g] }
	var ts []target
	if r.goBench != nil || len(r.opts.only) == 0 {
		ts = append(ts, r.hashTargets()...)
	}
	if shown("1mb") {
		ts = append(ts, r.latencyTargets()...)
	}
	if shown("many") || shown("wan") {
		ts = append(ts, r.manyTargets()...)
	}
	if shown("big") {
		ts = append(ts, r.bigTargets()...)
	}
	if shown("watch") {
		ts = append(ts, r.watchTargets()...)
	}
	return ts
}

// verdictOf is a target's verdict: met or not.
func verdictOf(ok bool) *bool { return &ok }

func (r *report) hashTargets() []target {
	var ts []target
	for _, name := range []string{"BenchmarkHashFile/single", "BenchmarkHashFile/multipart16MiB"} {
		t := target{what: fmt.Sprintf("hashing ≥ %d MB/s in one pass (`%s`)", targetHashMBps, name)}
		if v, ok := r.goBench.get(name).median("MB/s"); ok {
			t.measured = fmt.Sprintf("%.0f MB/s", v)
			t.met = verdictOf(v >= targetHashMBps)
		}
		ts = append(ts, t)
	}
	return ts
}

func (r *report) latencyTargets() []target {
	t1 := target{what: fmt.Sprintf("one 1 MB upload: process start to exit < %d ms (median)", targetLatencyMS)}
	t2 := target{what: fmt.Sprintf("one 1 MB upload: peak RSS < %d MB (every run)", targetLatencyRSSMB)}
	if r.latency != nil {
		if s := find(r.latency.series, "upshot upload", 0); s != nil {
			wall, rss := s.of(wallMS), s.of(rssMB)
			t1.measured, t1.met = fmt.Sprintf("%.1f ms (min %.1f, max %.1f)", wall.med, wall.min, wall.max), verdictOf(wall.med < targetLatencyMS)
			t2.measured, t2.met = fmt.Sprintf("%.1f MB median, %.1f MB max", rss.med, rss.max), verdictOf(rss.max < targetLatencyRSSMB)
		}
	}
	return []target{t1, t2}
}

func (r *report) manyTargets() []target {
	ts := r.manyTargetsFor(r.many, 0)
	if r.opts.rtt > 0 {
		ts = append(ts, r.manyTargetsFor(r.wan, r.opts.rtt)...)
	}
	return ts
}

// manyTargetsFor judges one many-files result; m may be nil.
func (r *report) manyTargetsFor(m *manyResult, rtt time.Duration) []target {
	label := r.manyLabel(rtt)
	t1 := target{what: fmt.Sprintf("%s: default concurrency ≥ %d× one by one", label, targetManySpeedup)}
	t2 := target{what: fmt.Sprintf("%s: Upshot ≥ rclone (defaults: concurrency 4 vs --transfers 4)", label)}
	t3 := target{what: fmt.Sprintf("%s: Upshot's best ≥ rclone at the same --transfers", label)}
	if m == nil {
		return []target{t1, t2, t3}
	}
	rate := perSecond(float64(m.files))
	one := find(m.upshot, "upshot upload", 1)
	def := find(m.upshot, "upshot upload", uploader.DefaultConcurrency)
	if one != nil && def != nil {
		x := def.of(rate).med / one.of(rate).med
		t1.measured, t1.met = fmt.Sprintf("%.2f× (%.0f vs %.0f files/s)", x, def.of(rate).med, one.of(rate).med), verdictOf(x >= targetManySpeedup)
	}
	if rc := find(m.rclone, "rclone copy", uploader.DefaultConcurrency); def != nil && rc != nil {
		x := def.of(rate).med / rc.of(rate).med
		t2.measured, t2.met = fmt.Sprintf("%.2f× (%.0f vs %.0f files/s)", x, def.of(rate).med, rc.of(rate).med), verdictOf(x >= 1)
	}
	if best := bestRate(m.upshot, rate); best != nil {
		if rc := find(m.rclone, "rclone copy", best.conc); rc != nil {
			x := best.of(rate).med / rc.of(rate).med
			t3.measured, t3.met = fmt.Sprintf("%.2f× at %d (%.0f vs %.0f files/s)", x, best.conc, best.of(rate).med, rc.of(rate).med), verdictOf(x >= 1)
		}
	}
	return []target{t1, t2, t3}
}

func (r *report) bigTargets() []target {
	var ts []target
	if r.big == nil {
		return []target{{what: "large file: Upshot ≥ rclone"}}
	}
	rate := perSecond(float64(r.big.size) / 1e6)
	up := find(r.big.series, "upshot upload", 0)
	for _, s := range r.big.series[1:] {
		t := target{what: fmt.Sprintf("%s file: Upshot ≥ %s", sizeLabel(r.big.size), s.name)}
		if up != nil {
			x := up.of(rate).med / s.of(rate).med
			t.measured, t.met = fmt.Sprintf("%.2f× (%.0f vs %.0f MB/s)", x, up.of(rate).med, s.of(rate).med), verdictOf(x >= 1)
		}
		ts = append(ts, t)
	}
	return ts
}

// bestRate is the series with the highest median rate.
func bestRate(ss []series, rate func(sample) float64) *series {
	var best *series
	for i := range ss {
		if best == nil || ss[i].of(rate).med > best.of(rate).med {
			best = &ss[i]
		}
	}
	return best
}

// manyLabel names the many-files scenario, with its added round trip.
func (r *report) manyLabel(rtt time.Duration) string {
	l := fmt.Sprintf("%d × %s files", r.opts.manyFiles, sizeLabel(r.opts.manySize))
	if rtt > 0 {
		l += fmt.Sprintf(", %v per request", rtt)
	}
	return l
}

// sizeLabel writes 1 GiB, 200 KB and the like.
func sizeLabel(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1e6 && n%1e6 == 0:
		return fmt.Sprintf("%d MB", n/1e6)
	case n >= 1e3 && n%1e3 == 0:
		return fmt.Sprintf("%d KB", n/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

func (r *report) goBenchSection(w io.Writer) {
	if r.goBench == nil {
		return
	}
	fmt.Fprintf(w, "## Go micro-benchmarks (no server)\n\n")
	fmt.Fprintf(w, "Hashing runs over a 64 MiB in-memory file (`small200KB`: 200 KB, a screenshot's size, where the per-call B/op shows). `HashFile` is Upshot's one-pass SHA1+MD5 (two goroutines); the others are baselines.\n\n")
	fmt.Fprintf(w, "| Benchmark | Runs | Time/op (median) | MB/s (median) | B/op | allocs/op |\n|---|--:|--:|--:|--:|--:|\n")
	for _, b := range r.goBench.benches {
		ns := summarize(b.metrics["ns/op"])
		metric := func(unit, format string) string {
			if v, ok := b.median(unit); ok {
				return fmt.Sprintf(format, v)
			}
			return "–"
		}
		fmt.Fprintf(w, "| `%s` | %d | %s | %s | %s | %s |\n", strings.TrimPrefix(b.name, "Benchmark"), ns.n,
			formatNs(ns.med), metric("MB/s", "%.0f"), metric("B/op", "%.0f"), metric("allocs/op", "%.0f"))
	}
	fmt.Fprintln(w)
}

// formatNs writes a time per operation with three significant digits.
func formatNs(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.3g ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.3g µs", ns/1e3)
	}
	return fmt.Sprintf("%.3g ns", ns)
}

func (r *report) latencySection(w io.Writer) {
	l := r.latency
	if l == nil {
		return
	}
	fmt.Fprintf(w, "## 1. One %s file, whole process\n\n", sizeLabel(l.size))
	fmt.Fprintf(w, "Each run uploads a freshly written file under a new name (nothing deduplicates) and is timed from process start to exit; Upshot prints the link just before it exits. A warm-up round runs first and is not counted (Upshot learns the endpoint's capabilities there, as any installed copy has). `upshot version` is the cost of starting the binary at all.\n\n")
	fmt.Fprintf(w, "| Tool | Runs | Median ms | Min ms | Max ms | Link printed at (median ms) | CPU ms (median) | Server CPU ms (mean) | Peak RSS median MB | Peak RSS max MB |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, s := range l.series {
		wall, link, rss := s.of(wallMS), s.of(linkMS), s.of(rssMB)
		linkCell := "–"
		if link.med > 0 {
			linkCell = fmt.Sprintf("%.1f", link.med)
		}
		fmt.Fprintf(w, "| %s | %d | %.1f | %.1f | %.1f | %s | %.1f | %.1f | %.1f | %.1f |\n", s.name, wall.n, wall.med, wall.min, wall.max, linkCell,
			s.of(cpuMS).med, s.mean(srvMS), rss.med, rss.max)
	}
	if up, c, rc := find(l.series, "upshot upload", 0), find(l.series, "curl PUT (bare SigV4)", 0), find(l.series, "rclone copyto", 0); up != nil && c != nil && rc != nil {
		fmt.Fprintf(w, "\nUpshot takes %.2f× the time of a bare curl PUT and %.2f× that of rclone copyto.\n",
			up.of(wallMS).med/c.of(wallMS).med, up.of(wallMS).med/rc.of(wallMS).med)
	}
	fmt.Fprintln(w)
}

func (r *report) manySection(w io.Writer, num string, m *manyResult) {
	if m == nil {
		return
	}
	rate := perSecond(float64(m.files))
	fmt.Fprintf(w, "## %s. %s in one process\n\n", num, r.manyLabel(m.rtt))
	fmt.Fprintf(w, "One process uploads the whole folder; every run writes under its own key prefix, so nothing deduplicates. Upshot's concurrency is `[transfer] concurrency` (default %d; 1 is one by one); rclone's is `--transfers` (default 4). Times include process start and exit.", uploader.DefaultConcurrency)
	if m.rtt > 0 {
		fmt.Fprintf(w, " Every request goes through a proxy on 127.0.0.1 that holds it for %v before passing it on, as a distant server would: on the bare loopback server above, client and server share the same %s CPUs, so concurrency can only win what the cores allow.", m.rtt, r.env.nproc)
	}
	fmt.Fprintf(w, "\n\n| Tool | Concurrency | Runs | Median s | Files/s (median) | Files/s (min–max) | CPU s (median) | Server CPU s (mean) | Peak RSS median MB |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, s := range append(append([]series{}, m.upshot...), m.rclone...) {
		wall, fps, rss := s.of(wallSec), s.of(rate), s.of(rssMB)
		fmt.Fprintf(w, "| %s | %d | %d | %.2f | %.0f | %.0f–%.0f | %.2f | %.2f | %.1f |\n", s.name, s.conc, wall.n, wall.med, fps.med, fps.min, fps.max,
			s.of(cpuMS).med/1e3, s.mean(srvMS)/1e3, rss.med)
	}
	fmt.Fprintln(w)
	for _, ss := range [][]series{m.upshot, m.rclone} {
		if len(ss) == 0 {
			continue
		}
		if one := find(ss, ss[0].name, 1); one != nil {
			for _, s := range ss {
				if s.conc != 1 {
					fmt.Fprintf(w, "- %s at %d is %.2f× faster than at 1.\n", s.name, s.conc, s.of(rate).med/one.of(rate).med)
				}
			}
		}
	}
	for _, s := range m.upshot {
		if rc := find(m.rclone, "rclone copy", s.conc); rc != nil {
			fmt.Fprintf(w, "- Upshot at concurrency %d vs rclone --transfers %d: %.2f×.\n", s.conc, rc.conc, s.of(rate).med/rc.of(rate).med)
		}
	}
	fmt.Fprintln(w)
}

func (r *report) bigSection(w io.Writer) {
	b := r.big
	if b == nil {
		return
	}
	rate := perSecond(float64(b.size) / 1e6)
	fmt.Fprintf(w, "## 3. One %s file\n\n", sizeLabel(b.size))
	fmt.Fprintf(w, "Random content written once (not sparse), read from the page cache by every run. Upshot uses its defaults (multipart, 100 MB parts, 4 at once, SHA1 and MD5 per part); rclone its defaults (5 MiB chunks, 4 at once) and 100 MB chunks. Each object is deleted after its run.\n\n")
	fmt.Fprintf(w, "| Tool | Runs | Median s | MB/s (median) | MB/s (min–max) | CPU s (median) | Server CPU s (mean) | Peak RSS median MB |\n|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, s := range b.series {
		wall, mbps, rss := s.of(wallSec), s.of(rate), s.of(rssMB)
		fmt.Fprintf(w, "| %s | %d | %.2f | %.0f | %.0f–%.0f | %.2f | %.2f | %.1f |\n", s.name, wall.n, wall.med, mbps.med, mbps.min, mbps.max,
			s.of(cpuMS).med/1e3, s.mean(srvMS)/1e3, rss.med)
	}
	if up := find(b.series, "upshot upload", 0); up != nil {
		fmt.Fprintln(w)
		for _, s := range b.series[1:] {
			fmt.Fprintf(w, "- Upshot vs %s: %.2f×.\n", s.name, up.of(rate).med/s.of(rate).med)
		}
	}
	fmt.Fprintln(w)
}
