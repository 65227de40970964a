// Package app is Upshot's desktop app: the window (drop zone, search,
// the list of uploads with their actions, the status line), the settings
// form, the tray menu, notifications and the clipboard hand-off. It is a
// thin layer over the core service the CLI uses too: files go in through
// core.Service.Add, and everything the window shows comes from the
// store and the service's events.
//
// # Threads
//
// Fyne widgets belong to the UI thread. The service reports events from
// its workers, and background actions (a share, a delete, a connection
// test, a thumbnail) finish on their own goroutines; all of them reach the
// UI through one edge (edge.go), a loop that batches them, coalesces
// progress, and applies each batch on the UI thread with a single fyne.Do.
// Nothing else calls fyne.Do.
//
// # Entry point
//
// [Run] opens the window (and the tray when the desktop has one) and
// blocks until the user quits. "upshot" with no subcommand calls it.
package app
