package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/build"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"upshot/uploader"
	"upshot/uploader/s3test"
)

// bench is one benchmark session: the server, the binaries, and a temporary
// folder for files, configs and Upshot's data dir. Its methods run one at a
// time.
type bench struct {
	opts    options
	log     io.Writer // progress, to stderr
	dir     string    // temporary root, removed by Close
	srv     *s3test.Server
	upshot  string
	rclone  string
	curl    string
	dataDir string // UPSHOT_DATA_DIR, shared by every upshot run
	rcConf  string // an empty rclone config file
	seed    uint64 // last seed given to generated or stamped content
	rsswrap string // the RSS wrapper, or "" to measure through Go's exec
	rssNote string // how peak RSS was measured, for the report
	runs    int    // children started, for unique file names
	srvPID  int    // versitygw's process, for its CPU time; 0 if unknown
}

// setup starts the server and finds or builds the tools. On error nothing
// is left behind.
func setup(ctx context.Context, o options, log io.Writer) (_ *bench, err error) {
	b := &bench{opts: o, log: log}
	defer func() {
		if err != nil {
			err = errors.Join(err, b.Close())
		}
	}()
	if b.dir, err = os.MkdirTemp(o.tmp, "upshot-bench-"); err != nil {
		return nil, fmt.Errorf("make temporary folder: %w (set -tmp to a writable folder)", err)
	}
	b.dataDir = filepath.Join(b.dir, "data")
	b.rcConf = filepath.Join(b.dir, "rclone.conf")
	if err := os.WriteFile(b.rcConf, nil, 0o600); err != nil {
		return nil, fmt.Errorf("write rclone config: %w", err)
	}
	if b.curl, err = exec.LookPath("curl"); err != nil {
		return nil, fmt.Errorf("curl not found: %w (install it, e.g. apt-get install curl)", err)
	}
	if b.rclone, err = findRclone(o.rcloneBin); err != nil {
		return nil, err
	}
	b.setupRSS(ctx)
	if b.upshot, err = b.buildUpshot(ctx); err != nil {
		return nil, err
	}
	b.logf("starting versitygw %s on 127.0.0.1", s3test.VersitygwVersion)
	b.srv, err = s3test.StartServer(ctx, s3test.Options{Dir: filepath.Join(b.dir, "s3")})
	if err != nil {
		return nil, fmt.Errorf("start the S3 server: %w", err)
	}
	b.srvPID = serverPID()
	return b, nil
}

// Close stops the server and removes every temporary file. It is safe to
// call on a half-built bench.
func (b *bench) Close() error {
	var errs []error
	if b.srv != nil {
		errs = append(errs, b.srv.Close())
	}
	if b.dir != "" {
		if err := os.RemoveAll(b.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", b.dir, err))
		}
	}
	return errors.Join(errs...)
}

// setupRSS builds the RSS wrapper (see rsswrapSource), or notes why peak
// RSS will read high without it.
func (b *bench) setupRSS(ctx context.Context) {
	bin, err := buildRSSWrapper(ctx, b.dir)
	if err != nil {
		b.logf("%v; peak RSS will include benchtool's own", err)
		b.rssNote = "ru_maxrss through Go's exec, which counts benchtool's own resident set too (" + err.Error() + "), so small values read high"
		return
	}
	if err := os.MkdirAll(filepath.Join(b.dir, "rss"), 0o700); err != nil {
		b.logf("make rss folder: %v; peak RSS will include benchtool's own", err)
		return
	}
	b.rsswrap = bin
	b.rssNote = "each process's own ru_maxrss, taken by a tiny static C wrapper that also times the process from its vfork to its exit (Go's vfork-based exec would add benchtool's own ~20 MB to every child)"
}

// logf prints progress to stderr.
func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "benchtool: "+format+"\n", args...)
}

