package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"upshot/uploader"
)

// variant is one way of doing a scenario's job. run does it once in round r
// (round 0 is the warm-up) and returns the timed sample; preparation and
// checks inside run happen outside the timed child process.
type variant struct {
	name string
	conc int // concurrency or --transfers, where it applies
	run  func(ctx context.Context, r int) (sample, error)
}

// series is the recorded samples of one variant.
type series struct {
	name    string
	conc    int
	samples []sample
}

// rounds runs every variant once per round, starting each round one variant
// further on, so that drifts in the machine's load hit all variants alike.
// Round 0 is an unrecorded warm-up when warm is set.
func (b *bench) rounds(ctx context.Context, title string, runs int, warm bool, vs []variant) ([]series, error) {
	out := make([]series, len(vs))
	for i, v := range vs {
		out[i] = series{name: v.name, conc: v.conc}
	}
	first := 1
	if warm {
		first = 0
	}
	for r := first; r <= runs; r++ {
		b.logf("%s: round %d of %d%s", title, r, runs, map[bool]string{true: " (warm-up)"}[r == 0])
		for k := range vs {
			if ctx.Err() != nil {
				return nil, context.Cause(ctx)
			}
			i := (k + r) % len(vs)
			s, err := vs[i].run(ctx, r)
			if err != nil {
				return nil, fmt.Errorf("%s, round %d: %w", vs[i].name, r, err)
			}
			if r > 0 {
				out[i].samples = append(out[i].samples, s)
			}
		}
	}
	return out, nil
}

// latencyResult is scenario 1: one small file, whole process.
type latencyResult struct {
	size   int64
	series []series
}

// latencySize is the "1 MB" of scenario 1.
const latencySize = 1_000_000

// latency times one 1 MB upload per process: Upshot, curl, rclone, and
// `upshot version` as the floor. Each run uploads a freshly written file
// under a fresh name, so nothing deduplicates. The warm-up round also lets
// Upshot learn the endpoint's capabilities once, as any installed copy has.
func (b *bench) latency(ctx context.Context) (*latencyResult, error) {
	cfg, err := b.upshotConfig("latency", b.srv.Endpoint, "lat/{name}{ext}", uploader.DefaultConcurrency)
	if err != nil {
		return nil, err
	}
	oneLink := func(s sample) error {
		if countLines(s.stdout) != 1 || s.link == 0 {
			return fmt.Errorf("upshot printed %q, want one link", s.stdout)
		}
		return nil
	}
	vs := []variant{
		{name: "upshot upload", run: b.freshUpload("upshot", func(p, _ string) command { return b.upshotUpload(cfg, p) }, oneLink)},
		{name: "curl PUT (bare SigV4)", run: b.freshUpload("curl", b.curlPut, nil)},
		{name: "rclone copyto", run: b.freshUpload("rclone", func(p, k string) command { return b.rcloneCopyto(p, k) }, nil)},
		{name: "upshot version (process start only)", run: func(ctx context.Context, _ int) (sample, error) {
			return b.exec(ctx, b.upshotVersion())
		}},
	}
	ss, err := b.rounds(ctx, "1 MB file", b.opts.latencyRuns, true, vs)
	if err != nil {
		return nil, err
	}
	return &latencyResult{size: latencySize, series: ss}, nil
}

// freshUpload makes a variant's run for scenario 1: write a new file of
// random content named for the tool and round (its name is also its key),
// time cmd(path, key), then check the sample (when check is set) and that
// the object arrived. The local file is removed afterwards.
func (b *bench) freshUpload(tool string, cmd func(path, key string) command, check func(sample) error) func(context.Context, int) (sample, error) {
	return func(ctx context.Context, r int) (sample, error) {
		name := fmt.Sprintf("%s-%03d.bin", tool, r)
		path, key := filepath.Join(b.dir, "lat", name), "lat/"+name
		if err := writeRandomFile(path, latencySize, b.nextSeed()); err != nil {
			return sample{}, err
		}
		defer os.Remove(path)
		s, err := b.exec(ctx, cmd(path, key))
		if err == nil && check != nil {
			err = check(s)
		}
		if err == nil {
			err = b.expectObjects(ctx, key, 1)
		}
		return s, err
	}
}

