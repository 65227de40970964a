package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"upshot/uploader"
)

// The watch group measures `upshot watch --json` the way a user meets it:
// a screenshot renamed into the watched folder, a file copied in with cp,
// and a burst of small files, each from the moment the file is complete to
// the moment its link is printed. The common Linux recipe (inotifywait piped
// into one rclone copyto per file) runs beside it in the same run, fed the
// same files in alternation, so both share the machine's noise.

// watchResult is the watch group's measurements.
type watchResult struct {
	fileSize    int64 // each renamed or copied file
	burstSize   int64
	warm        int // uncounted renames per watcher before the measured ones
	renames     int // measured renames for Upshot
	baseRenames int // measured renames for the baseline
	cps         int
	burstFiles  int
	baseCap     time.Duration // the baseline's burst stops here
	baseNote    string        // why there is no baseline, if there is none
	linksFyne   string        // "yes", "no" or "" (unknown): does the binary link the GUI

	startup   time.Duration // Upshot: exec to its "watching" line
	lat       []*latSeries  // Upshot, then the baseline if it ran
	idleStart int64         // Upshot's VmRSS a few seconds after start-up
	idleAfter int64         // … and a few seconds after the renames and copies
	hwm       int64         // … and its VmHWM then
	baseIdle  int64         // the baseline's VmRSS (bash, bash, inotifywait) at rest
	bursts    []*burstSeries
}

// latSeries is one watcher's renames and copies, one file at a time.
type latSeries struct {
	name      string
	rename    []float64 // ms, from rename(2) to the output line
	renameOwn []float64 // Upshot's own latency_ms for the same files
	cpStart   []float64 // ms, from starting cp to the output line
	cpExit    []float64 // ms, from cp's exit to the output line
	cpOwn     []float64
	missed    int           // files not reported within watchFileTimeout
	stray     int           // lines for files no longer waited for
	renameCPU time.Duration // the watcher's CPU time over the measured renames
	cpCPU     time.Duration // … and over the copies
}

// burstSeries is one watcher's bursts.
type burstSeries struct {
	name string
	conc int // Upshot's [transfer] concurrency; 0 for the baseline
	runs []burstRun
}

// burstRun is one burst of small files written into the folder.
type burstRun struct {
	files    int
	reported int           // distinct files reported
	dups     int           // files reported more than once (extra lines)
	dur      time.Duration // first write to last line, or the cap
	writes   time.Duration // first write to last write
	capped   bool          // stopped at the time limit before every file was reported
	peak     int64         // Upshot: VmHWM; baseline: the group's sampled VmRSS maximum
	cpu      time.Duration // the watcher's CPU time (its whole process group)
	srvCPU   time.Duration // the server's, meanwhile
	objects  int           // objects the server holds afterwards (-1: not checked)
	own      []float64     // Upshot's latency_ms of every file
}

// rate is files reported per second.
func (r burstRun) rate() float64 {
	if r.dur <= 0 {
		return 0
	}
	return float64(r.reported) / r.dur.Seconds()
}

const (
	watchIdle        = 3 * time.Second  // "a few seconds of nothing" before reading idle RSS
	watchFileTimeout = 15 * time.Second // per file, one at a time
	watchMaxMissed   = 5                // more misses than this end the group
	watchBurstLimit  = 2 * time.Minute  // Upshot's burst must finish within this
	watchGrace       = time.Second      // after the last file, to catch duplicates
)

// watchGroup runs the whole group. The baseline needs bash and
// inotifywait (Debian: inotify-tools); without them only Upshot is
// measured and the report says why.
func (b *bench) watchGroup(ctx context.Context) (*watchResult, error) {
	if !watchSupported {
		return nil, errors.New("the watch group reads /proc and uses inotify: Linux only (skip it with -skip watch)")
	}
	o := b.opts
	res := &watchResult{
		fileSize: latencySize, burstSize: o.watchBurstSize, warm: 3,
		renames: o.watchRenames, baseRenames: min(o.watchBaseRenames, o.watchRenames),
		cps: o.watchCp, burstFiles: o.watchBurst, baseCap: o.watchBaseCap,
	}
	if out, err := exec.CommandContext(ctx, "go", "version", "-m", b.upshot).Output(); err == nil {
		res.linksFyne = map[bool]string{true: "yes", false: "no"}[strings.Contains(string(out), "fyne.io/fyne")]
	}
	bash, err := exec.LookPath("bash")
	if err == nil {
		_, err = exec.LookPath("inotifywait")
	}
	if err != nil {
		res.baseNote = fmt.Sprintf("baseline not run: %v (install inotify-tools: scripts/deps.sh bench)", err)
		b.logf("%s", res.baseNote)
	}
	if err := b.watchLatency(ctx, res, bash); err != nil {
		return nil, fmt.Errorf("rename and cp latency: %w", err)
	}
	if err := b.watchBursts(ctx, res, bash); err != nil {
		return nil, fmt.Errorf("burst: %w", err)
	}
	return res, nil
}

