//go:build linux

package s3test

import "syscall"

// sysProcAttr asks the kernel to kill versitygw if the test binary dies
// without calling Close (a panic or a -timeout), so no server outlives it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
