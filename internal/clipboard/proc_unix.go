//go:build unix

package clipboard

import (
	"os/exec"
	"syscall"
)

// detach starts cmd in a session of its own, away from the caller's
// terminal and its signals, in a directory it does not keep busy.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Dir = "/"
}