// launchUpshot starts `upshot watch` on a fresh folder and data dir.
func (b *bench) launchUpshot(ctx context.Context, tag string, conc int) (*watchProc, error) {
	root, prefix := filepath.Join(b.dir, "watch", tag), "watch/"+tag
	dir := filepath.Join(root, "in")
	spec, err := b.upshotWatcher(tag, dir, prefix, conc)
	if err != nil {
		return nil, err
	}
	return b.startWatcher(ctx, spec, dir, filepath.Join(root, "src"), prefix)
}

// launchBaseline starts the inotifywait | rclone pipeline on a fresh folder.
func (b *bench) launchBaseline(ctx context.Context, tag, bash string) (*watchProc, error) {
	root, prefix := filepath.Join(b.dir, "watch", tag), "watch/"+tag
	dir := filepath.Join(root, "in")
	return b.startWatcher(ctx, b.baselineWatcher(bash, dir, prefix), dir, filepath.Join(root, "src"), prefix)
}

// watchLatency runs scenarios 1 and 2 (renames, then cp) with Upshot and the
// baseline side by side, alternating which goes first, and reads Upshot's
// idle RSS before and after.
func (b *bench) watchLatency(ctx context.Context, res *watchResult, bash string) (err error) {
	up, err := b.launchUpshot(ctx, "lat-upshot", uploader.DefaultConcurrency)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, up.stop()) }()
	res.startup = up.readyAt.Sub(up.started)
	procs := []*watchProc{up}
	limits := []int{res.renames}
	if res.baseNote == "" {
		base, err := b.launchBaseline(ctx, "lat-base", bash)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, base.stop()) }()
		procs, limits = append(procs, base), append(limits, res.baseRenames)
	}
	res.lat = make([]*latSeries, len(procs))
	for i, p := range procs {
		res.lat[i] = &latSeries{name: p.name}
	}

	b.logf("watch: %v of idle after start-up", watchIdle)
	if err := sleepCtx(ctx, watchIdle); err != nil {
		return err
	}
	res.idleStart = procStatusKB(up.pid(), "VmRSS")
	if len(procs) > 1 {
		res.baseIdle = readGroup(procs[1].pid()).rss
	}

	rename := func(measured bool) func(p *watchProc, s *latSeries, i int) error {
		return func(p *watchProc, s *latSeries, i int) error {
			name := fmt.Sprintf("shot-%04d.png", i)
			if !measured {
				name = fmt.Sprintf("warm-%d.png", i)
			}
			// Written and renamed at once, not synced, as a screenshot
			// tool does: the file's mtime is fresh at the rename.
			src := filepath.Join(p.src, name)
			if err := os.WriteFile(src, pngLike(res.fileSize, b.nextSeed()), 0o600); err != nil {
				return fmt.Errorf("write %s: %w", src, err)
			}
			t0 := time.Now()
			if err := os.Rename(src, filepath.Join(p.dir, name)); err != nil {
				return fmt.Errorf("rename into %s: %w", p.dir, err)
			}
			l, err := p.await(ctx, name, watchFileTimeout)
			if err == nil && measured {
				s.rename = append(s.rename, ms(l.at.Sub(t0)))
				if l.ownMS >= 0 {
					s.renameOwn = append(s.renameOwn, l.ownMS)
				}
			}
			return err
		}
	}
	b.logf("watch: %d warm-up renames per watcher", res.warm)
	if err := b.alternate(ctx, procs, res.lat, []int{res.warm, res.warm}, rename(false)); err != nil {
		return err
	}
	b.logf("watch: %d renames of a %s PNG, one at a time, alternating watchers", res.renames, sizeLabel(res.fileSize))
	cpu0 := groupCPUs(procs)
	if err := b.alternate(ctx, procs, res.lat, limits, rename(true)); err != nil {
		return err
	}
	for i, d := range groupCPUs(procs) {
		res.lat[i].renameCPU = d - cpu0[i]
	}

	if res.cps > 0 {
		cp, err := exec.LookPath("cp")
		if err != nil {
			return fmt.Errorf("cp not found: %w", err)
		}
		b.logf("watch: %d files copied in with %s, one at a time", res.cps, cp)
		cpu0 = groupCPUs(procs)
		err = b.alternate(ctx, procs, res.lat, []int{res.cps, res.cps}, func(p *watchProc, s *latSeries, i int) error {
			name := fmt.Sprintf("cp-%04d.png", i)
			src := filepath.Join(p.src, name)
			if err := writeSynced(src, pngLike(res.fileSize, b.nextSeed())); err != nil {
				return err
			}
			t0 := time.Now()
			if out, err := exec.CommandContext(ctx, cp, src, filepath.Join(p.dir, name)).CombinedOutput(); err != nil {
				return fmt.Errorf("cp: %w\n%s", err, out)
			}
			t1 := time.Now()
			l, err := p.await(ctx, name, watchFileTimeout)
			if err == nil {
				s.cpStart, s.cpExit = append(s.cpStart, ms(l.at.Sub(t0))), append(s.cpExit, ms(l.at.Sub(t1)))
				if l.ownMS >= 0 {
					s.cpOwn = append(s.cpOwn, l.ownMS)
				}
			}
			return err
		})
		if err != nil {
			return err
		}
		for i, d := range groupCPUs(procs) {
			res.lat[i].cpCPU = d - cpu0[i]
		}
	}

	b.logf("watch: %v of idle after the work", watchIdle)
	if err := sleepCtx(ctx, watchIdle); err != nil {
		return err
	}
	res.idleAfter = procStatusKB(up.pid(), "VmRSS")
	res.hwm = procStatusKB(up.pid(), "VmHWM")
	for i, p := range procs {
		res.lat[i].stray = p.stray
	}
	// Stop first, so that nothing is in flight, then check the server.
	var errs []error
	for i, p := range procs {
		errs = append(errs, p.stop())
		want := res.warm + limits[i] + res.cps
		if res.lat[i].missed > 0 {
			want = -1
		}
		errs = append(errs, b.verifyAndRemove(ctx, p.prefix, want))
	}
	return errors.Join(errs...)
}

