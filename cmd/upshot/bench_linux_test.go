package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"upshot/internal/metastrip"
	"upshot/uploader"
	"upshot/uploader/s3test"
)

// End-to-end benchmarks: the real upshot binary (built by TestMain) against
// versitygw on loopback, whole processes as a user runs them. They run only
// with -bench. scripts/bench.sh runs them in rounds that alternate with
// scripts/baselines.sh (curl, rclone, inotifywait | rclone copyto), and
// turns both outputs into bench-results.md. Every figure is a custom metric
// (ns/op is dropped: it would count the untimed preparation too); run with
// -benchtime 1x -count N for N runs whose median the report takes, except
// the watch latencies, whose percentiles are over the iterations of a run.
//
// Peak RSS: Go starts children with vfork, so the kernel counts the test
// binary's own resident set in a child's ru_maxrss (ProcessState.SysUsage),
// and every child would seem as large as the test binary. GNU time forks
// from its own small image and reports the child's true peak (%M), so the
// uploads run under /usr/bin/time -f %M, as the baselines do; its start-up
// is in every wall and CPU time alike. A watcher's RSS is its VmRSS and
// VmHWM in /proc, which exec resets.
//
// Knobs: UPSHOT_BENCH_BIG (size of the large file, default 1GiB) and
// UPSHOT_BENCH_BURST (files in a burst, default 2000).

// bed is one benchmark's server and working folder.
type bed struct {
	srv  *s3test.Server
	dir  string
	env  []string // credentials, no display
	seed uint64
}

func newBed(b *testing.B) *bed {
	b.Helper()
	e := &bed{srv: s3test.Start(b, s3test.Options{}), dir: b.TempDir()}
	e.env = append(os.Environ(), uploader.EnvKeyID+"="+e.srv.AccessKey, uploader.EnvKey+"="+e.srv.SecretKey,
		"DISPLAY=", "WAYLAND_DISPLAY=")
	return e
}

// config writes a config for endpoint that puts keys under prefix, with a
// data dir of that name; it returns the environment to run upshot in.
func (e *bed) config(b *testing.B, endpoint, prefix string, conc int) (cfg string, env []string) {
	b.Helper()
	cfg = filepath.Join(e.dir, "config", prefix+".toml")
	text := fmt.Sprintf("[target]\nendpoint = %q\nbucket = %q\npath_template = %q\n\n[transfer]\nconcurrency = %d\n",
		endpoint, e.srv.Bucket, prefix+"/{name}{ext}", conc)
	writeFile(b, cfg, []byte(text), false)
	return cfg, append(slices.Clip(e.env), uploader.EnvDataDir+"="+filepath.Join(e.dir, "data", prefix))
}

// objects counts the objects under prefix and removes them from the
// server's disk (the posix backend keeps one file per object).
func (e *bed) objects(b *testing.B, prefix string) int {
	b.Helper()
	root, n := filepath.Join(e.srv.Dir, e.srv.Bucket, prefix), 0
	err := filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	if err != nil && !os.IsNotExist(err) {
		b.Fatalf("count objects under %s: %v", prefix, err)
	}
	if err := os.RemoveAll(root); err != nil {
		b.Fatalf("remove objects under %s: %v", prefix, err)
	}
	return n
}

// next gives every generated file its own content.
func (e *bed) next() uint64 { e.seed++; return e.seed }

// sample is one timed run of a child process.
type sample struct {
	wall, link, cpu, srvCPU time.Duration // start to exit, to the first line, user+system, the server's
	rssMB                   float64       // peak resident set
	lines                   int           // lines printed
	server                  bool          // whether srvCPU was measured
}

// timed runs upshot with args under GNU time and fails the benchmark
// unless it exits 0. srvPID is the server whose CPU time to count, or 0.
func timed(b *testing.B, env []string, srvPID int, args ...string) sample {
	b.Helper()
	gnuTime, err := exec.LookPath("time")
	if err != nil {
		b.Fatalf("GNU time is missing (scripts/deps.sh bench installs it): %v", err)
	}
	f, err := os.CreateTemp("", "upshot-rss-")
	if err != nil {
		b.Fatal(err)
	}
	rssFile := f.Name()
	f.Close()
	defer os.Remove(rssFile)
	cmd := exec.CommandContext(b.Context(), gnuTime, append([]string{"-f", "%M", "-o", rssFile, upshotBin}, args...)...)
	cmd.Env = env
	out := &lineClock{}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &stderr
	srv0 := procCPU(srvPID)
	out.start = time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("upshot %s: %v\n%s", args[0], err, stderr.Bytes())
	}
	r := sample{wall: time.Since(out.start), link: out.first, lines: out.lines, srvCPU: procCPU(srvPID) - srv0, server: srvPID != 0}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage) // GNU time's own CPU included
	r.cpu = time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime))
	r.rssMB = peakRSS(b, rssFile)
	return r
}