// findRclone returns the rclone to compare with: the flag, PATH, then the
// Go bin folders, where scripts/deps.sh installs the pinned version.
func findRclone(flagPath string) (string, error) {
	if flagPath != "" {
		return flagPath, nil
	}
	if p, err := exec.LookPath("rclone"); err == nil {
		return p, nil
	}
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	for _, gp := range filepath.SplitList(build.Default.GOPATH) {
		dirs = append(dirs, filepath.Join(gp, "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "rclone")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("rclone not found on PATH or in %s: run `scripts/deps.sh bench` (or pass -rclone)", strings.Join(dirs, ", "))
}

// buildUpshot builds ./cmd/upshot from the module root into the temporary
// folder, unless -upshot names a binary.
func (b *bench) buildUpshot(ctx context.Context) (string, error) {
	if b.opts.upshotBin != "" {
		return filepath.Abs(b.opts.upshotBin)
	}
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(b.dir, "upshot")
	b.logf("building %s", filepath.Join(root, "cmd", "upshot"))
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/upshot")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/upshot: %w\n%s", err, out)
	}
	return bin, nil
}

// upshotFrom says where the measured binary came from, for the report.
func (b *bench) upshotFrom() string {
	if b.opts.upshotBin != "" {
		return b.upshot
	}
	return "built from ./cmd/upshot"
}

// moduleRoot is the folder of the go.mod that holds this tool.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the upshot module: run benchtool from the repository (or pass -upshot)")
	}
	return filepath.Dir(mod), nil
}

// baseEnv is the environment of every child: ours, minus proxies (all
// traffic is loopback) and the credentials of other tools, plus NO_PROXY
// for good measure.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
			uploader.EnvKeyID, uploader.EnvKey, uploader.EnvConfig, uploader.EnvDataDir:
			continue
		}
		if strings.HasPrefix(k, "RCLONE_") || strings.HasPrefix(k, "AWS_ACCESS") || strings.HasPrefix(k, "AWS_SECRET") || strings.HasPrefix(k, "AWS_PROFILE") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost", "LANG=C.UTF-8")
}

// environment describes the machine and the tools for the report.
type environment struct {
	date, cpu, nproc, goVersion, osArch string
	memory, kernel, tmpFS               string
	upshot, rclone, curl, versitygw     string
	endpoint                            string
	rss                                 string // how peak RSS is measured
	loadStart                           string // /proc/loadavg's 1-minute figure
}

// describe gathers what the report's header shows.
func (b *bench) describe(ctx context.Context) environment {
	first := func(name string, args ...string) string {
		out, err := exec.CommandContext(ctx, name, args...).Output()
		if err != nil {
			return "unknown (" + err.Error() + ")"
		}
		line, _, _ := bytes.Cut(bytes.TrimSpace(out), []byte("\n"))
		return string(line)
	}
	return environment{
		date:      time.Now().UTC().Format("2006-01-02 15:04 MST"),
		cpu:       cpuModel(),
		nproc:     first("nproc"),
		goVersion: first("go", "version"),
		osArch:    runtime.GOOS + "/" + runtime.GOARCH,
		memory:    memTotal(),
		kernel:    first("uname", "-r"),
		tmpFS:     lastLine(ctx, "df", "-h", "--output=fstype,avail", b.dir),
		upshot:    first(b.upshot, "version") + " (" + b.upshotFrom() + ")",
		rclone:    first(b.rclone, "version"),
		curl:      first(b.curl, "--version"),
		versitygw: "versitygw " + s3test.VersitygwVersion + " (posix backend)",
		endpoint:  b.srv.Endpoint,
		loadStart: loadAvg(),
	}
}

// lastLine is the last line a command prints, spaces squeezed, or "unknown".
func lastLine(ctx context.Context, name string, args ...string) string {
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		return "unknown"
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.Join(strings.Fields(lines[len(lines)-1]), " ")
}

// loadAvg is the 1-minute load average (Linux only).
func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(raw))
	if len(f) == 0 {
		return "unknown"
	}
	return f[0]
}

// cpuModel reads the CPU's name from /proc/cpuinfo (Linux only).
func cpuModel() string {
	return procField("/proc/cpuinfo", "model name")
}

// memTotal reads the machine's memory from /proc/meminfo (Linux only).
func memTotal() string {
	var kib int64
	if _, err := fmt.Sscanf(procField("/proc/meminfo", "MemTotal"), "%d kB", &kib); err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%.1f GiB", float64(kib)/(1<<20))
}

// procField returns the value of the first "key: value" line for key.
func procField(file, key string) string {
	raw, err := os.ReadFile(file)
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
