//go:build !linux

package workerdtest

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