// lineClock keeps when the first line arrived and counts lines. The exec
// package writes to it from one goroutine and is done by the time Run
// returns.
type lineClock struct {
	start time.Time
	first time.Duration
	lines int
}

func (w *lineClock) Write(p []byte) (int, error) {
	n := bytes.Count(p, []byte{'\n'})
	if n > 0 && w.lines == 0 {
		w.first = time.Since(w.start)
	}
	w.lines += n
	return len(p), nil
}

// report sets the mean wall time (in ms, under wallUnit), time to the first
// line, CPU and server CPU of runs, their largest peak RSS, and rate: units
// per second of wall time under rateUnit (none when rateUnit is "").
func report(b *testing.B, runs []sample, wallUnit string, units float64, rateUnit string) {
	f := map[string]float64{}
	for _, r := range runs {
		f[wallUnit] += ms(r.wall) / float64(len(runs))
		f["link-ms"] += ms(r.link) / float64(len(runs))
		f["cpu-ms/op"] += ms(r.cpu) / float64(len(runs))
		f["srv-cpu-ms/op"] += ms(r.srvCPU) / float64(len(runs))
		f["peak-rss-MB"] = max(f["peak-rss-MB"], r.rssMB)
	}
	if !runs[0].server {
		delete(f, "srv-cpu-ms/op")
	}
	if rateUnit != "" { // many files: a rate rather than when the first link came
		f[rateUnit] = units / (f[wallUnit] / 1e3)
		delete(f, "link-ms")
	}
	reportAll(b, f)
}

// BenchmarkUpload1MB is one `upshot upload` of a fresh 1 MB file, from
// process start to exit.
func BenchmarkUpload1MB(b *testing.B) {
	e := newBed(b)
	cfg, env := e.config(b, e.srv.Endpoint, "lat", uploader.DefaultConcurrency)
	upload := func(i int) sample {
		p := filepath.Join(e.dir, fmt.Sprintf("shot-%03d.bin", i))
		writeRandom(b, p, 1_000_000, e.next())
		r := timed(b, env, e.srv.PID(), "upload", "--config", cfg, "--no-clipboard", p)
		if r.lines != 1 {
			b.Fatalf("upshot printed %d lines, want one link", r.lines)
		}
		return r
	}
	upload(0) // learns the endpoint's capabilities, as any installed copy has
	var runs []sample
	for i := 1; b.Loop(); i++ {
		runs = append(runs, upload(i))
	}
	if n := e.objects(b, "lat"); n != len(runs)+1 {
		b.Fatalf("the server holds %d objects, want %d", n, len(runs)+1)
	}
	report(b, runs, "ms/upload", 0, "")
}

// BenchmarkVersion is `upshot version`: the cost of starting the binary at
// all, the floor under every upload.
func BenchmarkVersion(b *testing.B) {
	var runs []sample
	for b.Loop() {
		runs = append(runs, timed(b, os.Environ(), 0, "version"))
	}
	report(b, runs, "ms/op", 0, "")
}

