package xvfbtest

import "syscall"

// sysProcAttr kills the X server if the test process dies first.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
