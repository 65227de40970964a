package core

import (
	"errors"
	"syscall"
)

// wsaeconnrefused is Windows' "connection refused", what dialling a socket
// file nobody listens on returns.
const wsaeconnrefused = syscall.Errno(10061)

// isRefused reports a dial error that means nobody listens.
func isRefused(err error) bool {
	var errno syscall.Errno
	return errors.As(err, &errno) && errno == wsaeconnrefused
}
