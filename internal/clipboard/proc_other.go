//go:build !unix

package clipboard

import "os/exec"

// detach does nothing here: only X11 needs a holder process.
func detach(*exec.Cmd) {}
