//go:build !windows

package core

// isRefused reports a dial error that means nobody listens, beyond
// ECONNREFUSED and a missing socket file.
func isRefused(error) bool { return false }
