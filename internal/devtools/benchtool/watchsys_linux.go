//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// watchSupported says whether the watch group can run here: it reads
// /proc and relies on inotify, so Linux only.
const watchSupported = true

// inGroup makes cmd the leader of a new process group, so that a watcher
// and everything it starts (bash, inotifywait, each rclone) can be stopped
// together, and kills it should benchtool die without cleaning up.
func inGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// signalGroup sends sig to the process group that cmd leads.
func signalGroup(cmd *exec.Cmd, sig syscall.Signal) error {
	if cmd.Process == nil {
		return nil
	}
	err := syscall.Kill(-cmd.Process.Pid, sig)
	if err == syscall.ESRCH {
		return nil
	}
	return err
}

// procStatusKB reads a "Key:   1234 kB" line of /proc/PID/status, in
// bytes; 0 if the process or the line is gone.
func procStatusKB(pid int, key string) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k != key {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			return 0
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		return n << 10
	}
	return 0
}

// groupStat is what a process group holds right now: the resident set of
// its live members, and the CPU time of everything that ran in it (each
// live member's own time plus that of the children it has reaped).
type groupStat struct {
	rss   int64
	cpu   time.Duration
	procs int
}

// readGroup sums groupStat over the processes in group pgid.
func readGroup(pgid int) groupStat {
	var g groupStat
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return g
	}
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(raw)
		closing := strings.LastIndexByte(s, ')')
		if closing < 0 {
			continue
		}
		// After "(comm)": state ppid pgrp session tty tpgid flags minflt
		// cminflt majflt cmajflt utime stime cutime cstime …
		f := strings.Fields(s[closing+1:])
		if len(f) < 15 {
			continue
		}
		if pg, _ := strconv.Atoi(f[2]); pg != pgid {
			continue
		}
		var ticks int64
		for _, i := range []int{11, 12, 13, 14} {
			n, _ := strconv.ParseInt(f[i], 10, 64)
			ticks += n
		}
		g.cpu += time.Duration(ticks) * time.Second / clockTicks
		g.rss += procStatusKB(pid, "VmRSS")
		g.procs++
	}
	return g
}
