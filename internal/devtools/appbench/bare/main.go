// Command bare shows a bare Fyne window, the yardstick for the app's
// memory and start-up benchmarks: it prints "shown <ms>" when the window
// is up.
package main

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"
)

func main() {
	start := time.Now()
	a := app.NewWithID("app.upshot.bench.bare")
	w := a.NewWindow("Bare")
	w.SetContent(widget.NewLabel("A bare Fyne window"))
	w.Resize(fyne.NewSize(760, 560))
	a.Lifecycle().SetOnStarted(func() { fmt.Printf("shown %d\n", time.Since(start).Milliseconds()) })
	w.ShowAndRun()
}
