//go:build linux

package workerdtest

import "syscall"

// sysProcAttr asks the kernel to kill workerd if the test binary dies
// without calling Close (a panic or a -timeout).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