// alternate runs step for i = 0 … limits[k]-1 on every watcher k, one
// file at a time, starting each i with a different watcher so that both
// see the same conditions. A file not reported in time counts as missed;
// after watchMaxMissed misses the group gives up.
func (b *bench) alternate(ctx context.Context, procs []*watchProc, ss []*latSeries, limits []int, step func(*watchProc, *latSeries, int) error) error {
	n := 0
	for _, l := range limits[:len(procs)] {
		n = max(n, l)
	}
	missed := 0
	for i := range n {
		for k := range procs {
			j := (k + i) % len(procs)
			if i >= limits[j] {
				continue
			}
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			err := step(procs[j], ss[j], i)
			switch {
			case errors.Is(err, errTimeout):
				ss[j].missed++
				missed++
				b.logf("watch: %v", err)
				if missed > watchMaxMissed {
					return fmt.Errorf("more than %d files not reported; last: %w\n%s", watchMaxMissed, err, procs[j].errTail)
				}
			case err != nil:
				return err
			}
		}
	}
	return nil
}

// watchBursts runs scenario 3: for each Upshot concurrency, -watch-burst-runs
// bursts (a fresh watcher each), in rotating order; the baseline once, in
// the first round, capped at -watch-baseline-cap.
func (b *bench) watchBursts(ctx context.Context, res *watchResult, bash string) error {
	if res.burstFiles == 0 {
		return nil
	}
	for _, c := range b.opts.watchConc {
		res.bursts = append(res.bursts, &burstSeries{name: "upshot watch", conc: c})
	}
	if res.baseNote == "" {
		res.bursts = append(res.bursts, &burstSeries{name: baselineName})
	}
	for r := 1; r <= b.opts.watchBurstRuns; r++ {
		for k := range res.bursts {
			s := res.bursts[(k+r)%len(res.bursts)]
			if s.conc == 0 && r > 1 {
				continue
			}
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			b.logf("watch: burst of %d × %s, %s, round %d of %d", res.burstFiles, sizeLabel(res.burstSize), burstLabel(s), r, b.opts.watchBurstRuns)
			run, err := b.burstOnce(ctx, res, s, r, bash)
			if err != nil {
				return fmt.Errorf("%s: %w", burstLabel(s), err)
			}
			s.runs = append(s.runs, run)
		}
	}
	return nil
}