// BenchmarkUploadMany is one `upshot upload` of 200 files of 200 KB at
// each concurrency, on the bare server and behind a proxy that holds each
// request for 10 ms, as a distant server would. As in the rclone baseline
// (scripts/baselines.sh), the concurrencies run in turn against one server
// and one data dir, after a one-file warm-up that learns the endpoint's
// capabilities, as any installed copy has.
func BenchmarkUploadMany(b *testing.B) {
	const files, size = 200, 200_000
	for _, rtt := range []time.Duration{0, 10 * time.Millisecond} {
		b.Run(fmt.Sprintf("rtt=%dms", rtt.Milliseconds()), func(b *testing.B) {
			e := newBed(b)
			endpoint := e.srv.Endpoint
			if rtt > 0 {
				endpoint = s3test.NewProxy(b, e.srv, s3test.ProxyOptions{Latency: rtt}).URL
			}
			paths := make([]string, files)
			for i := range paths {
				paths[i] = filepath.Join(e.dir, "many", fmt.Sprintf("img-%04d.bin", i))
				writeRandom(b, paths[i], size, e.next())
			}
			cfg, env := e.config(b, endpoint, "many-warm", uploader.DefaultConcurrency)
			if r := timed(b, env, e.srv.PID(), "upload", "--config", cfg, "--no-clipboard", paths[0]); r.lines != 1 {
				b.Fatalf("the warm-up printed %d lines, want one link", r.lines)
			}
			for _, conc := range []int{1, 4, 8, 16} {
				b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
					var runs []sample
					for i := 1; b.Loop(); i++ {
						prefix := fmt.Sprintf("many-%d-%d", conc, i)
						cfg, _ := e.config(b, endpoint, prefix, conc)
						stamp(b, e.next(), paths...)
						r := timed(b, env, e.srv.PID(), append([]string{"upload", "--config", cfg, "--no-clipboard"}, paths...)...)
						if n := e.objects(b, prefix); r.lines != len(paths) || n != len(paths) {
							b.Fatalf("%d links printed and %d objects stored, want %d", r.lines, n, len(paths))
						}
						runs = append(runs, r)
					}
					report(b, runs, "ms/op", files, "files/s")
				})
			}
		})
	}
}

// BenchmarkUploadBig is one `upshot upload` of a large file (multipart,
// Upshot's defaults), read from the page cache.
func BenchmarkUploadBig(b *testing.B) {
	size := int64(1 << 30)
	if s := os.Getenv("UPSHOT_BENCH_BIG"); s != "" {
		n, err := uploader.ParseSize(s)
		if err != nil {
			b.Fatalf("UPSHOT_BENCH_BIG: %v", err)
		}
		size = int64(n)
	}
	e := newBed(b)
	warm := filepath.Join(e.dir, "warm.bin")
	writeRandom(b, warm, 1000, e.next())
	cfg, env := e.config(b, e.srv.Endpoint, "big", uploader.DefaultConcurrency)
	timed(b, env, 0, "upload", "--config", cfg, "--no-clipboard", warm)
	e.objects(b, "big")
	file := filepath.Join(e.dir, "big.bin")
	writeRandom(b, file, size, e.next())
	var runs []sample
	for b.Loop() {
		stamp(b, e.next(), file) // new content: the history knows the old
		runs = append(runs, timed(b, env, e.srv.PID(), "upload", "--config", cfg, "--no-clipboard", file))
		if n := e.objects(b, "big"); n != 1 {
			b.Fatalf("the server holds %d objects, want 1", n)
		}
	}
	report(b, runs, "ms/op", float64(size)/1e6, "MB/s")
}

// watchProc is a running `upshot watch --json`.
type watchProc struct {
	cmd            *exec.Cmd
	dir, src       string // the watched folder, and one beside it
	started, ready time.Time
	lines          chan arrival
}

// arrival is one line of the watcher, stamped as it arrived.
type arrival struct {
	at   time.Time
	name string
	own  float64 // Upshot's own latency_ms
}

// watch starts a watcher with a fresh folder and data dir, uploading under
// prefix, and waits until it says it is watching.
func (e *bed) watch(b *testing.B, prefix string, conc int) *watchProc {
	b.Helper()
	w := &watchProc{dir: filepath.Join(e.dir, prefix, "in"), src: filepath.Join(e.dir, prefix, "src"), lines: make(chan arrival, 1<<15)}
	for _, d := range []string{w.dir, w.src} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			b.Fatal(err)
		}
	}
	cfg, env := e.config(b, e.srv.Endpoint, prefix, conc)
	w.cmd = exec.Command(upshotBin, "watch", "--config", cfg, "--json", "--no-clipboard", w.dir)
	w.cmd.Env = env
	stdout, err := w.cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	stderr, err := w.cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	w.started = time.Now()
	if err := w.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.cmd.Process.Kill(); w.cmd.Wait() })
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			at := time.Now()
			var l watchLine
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Event == "" {
				w.lines <- arrival{at: at, name: filepath.Base(l.File), own: l.LatencyMS}
			}
		}
	}()
	ready := make(chan time.Time, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "watching") {
				select {
				case ready <- time.Now():
				default:
				}
			}
		}
	}()
	select {
	case w.ready = <-ready:
	case <-time.After(time.Minute): // a hang guard
		b.Fatal("upshot watch did not say it was watching")
	}
	return w
}