// manyResult is scenario 2: many small files in one process.
type manyResult struct {
	files  int
	size   int64
	rtt    time.Duration // delay added per request; 0 for the bare server
	upshot []series      // one per concurrency
	rclone []series      // one per --transfers
}

// smallFiles writes the folder of small files once and lists it.
func (b *bench) smallFiles() (dir string, files []string, err error) {
	dir = filepath.Join(b.dir, "many")
	b.logf("writing %d files of %d bytes", b.opts.manyFiles, b.opts.manySize)
	for i := range b.opts.manyFiles {
		p := filepath.Join(dir, fmt.Sprintf("img-%04d.bin", i))
		if err := writeRandomFile(p, b.opts.manySize, b.nextSeed()); err != nil {
			return "", nil, err
		}
		files = append(files, p)
	}
	return dir, files, nil
}

// manyFiles uploads the folder of small files through endpoint with one
// upshot process per run at each concurrency, and with rclone copy at each
// --transfers (every Upshot concurrency, and rclone's default 4). Every run
// stamps new content into the files and writes under its own key prefix, so
// nothing deduplicates, and the prefix is removed from the server
// afterwards. rtt is what the endpoint adds per
// request, for the report.
func (b *bench) manyFiles(ctx context.Context, dir string, files []string, endpoint string, rtt time.Duration) (*manyResult, error) {
	tag := "many"
	if rtt > 0 {
		tag = "wan"
	}
	var vs []variant
	for _, c := range b.opts.conc {
		vs = append(vs, variant{name: "upshot upload", conc: c, run: func(ctx context.Context, r int) (sample, error) {
			prefix := fmt.Sprintf("%s/upshot-c%d-r%d", tag, c, r)
			cfg, err := b.upshotConfig(fmt.Sprintf("%s-c%d-r%d", tag, c, r), endpoint, prefix+"/{name}{ext}", c)
			if err == nil {
				err = stamp(b.nextSeed(), files...)
			}
			if err != nil {
				return sample{}, err
			}
			s, err := b.exec(ctx, b.upshotUpload(cfg, files...))
			if err == nil && countLines(s.stdout) != len(files) {
				err = fmt.Errorf("upshot printed %d links, want %d", countLines(s.stdout), len(files))
			}
			return s, b.checkAndRemove(ctx, err, prefix, len(files))
		}})
	}
	for _, t := range rcloneTransfers(b.opts.conc) {
		vs = append(vs, variant{name: "rclone copy", conc: t, run: func(ctx context.Context, r int) (sample, error) {
			prefix := fmt.Sprintf("%s/rclone-t%d-r%d", tag, t, r)
			if err := stamp(b.nextSeed(), files...); err != nil {
				return sample{}, err
			}
			s, err := b.exec(ctx, b.rcloneCopy(endpoint, dir, prefix, t))
			return s, b.checkAndRemove(ctx, err, prefix, len(files))
		}})
	}
	title := fmt.Sprintf("%d small files", len(files))
	if rtt > 0 {
		title += fmt.Sprintf(", %v per request", rtt)
	}
	ss, err := b.rounds(ctx, title, b.opts.manyRuns, true, vs)
	if err != nil {
		return nil, err
	}
	res := &manyResult{files: len(files), size: b.opts.manySize, rtt: rtt}
	for _, s := range ss {
		if s.name == "rclone copy" {
			res.rclone = append(res.rclone, s)
		} else {
			res.upshot = append(res.upshot, s)
		}
	}
	return res, nil
}

// rcloneTransfers is rclone's default 4 plus every Upshot concurrency, so
// that each Upshot setting has an rclone peer.
func rcloneTransfers(conc []int) []int {
	ts := []int{4}
	for _, c := range conc {
		if !slices.Contains(ts, c) {
			ts = append(ts, c)
		}
	}
	slices.Sort(ts)
	return ts
}