// burstLabel names a burst series.
func burstLabel(s *burstSeries) string {
	if s.conc == 0 {
		return s.name
	}
	return fmt.Sprintf("%s, concurrency %d", s.name, s.conc)
}

// burstOnce starts a fresh watcher, warms it up with one renamed file,
// writes the burst into its folder as fast as it can and collects the
// reports until every file is in (plus watchGrace for duplicates) or the
// time limit.
func (b *bench) burstOnce(ctx context.Context, res *watchResult, s *burstSeries, round int, bash string) (run burstRun, err error) {
	var p *watchProc
	limit := watchBurstLimit
	if s.conc == 0 {
		p, err = b.launchBaseline(ctx, fmt.Sprintf("burst-base-r%d", round), bash)
		limit = res.baseCap
	} else {
		p, err = b.launchUpshot(ctx, fmt.Sprintf("burst-c%d-r%d", s.conc, round), s.conc)
	}
	if err != nil {
		return run, err
	}
	defer func() { err = errors.Join(err, p.stop()) }()

	warm := filepath.Join(p.src, "warm.png")
	if err := writeSynced(warm, pngLike(res.burstSize, b.nextSeed())); err != nil {
		return run, err
	}
	if err := os.Rename(warm, filepath.Join(p.dir, "warm.png")); err != nil {
		return run, err
	}
	if _, err := p.await(ctx, "warm.png", watchFileTimeout); err != nil {
		return run, fmt.Errorf("warm-up: %w", err)
	}

	n := res.burstFiles
	names, data := make([]string, n), make([][]byte, n)
	want := make(map[string]int, n)
	for i := range n {
		names[i] = fmt.Sprintf("burst-%05d.png", i)
		data[i] = pngLike(res.burstSize, b.nextSeed())
		want[names[i]] = 0
	}
	// The baseline's rclone processes come and go: sample the group's RSS.
	// Upshot's peak is its VmHWM, read at the end.
	stopSampler, peak := func() {}, func() int64 { return 0 }
	if s.conc == 0 {
		stopSampler, peak = sampleGroupRSS(p.pid(), 50*time.Millisecond)
	}
	cpu0, srv0 := readGroup(p.pid()).cpu, processCPU(b.srvPID)

	run.files = n
	t0 := time.Now()
	for i := range n {
		if err := os.WriteFile(filepath.Join(p.dir, names[i]), data[i], 0o600); err != nil {
			stopSampler()
			return run, fmt.Errorf("write burst file: %w", err)
		}
	}
	run.writes = time.Since(t0)

	deadline := time.NewTimer(limit - time.Since(t0))
	defer deadline.Stop()
	var grace <-chan time.Time
	var last time.Time
collect:
	for {
		select {
		case l := <-p.lines:
			c, ok := want[l.name]
			if !ok {
				p.stray++
				continue
			}
			want[l.name] = c + 1
			if c > 0 {
				run.dups++
				continue
			}
			run.reported++
			last = l.at
			if l.ownMS >= 0 {
				run.own = append(run.own, l.ownMS)
			}
			if run.reported == n {
				grace = time.After(watchGrace)
			}
		case <-grace:
			break collect
		case <-deadline.C:
			if run.reported < n {
				run.capped = true
			}
			break collect
		case <-p.exited:
			stopSampler()
			return run, fmt.Errorf("%s exited: %v\n%s", p.name, p.waitErr, p.errTail)
		case <-ctx.Done():
			stopSampler()
			return run, context.Cause(ctx)
		}
	}
	run.cpu, run.srvCPU = readGroup(p.pid()).cpu-cpu0, processCPU(b.srvPID)-srv0
	stopSampler()
	if s.conc == 0 {
		run.peak = peak()
	} else {
		run.peak = procStatusKB(p.pid(), "VmHWM")
	}
	run.dur = last.Sub(t0)
	if run.capped {
		run.dur = limit
	}
	if err := p.stop(); err != nil {
		return run, err
	}
	run.objects, err = b.countObjects(ctx, p.prefix+"/")
	if err != nil {
		return run, err
	}
	run.objects-- // the warm-up file
	return run, b.verifyAndRemove(ctx, p.prefix, -1)
}