// await waits for the line reporting name, skipping others.
func (w *watchProc) await(b *testing.B, name string) arrival {
	b.Helper()
	guard := time.After(2 * time.Minute)
	for {
		select {
		case l := <-w.lines:
			if l.name == name {
				return l
			}
		case <-guard:
			b.Fatalf("upshot watch did not report %s", name)
		}
	}
}

// renameIn writes a PNG beside the folder and renames it in, as a
// screenshot tool does; it returns the moment just before rename(2).
func (e *bed) renameIn(b *testing.B, w *watchProc, name string, size int64) time.Time {
	b.Helper()
	src := filepath.Join(w.src, name)
	writeFile(b, src, pngLike(size, e.next()), false)
	t0 := time.Now()
	if err := os.Rename(src, filepath.Join(w.dir, name)); err != nil {
		b.Fatal(err)
	}
	return t0
}

// stop ends the watcher with SIGTERM, as a user would.
func (w *watchProc) stop(b *testing.B) {
	b.Helper()
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	if err := w.cmd.Wait(); err != nil {
		b.Fatalf("upshot watch did not stop cleanly: %v", err)
	}
}

// watchIdle is how long a watcher rests before its RSS is read.
const watchIdle = 3 * time.Second

// BenchmarkWatchRename renames a fresh 1 MB PNG into a watched folder per
// iteration and times it from rename(2) to the watcher's line. It also
// reports the watcher's start-up and its RSS at rest before and after.
func BenchmarkWatchRename(b *testing.B) {
	e := newBed(b)
	w := e.watch(b, "rename", uploader.DefaultConcurrency)
	pid := w.cmd.Process.Pid
	time.Sleep(watchIdle)
	idle := procStatus(pid, "VmRSS")
	for i := range 3 { // the first probes the endpoint
		name := fmt.Sprintf("warm-%d.png", i)
		e.renameIn(b, w, name, 1_000_000)
		w.await(b, name)
	}
	var lat, own, gap []float64
	cpu0 := procCPU(pid)
	for i := 0; b.Loop(); i++ {
		name := fmt.Sprintf("shot-%04d.png", i)
		t0 := e.renameIn(b, w, name, 1_000_000)
		l := w.await(b, name)
		lat, own = append(lat, ms(l.at.Sub(t0))), append(own, l.own)
		gap = append(gap, ms(l.at.Sub(t0))-l.own)
	}
	cpu := procCPU(pid) - cpu0
	time.Sleep(watchIdle)
	after, hwm := procStatus(pid, "VmRSS"), procStatus(pid, "VmHWM")
	w.stop(b)
	if n := e.objects(b, "rename"); n != len(lat)+3 {
		b.Fatalf("the server holds %d objects, want %d", n, len(lat)+3)
	}
	reportAll(b, latencies(lat), map[string]float64{
		"own-p50-ms": percentile(own, 50), "own-p99-ms": percentile(own, 99),
		"gap-p50-ms": percentile(gap, 50), "gap-p99-ms": percentile(gap, 99),
		"cpu-ms/file": ms(cpu) / float64(len(lat)), "startup-ms": ms(w.ready.Sub(w.started)),
		"idle-rss-MB": idle, "after-rss-MB": after, "hwm-MB": hwm,
	})
}

// BenchmarkWatchCopy copies a synced 1 MB PNG into a watched folder with
// the real cp per iteration, and times it from cp's start and from its
// exit to the watcher's line.
func BenchmarkWatchCopy(b *testing.B) {
	e := newBed(b)
	w := e.watch(b, "cp", uploader.DefaultConcurrency)
	pid := w.cmd.Process.Pid
	e.renameIn(b, w, "warm.png", 1_000_000)
	w.await(b, "warm.png")
	var fromStart, fromExit, own []float64
	var cpu time.Duration
	for i := 0; b.Loop(); i++ {
		name := fmt.Sprintf("cp-%04d.png", i)
		src := filepath.Join(w.src, name)
		writeFile(b, src, pngLike(1_000_000, e.next()), true)
		cpu0, t0 := procCPU(pid), time.Now()
		if out, err := exec.Command("cp", src, filepath.Join(w.dir, name)).CombinedOutput(); err != nil {
			b.Fatalf("cp: %v\n%s", err, out)
		}
		t1 := time.Now()
		l := w.await(b, name)
		cpu += procCPU(pid) - cpu0
		fromStart, fromExit = append(fromStart, ms(l.at.Sub(t0))), append(fromExit, ms(l.at.Sub(t1)))
		own = append(own, l.own)
	}
	time.Sleep(watchIdle)
	after, hwm := procStatus(pid, "VmRSS"), procStatus(pid, "VmHWM")
	w.stop(b)
	if n := e.objects(b, "cp"); n != len(own)+1 {
		b.Fatalf("the server holds %d objects, want %d", n, len(own)+1)
	}
	reportAll(b, latencies(fromExit), map[string]float64{
		"start-p50-ms": percentile(fromStart, 50), "own-p50-ms": percentile(own, 50), "own-p99-ms": percentile(own, 99),
		"cpu-ms/file": ms(cpu) / float64(len(own)), "after-rss-MB": after, "hwm-MB": hwm,
	})
}

