//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// Go starts children with vfork (CLONE_VM), so the kernel counts the
// parent's resident set in the child's ru_maxrss: every child would seem to
// use at least benchtool's own ~20 MB. rsswrapSource is a tiny static C
// wrapper that starts the child from its own ~1 MB image and writes the
// child's ru_maxrss (KiB), its start and exit times (CLOCK_MONOTONIC ns,
// around vfork+exec and wait4) and its CPU time (user+system, µs) to a file, so that small tools like curl are
// measured truly and the wrapper's own start is not timed. The child dies
// with the wrapper.
const rsswrapSource = `#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long mono(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: rsswrap OUTFILE PROGRAM [ARG...]\n");
		return 125;
	}
	pid_t parent = getpid();
	long long start = mono();
	pid_t pid = vfork();
	if (pid < 0) {
		perror("rsswrap: vfork");
		return 125;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(125);
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("rsswrap: wait4");
		return 125;
	}
	long long end = mono();
	FILE *f = fopen(argv[1], "w");
	long long cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
	if (f == NULL || fprintf(f, "%ld %lld %lld %lld\n", ru.ru_maxrss, start, end, cpu) < 0 || fclose(f) != 0) {
		perror("rsswrap: write result");
		return 125;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 125;
}
`

// buildRSSWrapper compiles rsswrapSource into dir with the C compiler that
// cgo uses, statically when libc allows it (no dynamic loader to time). It
// returns the reason when there is no compiler.
func buildRSSWrapper(ctx context.Context, dir string) (string, error) {
	cc, err := exec.LookPath("cc")
	if err != nil {
		return "", fmt.Errorf("no C compiler (cc) for the RSS wrapper: %w", err)
	}
	src, bin := filepath.Join(dir, "rsswrap.c"), filepath.Join(dir, "rsswrap")
	if err := os.WriteFile(src, []byte(rsswrapSource), 0o600); err != nil {
		return "", fmt.Errorf("write RSS wrapper source: %w", err)
	}
	if exec.CommandContext(ctx, cc, "-O2", "-static", "-o", bin, src).Run() == nil {
		return bin, nil
	}
	if out, err := exec.CommandContext(ctx, cc, "-O2", "-o", bin, src).CombinedOutput(); err != nil {
		return "", fmt.Errorf("compile RSS wrapper: %w\n%s", err, out)
	}
	return bin, nil
}

// peakRSS is the child's ru_maxrss in bytes (Linux reports KiB). Without
// the wrapper it includes benchtool's own resident set; see rsswrapSource.
func peakRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss << 10
	}
	return 0
}

// monoNow reads CLOCK_MONOTONIC in nanoseconds, the clock the wrapper
// stamps its times with.
func monoNow() int64 {
	var ts syscall.Timespec
	const clockMonotonic = 1
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0
	}
	return ts.Nano()
}

// serverPID finds the versitygw that s3test started for us: our child
// named versitygw. It returns 0 when there is none.
func serverPID() int {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		comm, ppid, _, ok := procStat(pid)
		if ok && comm == "versitygw" && ppid == os.Getpid() {
			return pid
		}
	}
	return 0
}

// processCPU is a process's CPU time so far (user+system), or 0.
func processCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	_, _, cpu, _ := procStat(pid)
	return cpu
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times; it is 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// procStat reads a process's name, parent and CPU time from /proc/PID/stat.
func procStat(pid int) (comm string, ppid int, cpu time.Duration, ok bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", 0, 0, false
	}
	s := string(raw)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return "", 0, 0, false
	}
	// After "(comm)": state ppid pgrp session tty tpgid flags minflt
	// cminflt majflt cmajflt utime stime …
	f := strings.Fields(s[closing+1:])
	if len(f) < 13 {
		return "", 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return s[open+1 : closing], ppid, time.Duration(utime+stime) * time.Second / clockTicks, true
}