// sampleGroupRSS samples the resident set of process group pgid every
// period until stop is called; peak returns the largest sample.
func sampleGroupRSS(pgid int, period time.Duration) (stop func(), peak func() int64) {
	quit, done := make(chan struct{}), make(chan struct{})
	var top int64
	go func() {
		defer close(done)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			if r := readGroup(pgid).rss; r > top {
				top = r
			}
			select {
			case <-quit:
				return
			case <-t.C:
			}
		}
	}()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			close(quit)
			<-done
		}
	}
	return stop, func() int64 { stop(); return top }
}

// groupCPUs is each watcher's CPU time so far.
func groupCPUs(procs []*watchProc) []time.Duration {
	out := make([]time.Duration, len(procs))
	for i, p := range procs {
		out[i] = readGroup(p.pid()).cpu
	}
	return out
}

// countObjects counts the keys under prefix.
func (b *bench) countObjects(ctx context.Context, prefix string) (int, error) {
	in := &s3.ListObjectsV2Input{Bucket: &b.srv.Bucket, Prefix: &prefix}
	got := 0
	for p := s3.NewListObjectsV2Paginator(b.srv.Client(), in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("list %s: %w", prefix, err)
		}
		got += len(page.Contents)
	}
	return got, nil
}

// verifyAndRemove checks that prefix holds want objects (unless want < 0)
// and removes them from the server's disk.
func (b *bench) verifyAndRemove(ctx context.Context, prefix string, want int) error {
	if want >= 0 {
		return b.checkAndRemove(ctx, nil, prefix, want)
	}
	if err := os.RemoveAll(filepath.Join(b.srv.Dir, b.srv.Bucket, filepath.FromSlash(prefix))); err != nil {
		return fmt.Errorf("remove uploaded objects: %w", err)
	}
	return nil
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// pngLike is a structurally valid PNG of exactly size bytes (at least 58):
// the signature, an IHDR for a 512×512 RGBA image, one IDAT of seeded
// random bytes and IEND, with correct CRCs, so that Upshot's metadata
// stripping parses it as a screenshot and finds nothing to remove. It is
// not decodable as an image; nothing in the upload path decodes pixels.
func pngLike(size int64, seed uint64) []byte {
	const overhead = 8 + (12 + 13) + 12 + 12
	size = max(size, overhead+1)
	buf := make([]byte, 0, size)
	buf = append(buf, "\x89PNG\r\n\x1a\n"...)
	buf = appendChunk(buf, "IHDR", []byte{0, 0, 2, 0, 0, 0, 2, 0, 8, 6, 0, 0, 0})
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	idat := make([]byte, size-overhead)
	_, _ = rand.NewChaCha8(key).Read(idat)
	buf = appendChunk(buf, "IDAT", idat)
	return appendChunk(buf, "IEND", nil)
}

// appendChunk appends one PNG chunk: length, type, data, CRC of type+data.
func appendChunk(buf []byte, typ string, data []byte) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(data)))
	start := len(buf)
	buf = append(buf, typ...)
	buf = append(buf, data...)
	return binary.BigEndian.AppendUint32(buf, crc32.ChecksumIEEE(buf[start:]))
}

// writeSynced writes data to path and syncs it, so that writeback does not
// run while the file is being measured.
func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	_, werr := f.Write(data)
	serr := f.Sync()
	if err := errors.Join(werr, serr, f.Close()); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
