// Command benchtool measures Upshot end to end against a real local S3
// server and compares it, in the same run, with the tools people use
// instead: a bare curl PUT and rclone.
//
// It starts the pinned versitygw on 127.0.0.1 (through uploader/s3test),
// builds the real upshot binary, and times whole processes from start to
// exit:
//
//  1. one 1 MB file (latency and peak RSS) against curl and rclone copyto;
//  2. 200 files of 200 KB in one process at several concurrencies, against
//     one by one and against rclone copy;
//  3. one 1 GiB file (throughput, multipart) against rclone copyto;
//  4. `upshot watch` (group "watch", Linux only): a 1 MB PNG renamed into
//     the folder, then copied in with cp, one at a time (latency from the
//     file being complete to the link line), a burst of small files
//     (throughput, each reported once) and the watcher's RSS, against
//     inotifywait piped into rclone copyto in the same run.
//
// Every scenario runs its variants in rounds, rotating their order each
// round, so that a noisy machine slows all of them alike; results are
// medians with min and max. The Markdown report goes to stdout and to -out.
// Temporary data (including the 1 GiB file) is removed at the end and on
// SIGINT.
//
// Usage (from the module root; scripts/bench.sh does this):
//
//	go run ./internal/benchtool -out bench-results.md [-quick] [-only watch]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"upshot/uploader"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	interrupted := ctx.Err() != nil // before stop, which cancels ctx
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil && interrupted:
		fmt.Fprintln(os.Stderr, "benchtool: interrupted; temporary files removed")
		os.Exit(130)
	case err != nil:
		fmt.Fprintln(os.Stderr, "benchtool:", err)
		os.Exit(1)
	}
}

// errUsage marks bad flags; the flag package has already said why.
var errUsage = errors.New("usage")

// options are the command-line settings.
type options struct {
	out         string
	quick       bool
	latencyRuns int
	manyRuns    int
	bigRuns     int
	manyFiles   int
	manySize    int64
	bigSize     int64
	conc        []int
	rtt         time.Duration
	tmp         string
	upshotBin   string
	rcloneBin   string
	goBench     string
	goBenchCmd  string
	skip        map[string]bool
	only        map[string]bool // groups named by -only; empty: all
	args        []string        // as given, for the report

	// The watch group.
	watchRenames     int
	watchBaseRenames int
	watchCp          int
	watchBurst       int
	watchBurstSize   int64
	watchBurstRuns   int
	watchConc        []int
	watchBaseCap     time.Duration
}

// groups are the scenario groups -skip and -only name.
var groups = []string{"1mb", "many", "wan", "big", "watch"}

