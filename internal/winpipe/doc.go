// Package winpipe is a local stream transport over Windows named pipes:
// a net.Listener and a dialer, open to the current user only. Upshot's
// other commands reach the process that runs the queue through it on
// Windows, where a Unix socket is not always available. The pipes use
// overlapped I/O through Go's own poller (os.NewFile), so Close ends any
// read, write or Accept under way. On other systems the package is empty.
package winpipe