// BenchmarkWatchBurst starts a fresh watcher per iteration, warms it up
// with one file, writes a burst of 2 KB PNGs straight into its folder and
// collects the lines until every file is in, plus a second for duplicates.
// Files/s is files reported over the time from the first write to the last
// line; the server's object count is read once the watcher has stopped.
func BenchmarkWatchBurst(b *testing.B) {
	n := 2000
	if s := os.Getenv("UPSHOT_BENCH_BURST"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			b.Fatalf("UPSHOT_BENCH_BURST=%q: want a number of files", s)
		}
	}
	for _, conc := range []int{uploader.DefaultConcurrency, 16} {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			e := newBed(b)
			sum, hwm := map[string]float64{}, 0.0 // means over the runs, but the peak
			var own []float64
			for i := 0; b.Loop(); i++ {
				prefix := fmt.Sprintf("burst-%d", i)
				w := e.watch(b, prefix, conc)
				e.renameIn(b, w, "warm.png", 2000)
				w.await(b, "warm.png")
				data, seen := make([][]byte, n), make(map[string]int, n)
				for k := range data {
					data[k] = pngLike(2000, e.next())
				}
				pid := w.cmd.Process.Pid
				cpu0, srv0, t0 := procCPU(pid), procCPU(e.srv.PID()), time.Now()
				for k, d := range data { // as fast as it can: create, write, close
					if err := os.WriteFile(filepath.Join(w.dir, fmt.Sprintf("burst-%05d.png", k)), d, 0o600); err != nil {
						b.Fatal(err)
					}
				}
				writes := time.Since(t0)
				var last time.Time
				var grace <-chan time.Time
				guard := time.After(5 * time.Minute)
			collect:
				for {
					select {
					case l := <-w.lines:
						if !strings.HasPrefix(l.name, "burst-") {
							continue
						}
						seen[l.name]++
						if seen[l.name] == 1 {
							last = l.at
							own = append(own, l.own)
						}
						if len(seen) == n && grace == nil {
							grace = time.After(time.Second)
						}
					case <-grace:
						break collect
					case <-guard:
						b.Fatalf("%d of %d files reported", len(seen), n)
					}
				}
				sum["cpu-ms/op"] += ms(procCPU(pid) - cpu0)
				sum["srv-cpu-ms/op"] += ms(procCPU(e.srv.PID()) - srv0)
				hwm = max(hwm, procStatus(pid, "VmHWM"))
				w.stop(b)
				sum["files/s"] += float64(n) / last.Sub(t0).Seconds()
				sum["ms/op"] += ms(last.Sub(t0))
				sum["write-ms"] += ms(writes)
				sum["reported"] += float64(len(seen))
				for _, c := range seen {
					sum["dups"] += float64(c - 1)
				}
				sum["objects"] += float64(e.objects(b, prefix) - 1) // the warm-up file
			}
			for unit := range sum {
				sum[unit] /= float64(b.N)
			}
			reportAll(b, sum, map[string]float64{"hwm-MB": hwm,
				"own-p50-ms": percentile(own, 50), "own-p99-ms": percentile(own, 99), "own-max-ms": percentile(own, 100)})
		})
	}
}

// reportAll reports every figure, unit → value, and drops ns/op, which
// would count the untimed preparation too.
func reportAll(b *testing.B, figures ...map[string]float64) {
	b.ReportMetric(0, "ns/op")
	for _, f := range figures {
		for unit, v := range f {
			b.ReportMetric(v, unit)
		}
	}
}