// parseFlags reads the flags and applies -quick.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	o := options{args: args}
	fs := flag.NewFlagSet("benchtool", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.out, "out", "bench-results.md", "also write the Markdown report to this file (\"\" for none)")
	fs.BoolVar(&o.quick, "quick", false, "fewer runs and a 256 MiB large file, for a quick look (not for the record)")
	fs.IntVar(&o.latencyRuns, "runs-1mb", 21, "runs per tool for the 1 MB file")
	fs.IntVar(&o.manyRuns, "runs-many", 5, "runs per variant for the many-files upload")
	fs.IntVar(&o.bigRuns, "runs-big", 3, "runs per tool for the large file")
	fs.IntVar(&o.manyFiles, "many-files", 200, "number of small files")
	manySize := fs.String("many-size", "200KB", "size of each small file")
	bigSize := fs.String("big-size", "1GiB", "size of the large file")
	conc := fs.String("concurrency", "1,4,8,16", "Upshot concurrencies for the many-files upload (1 is one by one; 4 is the default)")
	fs.DurationVar(&o.rtt, "rtt", 10*time.Millisecond, "round trip added per request in the many-files scenario's second run, as a distant server would (0 skips it)")
	fs.StringVar(&o.tmp, "tmp", "", "folder for temporary data, which needs room for about 2× -big-size (default: $TMPDIR)")
	fs.StringVar(&o.upshotBin, "upshot", "", "use this upshot binary instead of building ./cmd/upshot")
	fs.StringVar(&o.rcloneBin, "rclone", "", "rclone binary (default: PATH, then $(go env GOPATH)/bin)")
	fs.StringVar(&o.goBench, "gobench", "", "output of `go test -bench` to summarise in the report")
	fs.StringVar(&o.goBenchCmd, "gobench-cmd", "", "the command that produced -gobench, for the report")
	skip := fs.String("skip", "", "comma-separated scenarios to skip: 1mb, many, wan, big, watch")
	only := fs.String("only", "", "comma-separated scenarios to run, skipping the others (e.g. -only watch)")
	fs.IntVar(&o.watchRenames, "watch-renames", 200, "watch: 1 MB files renamed into the folder, one at a time")
	fs.IntVar(&o.watchBaseRenames, "watch-baseline-renames", 200, "watch: how many of those renames the inotifywait | rclone baseline also does")
	fs.IntVar(&o.watchCp, "watch-cp", 50, "watch: 1 MB files copied into the folder with cp, one at a time (0 skips)")
	fs.IntVar(&o.watchBurst, "watch-burst", 2000, "watch: files in the burst (0 skips the burst)")
	burstSize := fs.String("watch-burst-size", "2KB", "watch: size of each burst file")
	fs.IntVar(&o.watchBurstRuns, "watch-burst-runs", 3, "watch: bursts per Upshot concurrency (the baseline bursts once)")
	watchConc := fs.String("watch-concurrency", fmt.Sprintf("%d,16", uploader.DefaultConcurrency), "watch: Upshot concurrencies for the burst")
	fs.DurationVar(&o.watchBaseCap, "watch-baseline-cap", time.Minute, "watch: the baseline's burst stops after this long")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "benchtool: unexpected arguments %q\n", fs.Args())
		return o, errUsage
	}
	var err error
	if o.manySize, err = parseSize(*manySize); err != nil {
		return o, fmt.Errorf("-many-size: %w", err)
	}
	if o.bigSize, err = parseSize(*bigSize); err != nil {
		return o, fmt.Errorf("-big-size: %w", err)
	}
	if o.conc, err = parseInts(*conc); err != nil {
		return o, fmt.Errorf("-concurrency: %w", err)
	}
	if o.watchBurstSize, err = parseSize(*burstSize); err != nil {
		return o, fmt.Errorf("-watch-burst-size: %w", err)
	}
	if o.watchConc, err = parseInts(*watchConc); err != nil {
		return o, fmt.Errorf("-watch-concurrency: %w", err)
	}
	if o.skip, err = parseGroups("-skip", *skip); err != nil {
		return o, err
	}
	if o.only, err = parseGroups("-only", *only); err != nil {
		return o, err
	}
	if len(o.only) > 0 {
		for _, g := range groups {
			if !o.only[g] {
				o.skip[g] = true
			}
		}
	}
	if o.quick {
		o.applyQuick(fs)
	}
	return o, o.check()
}

// applyQuick shrinks every flag the user did not set.
func (o *options) applyQuick(fs *flag.FlagSet) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["runs-1mb"] {
		o.latencyRuns = 7
	}
	if !set["runs-many"] {
		o.manyRuns = 2
	}
	if !set["runs-big"] {
		o.bigRuns = 1
	}
	if !set["big-size"] {
		o.bigSize = 256 << 20
	}
	if !set["watch-renames"] {
		o.watchRenames = 50
	}
	if !set["watch-baseline-renames"] {
		o.watchBaseRenames = 50
	}
	if !set["watch-cp"] {
		o.watchCp = 20
	}
	if !set["watch-burst"] {
		o.watchBurst = 500
	}
	if !set["watch-burst-runs"] {
		o.watchBurstRuns = 1
	}
	if !set["watch-baseline-cap"] {
		o.watchBaseCap = 20 * time.Second
	}
}

// parseGroups reads a comma-separated list of scenario groups.
func parseGroups(flagName, s string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, g := range strings.Split(s, ",") {
		if g = strings.TrimSpace(g); g == "" {
			continue
		}
		if !slices.Contains(groups, g) {
			return nil, fmt.Errorf("%s: unknown scenario %q (want %s)", flagName, g, strings.Join(groups, ", "))
		}
		out[g] = true
	}
	return out, nil
}

