//go:build !linux

package watcher

// closeWatcher stands in for Linux's close-write events, which other systems
// lack: every file without a rename falls back to the quiet window.
type closeWatcher struct{}

func newCloseWatcher() (*closeWatcher, error) { return nil, nil }

func (c *closeWatcher) events() <-chan rawEvent { return nil }
func (c *closeWatcher) add(string) error        { return nil }
func (c *closeWatcher) remove(string)           {}
func (c *closeWatcher) watching(string) bool    { return false }
func (c *closeWatcher) close()                  {}
