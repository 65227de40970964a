//go:build !linux

package s3test

import "syscall"

// sysProcAttr has nothing to add outside Linux: there is no parent-death
// signal, so a crashed test binary may leave versitygw running.
func sysProcAttr() *syscall.SysProcAttr { return nil }
