//go:build unix && !linux

package main

import "syscall"

// childAttr is empty: only Linux tells a child that its parent died.
func childAttr() *syscall.SysProcAttr { return nil }