// bigResult is scenario 3: one large file.
type bigResult struct {
	size   int64
	series []series
}

// bigFile uploads one large file of random content with Upshot (multipart,
// its default 100 MB parts, 4 at once) and with rclone copyto (its defaults:
// 5 MiB chunks, 4 at once; and with 100 MiB chunks, like Upshot's). Each
// object is removed after its run so the disk holds at most one copy.
func (b *bench) bigFile(ctx context.Context) (*bigResult, error) {
	file := filepath.Join(b.dir, "big", "big.bin")
	b.logf("writing a %d-byte file of random data", b.opts.bigSize)
	if err := writeRandomFile(file, b.opts.bigSize, b.nextSeed()); err != nil {
		return nil, err
	}
	defer os.Remove(file)
	vs := []variant{
		{name: "upshot upload", conc: uploader.DefaultConcurrency, run: func(ctx context.Context, r int) (sample, error) {
			prefix := fmt.Sprintf("big/upshot-r%d", r)
			cfg, err := b.upshotConfig(fmt.Sprintf("big-r%d", r), b.srv.Endpoint, prefix+"/{name}{ext}", uploader.DefaultConcurrency)
			if err == nil {
				err = stamp(b.nextSeed(), file)
			}
			if err != nil {
				return sample{}, err
			}
			s, err := b.exec(ctx, b.upshotUpload(cfg, file))
			return s, b.checkAndRemove(ctx, err, prefix, 1)
		}},
		{name: "rclone copyto (defaults: 5 MiB chunks)", conc: 4, run: func(ctx context.Context, r int) (sample, error) {
			prefix := fmt.Sprintf("big/rclone-r%d", r)
			if err := stamp(b.nextSeed(), file); err != nil {
				return sample{}, err
			}
			s, err := b.exec(ctx, b.rcloneCopyto(file, prefix+"/big.bin"))
			return s, b.checkAndRemove(ctx, err, prefix, 1)
		}},
		{name: "rclone copyto --s3-chunk-size 100M", conc: 4, run: func(ctx context.Context, r int) (sample, error) {
			prefix := fmt.Sprintf("big/rclone100-r%d", r)
			if err := stamp(b.nextSeed(), file); err != nil {
				return sample{}, err
			}
			s, err := b.exec(ctx, b.rcloneCopyto(file, prefix+"/big.bin", "--s3-chunk-size", "100M"))
			return s, b.checkAndRemove(ctx, err, prefix, 1)
		}},
	}
	ss, err := b.rounds(ctx, "large file", b.opts.bigRuns, false, vs)
	if err != nil {
		return nil, err
	}
	return &bigResult{size: b.opts.bigSize, series: ss}, nil
}

// checkAndRemove checks that a run left want objects under prefix, then
// removes them from the server's disk. runErr, the run's own error, wins.
func (b *bench) checkAndRemove(ctx context.Context, runErr error, prefix string, want int) error {
	if runErr != nil {
		return runErr
	}
	err := b.expectObjects(ctx, prefix+"/", want)
	// The posix backend keeps each bucket as a folder of the data dir.
	if rerr := os.RemoveAll(filepath.Join(b.srv.Dir, b.srv.Bucket, filepath.FromSlash(prefix))); rerr != nil {
		err = errors.Join(err, fmt.Errorf("remove uploaded objects: %w", rerr))
	}
	return err
}

// expectObjects lists the keys that start with prefix and fails unless
// there are exactly want of them.
func (b *bench) expectObjects(ctx context.Context, prefix string, want int) error {
	c := b.srv.Client()
	in := &s3.ListObjectsV2Input{Bucket: &b.srv.Bucket, Prefix: &prefix}
	got := 0
	for p := s3.NewListObjectsV2Paginator(c, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list %s: %w", prefix, err)
		}
		got += len(page.Contents)
	}
	if got != want {
		return fmt.Errorf("the server holds %d objects under %s, want %d", got, prefix, want)
	}
	return nil
}

// nextSeed gives every generated file different content.
func (b *bench) nextSeed() uint64 {
	b.seed++
	return b.seed
}
