//go:build !linux

package watcher

// openForWriting cannot tell on this system whether a writer has path open.
func openForWriting(string) (open, known bool) { return false, false }
