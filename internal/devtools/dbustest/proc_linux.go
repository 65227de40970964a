package dbustest

import "syscall"

// sysProcAttr ends the bus daemon if the test process dies first.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