// check bounds every loop the tool will run.
func (o *options) check() error {
	switch {
	case o.latencyRuns < 1 || o.latencyRuns > 1000:
		return errors.New("-runs-1mb must be 1 to 1000")
	case o.manyRuns < 1 || o.manyRuns > 100:
		return errors.New("-runs-many must be 1 to 100")
	case o.bigRuns < 1 || o.bigRuns > 20:
		return errors.New("-runs-big must be 1 to 20")
	case o.manyFiles < 1 || o.manyFiles > 10000:
		return errors.New("-many-files must be 1 to 10000")
	case o.manySize < 1 || o.manySize > 64<<20:
		return errors.New("-many-size must be 1 byte to 64 MiB")
	case o.bigSize < 1<<20 || o.bigSize > 16<<30:
		return errors.New("-big-size must be 1 MiB to 16 GiB")
	case o.rtt < 0 || o.rtt > time.Second:
		return errors.New("-rtt must be 0 to 1s")
	case o.watchRenames < 1 || o.watchRenames > 5000:
		return errors.New("-watch-renames must be 1 to 5000")
	case o.watchBaseRenames < 0 || o.watchBaseRenames > 5000:
		return errors.New("-watch-baseline-renames must be 0 to 5000")
	case o.watchCp < 0 || o.watchCp > 1000:
		return errors.New("-watch-cp must be 0 to 1000")
	case o.watchBurst < 0 || o.watchBurst > 20000:
		return errors.New("-watch-burst must be 0 to 20000")
	case o.watchBurstSize < 58 || o.watchBurstSize > 16<<20:
		return errors.New("-watch-burst-size must be 58 bytes (the smallest PNG-like file) to 16 MiB")
	case o.watchBurstRuns < 1 || o.watchBurstRuns > 20:
		return errors.New("-watch-burst-runs must be 1 to 20")
	case o.watchBaseCap < time.Second || o.watchBaseCap > 10*time.Minute:
		return errors.New("-watch-baseline-cap must be 1s to 10m")
	}
	for _, c := range append(slices.Clone(o.conc), o.watchConc...) {
		if c < 1 || c > 64 {
			return fmt.Errorf("concurrency %d (-concurrency, -watch-concurrency): use 1 to 64, as Upshot's config does", c)
		}
	}
	return nil
}

// parseSize reads "200KB", "1GiB" or a number of bytes.
func parseSize(s string) (int64, error) {
	n, err := uploader.ParseSize(s)
	return int64(n), err
}

// parseInts reads "1,4,8".
func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		var n int
		if _, err := fmt.Sscan(strings.TrimSpace(f), &n); err != nil {
			return nil, fmt.Errorf("%q is not a list of numbers like 1,4,8", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// run is the whole tool minus process wiring.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	started := time.Now()
	b, err := setup(ctx, o, stderr)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, b.Close()) }()

	rep := &report{opts: o, env: b.describe(ctx)}
	rep.env.rss = b.rssNote
	if o.goBench != "" {
		if rep.goBench, err = readGoBench(o.goBench); err != nil {
			return err
		}
	}
	if err := b.runScenarios(ctx, rep); err != nil {
		return err
	}
	rep.elapsed, rep.loadEnd = time.Since(started), loadAvg()
	return rep.write(stdout, o.out)
}

// manyScenarios runs the many-files scenario against the bare server and,
// unless -rtt is 0, through a proxy that adds a network round trip.
func (b *bench) manyScenarios(ctx context.Context, rep *report) (err error) {
	if b.opts.skip["many"] && (b.opts.skip["wan"] || b.opts.rtt == 0) {
		return nil
	}
	dir, files, err := b.smallFiles()
	if err != nil {
		return err
	}
	if !b.opts.skip["many"] {
		if rep.many, err = b.manyFiles(ctx, dir, files, b.srv.Endpoint, 0); err != nil {
			return fmt.Errorf("many-files scenario: %w", err)
		}
	}
	if b.opts.skip["wan"] || b.opts.rtt == 0 {
		return nil
	}
	p, err := startWANProxy(b.srv.Endpoint, b.opts.rtt)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, p.Close()) }()
	if rep.wan, err = b.manyFiles(ctx, dir, files, p.URL, b.opts.rtt); err != nil {
		return fmt.Errorf("many-files scenario with %v per request: %w", b.opts.rtt, err)
	}
	return nil
}

// runScenarios runs each scenario not skipped, filling in rep.
func (b *bench) runScenarios(ctx context.Context, rep *report) error {
	var err error
	if !b.opts.skip["1mb"] {
		if rep.latency, err = b.latency(ctx); err != nil {
			return fmt.Errorf("1 MB scenario: %w", err)
		}
	}
	if err := b.manyScenarios(ctx, rep); err != nil {
		return err
	}
	if !b.opts.skip["big"] {
		if rep.big, err = b.bigFile(ctx); err != nil {
			return fmt.Errorf("large-file scenario: %w", err)
		}
	}
	if !b.opts.skip["watch"] {
		if rep.watch, err = b.watchGroup(ctx); err != nil {
			return fmt.Errorf("watch scenarios: %w", err)
		}
	}
	return nil
}
