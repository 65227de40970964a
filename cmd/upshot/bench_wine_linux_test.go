package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"upshot/internal/devtools/winetest"
	"upshot/uploader"
)

// BenchmarkUpload1MBWine is BenchmarkUpload1MB for the Windows build: one
// `upload` of a fresh 1 MB file by upshot.exe under Wine and one by the
// Linux binary, against the same versitygw on loopback, per iteration,
// each timed from process start to exit; which of the two goes first
// alternates from iteration to iteration. It is a sanity figure, not a
// target: Wine is not Windows. It reports the mean wall time of each side
// (wine-ms/upload, linux-ms/upload) and the largest peak RSS (wine-rss-MB,
// linux-rss-MB); run it with -count N for N runs whose median the report
// takes.
//
// Each run makes a fresh Wine prefix and a fresh server. The prefix's
// wineserver and services are started first and kept running between
// programs (winetest.Start), as Windows's own are. Then each side makes one untimed upload: it
// learns the endpoint's capabilities there, as any installed copy has, and
// what it reads from disk is in the page cache after.
//
// Both sides run under GNU time, as in BenchmarkUpload1MB. The times of
// upshot.exe include Wine's start of a Windows process: the `wine` shell
// script, the loader and ntdll, and its requests to the wineserver.
//
// wine-rss-MB is GNU time's %M of `wine upshot.exe …`, which is the
// Windows process's own peak: `wine` is a shell script that execs Wine's
// loader, which execs its preloader, which loads the .exe into that same
// process (same pid, no child), so %M is that process's ru_maxrss, which
// exec carries over and which the shell and the loader stay well below. It
// includes Wine's own code and data in the process (ntdll, kernel32 and the
// other Windows DLLs the .exe loads: about 14 MB for a Go .exe that does
// nothing) and the whole image of the .exe, which Wine reads in at once
// (Go's PE sections are not page-aligned in the file), DWARF included;
// not the wineserver or the prefix's services (services.exe,
// explorer.exe, winedevice.exe …), which are separate processes shared by
// every program in the prefix. Checked by hand with a Go .exe that touches
// a known amount: 1, 100 and 200 MiB gave %M of 15, 117 and 220 MB, and
// VmHWM in /proc/PID/status, read while it ran, was within 0.3 MB of %M.
// Go's own exec would not do: it starts children with vfork, so the
// child's ru_maxrss (ProcessState.SysUsage) starts at the test binary's
// resident set (checked: a parent holding 300 MiB saw 310 MB for that same
// 15 MB .exe).
func BenchmarkUpload1MBWine(b *testing.B) {
	e := newBed(b)
	w := winetest.Start(b)
	exe := winetest.Build(b, "upshot/cmd/upshot", false)

	linuxCfg, linuxEnv := e.config(b, e.srv.Endpoint, "linux", uploader.DefaultConcurrency)
	winCfg, _ := e.config(b, e.srv.Endpoint, "wine", uploader.DefaultConcurrency)
	winEnv := []string{uploader.EnvKeyID + "=" + e.srv.AccessKey, uploader.EnvKey + "=" + e.srv.SecretKey,
		uploader.EnvDataDir + "=" + winetest.Path(filepath.Join(e.dir, "data", "wine"))}
	sides := []struct {
		name   string // also the key prefix and the metrics' prefix
		upload func(file string) sample
	}{
		{"linux", func(file string) sample {
			return timed(b, linuxEnv, 0, "upload", "--config", linuxCfg, "--no-clipboard", file)
		}},
		{"wine", func(file string) sample {
			return timedWine(b, w.Command(b.Context(), winEnv, exe,
				"upload", "--config", winetest.Path(winCfg), "--no-clipboard", winetest.Path(file)))
		}},
	}
	upload := func(side, i int) sample {
		s := sides[side]
		file := filepath.Join(e.dir, s.name, fmt.Sprintf("shot-%03d.bin", i))
		writeRandom(b, file, 1_000_000, e.next())
		r := s.upload(file)
		if r.lines != 1 {
			b.Fatalf("%s: upshot printed %d lines, want one link", s.name, r.lines)
		}
		return r
	}
	upload(0, 0) // the warm-ups
	upload(1, 0)
	f := map[string]float64{}
	n := 0
	for b.Loop() {
		n++
		for k := range 2 {
			side := (n + k) % 2 // wine first in odd iterations, linux in even ones
			r := upload(side, n)
			f[sides[side].name+"-ms/upload"] += ms(r.wall)
			f[sides[side].name+"-rss-MB"] = max(f[sides[side].name+"-rss-MB"], r.rssMB)
		}
	}
	for _, s := range sides {
		if got := e.objects(b, s.name); got != n+1 {
			b.Fatalf("the server holds %d objects from %s, want %d", got, s.name, n+1)
		}
		f[s.name+"-ms/upload"] /= float64(n)
	}
	reportAll(b, f)
}

// timedWine runs a command (wine and its arguments) under GNU time, as
// timed runs upshot, and fails the benchmark unless it exits 0. Only the
// wall time, the peak RSS and the lines printed are kept: the CPU time
// would leave out the wineserver's share.
func timedWine(b *testing.B, wine *exec.Cmd) sample {
	b.Helper()
	gnuTime, err := exec.LookPath("time")
	if err != nil {
		b.Fatalf("GNU time is missing (scripts/deps.sh bench installs it): %v", err)
	}
	rssFile := filepath.Join(b.TempDir(), "rss")
	cmd := exec.CommandContext(b.Context(), gnuTime, append([]string{"-f", "%M", "-o", rssFile, wine.Path}, wine.Args[1:]...)...)
	cmd.Env, cmd.WaitDelay = wine.Env, wine.WaitDelay
	out := &lineClock{}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &stderr
	out.start = time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("wine %s: %v\n%s", strings.Join(wine.Args[1:], " "), err, stderr.Bytes())
	}
	r := sample{wall: time.Since(out.start), link: out.first, lines: out.lines}
	r.rssMB = peakRSS(b, rssFile)
	return r
}
