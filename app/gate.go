package app

import (
	"bytes"
	"runtime"
	"strconv"
	"sync/atomic"

	"fyne.io/fyne/v2"
)

// uiGate hands work to Fyne's UI thread for as long as the app runs, and
// not a moment longer. Fyne queues what fyne.Do is given before its loop
// starts and runs it once the loop is up; but once the loop has ended
// (through quit, or through Fyne's own handling of SIGINT and SIGTERM),
// fyne.Do runs the function at once on the caller's goroutine, where it
// would touch a window whose GLFW is gone. So work only runs when it runs
// on the goroutine that runs the app's loop; found anywhere else, the gate
// closes for good and the work is dropped. Quitting closes the gate too.
// A gate is safe for concurrent use; call bind before use.
type uiGate struct {
	main   atomic.Uint64 // the goroutine that runs Fyne's loop
	closed atomic.Bool
}

// bind records the calling goroutine as the one that runs Fyne's loop:
// call it from the goroutine that calls ShowAndRun.
func (g *uiGate) bind() { g.main.Store(goroutineID()) }

// do runs f on the UI thread, unless the app has begun to quit.
func (g *uiGate) do(f func()) {
	if g.closed.Load() {
		return
	}
	fyne.Do(func() {
		if g.closed.Load() {
			return
		}
		if goroutineID() != g.main.Load() {
			g.closed.Store(true) // Fyne's loop is gone
			return
		}
		f()
	})
}

// close lets nothing more through.
func (g *uiGate) close() { g.closed.Store(true) }

// goroutineID reads the current goroutine's number from its stack header,
// "goroutine 1 [running]:", as Fyne does to know its own thread.
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}