// latencies are the p50, p90, p99, max and min of xs (ms).
func latencies(xs []float64) map[string]float64 {
	return map[string]float64{"p50-ms": percentile(xs, 50), "p90-ms": percentile(xs, 90), "p99-ms": percentile(xs, 99),
		"max-ms": percentile(xs, 100), "min-ms": percentile(xs, 0)}
}

// percentile is the p-th percentile of xs, interpolated linearly between
// the closest ranks; 0 for no data.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	pos := p / 100 * float64(len(s)-1)
	lo := int(pos)
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[lo] + (pos-float64(lo))*(s[lo+1]-s[lo])
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// procCPU is a process's CPU time so far (user+system, 10 ms ticks), or 0.
func procCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// After "(comm)": state ppid … utime (the 12th) stime.
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ is 100
}

// procStatus reads a "Key: 1234 kB" line of /proc/PID/status, in MB.
func procStatus(pid int, key string) float64 {
	raw, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for line := range strings.Lines(string(raw)) {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb * 1024 / 1e6
		}
	}
	return 0
}

// writeFile writes data to path, synced to disk when sync is set.
func writeFile(b *testing.B, path string, data []byte, sync bool) {
	b.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(path)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil && sync {
		err = f.Sync()
	}
	if err := errors.Join(err, f.Close()); err != nil {
		b.Fatalf("write %s: %v", path, err)
	}
}

// writeRandom writes size seeded random bytes to path and syncs them, so
// that writeback does not run during the measurements.
func writeRandom(b *testing.B, path string, size int64, seed uint64) {
	b.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	if _, err := io.CopyN(f, rand.NewChaCha8(key), size); err != nil {
		b.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
}

// stamp overwrites the first bytes of each file with n, so that the next
// upload sees new content: the history knows content uploaded before and
// would only hand back its link.
func stamp(b *testing.B, n uint64, paths ...string) {
	b.Helper()
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], n)
	for _, p := range paths {
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		_, err = f.WriteAt(buf[:], 0)
		if cerr := f.Close(); err != nil || cerr != nil {
			b.Fatalf("stamp %s: %v %v", p, err, cerr)
		}
	}
}

// pngLike is a structurally valid PNG of exactly size bytes (at least 58):
// an IHDR, one IDAT of seeded random bytes and IEND, with correct CRCs, so
// that metadata stripping parses it and finds nothing to remove. Nothing in
// the upload path decodes pixels.
func pngLike(size int64, seed uint64) []byte {
	const overhead = 8 + (12 + 13) + 12 + 12
	buf := append(make([]byte, 0, size), "\x89PNG\r\n\x1a\n"...)
	buf = appendChunk(buf, "IHDR", []byte{0, 0, 2, 0, 0, 0, 2, 0, 8, 6, 0, 0, 0})
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	idat := make([]byte, max(size-overhead, 1))
	_, _ = rand.NewChaCha8(key).Read(idat)
	return appendChunk(appendChunk(buf, "IDAT", idat), "IEND", nil)
}

// appendChunk appends one PNG chunk: length, type, data, CRC of type+data.
func appendChunk(buf []byte, typ string, data []byte) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(data)))
	start := len(buf)
	buf = append(append(buf, typ...), data...)
	return binary.BigEndian.AppendUint32(buf, crc32.ChecksumIEEE(buf[start:]))
}

// The benchmarks' files must look like clean screenshots to metadata
// stripping: parsed without error, nothing removed.
func TestPNGLikeIsACleanPNG(t *testing.T) {
	for _, size := range []int64{58, 2000, 1_000_000} {
		data := pngLike(size, uint64(size))
		res, err := metastrip.Strip(io.Discard, bytes.NewReader(data))
		if int64(len(data)) != size || metastrip.Detect(data[:16]) == "" || err != nil || res.Changed {
			t.Fatalf("pngLike(%d): %d bytes, detected %q, strip: %v, %+v", size, len(data), metastrip.Detect(data[:16]), err, res)
		}
	}
}

// peakRSS reads the peak RSS, in MB, from the report GNU time wrote to
// file with -f %M (in KiB, its last field).
func peakRSS(b *testing.B, file string) float64 {
	b.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		b.Fatalf("read GNU time's report: %v", err)
	}
	fields := strings.Fields(string(raw))
	if len(fields) == 0 {
		b.Fatalf("GNU time wrote %q", raw)
	}
	kib, err := strconv.ParseFloat(fields[len(fields)-1], 64)
	if err != nil {
		b.Fatalf("GNU time wrote %q: %v", raw, err)
	}
	return kib * 1024 / 1e6
}
