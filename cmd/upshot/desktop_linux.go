//go:build linux

package main

import "syscall"

// childAttr makes the window get SIGTERM when upshot dies.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
