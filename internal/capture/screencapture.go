package capture

import (
	"fmt"
	"os"
)

// screencapturePath is where macOS keeps screencapture.
const screencapturePath = "/usr/sbin/screencapture"

// screenRecordingHint is what to do when macOS refuses to capture.
const screenRecordingHint = "allow Upshot in System Settings → Privacy & Security → Screen Recording"

// findScreencapture is the screencapture program to run: screencapturePath
// when exists reports it there, else the one lookPath finds on PATH.
func findScreencapture(exists func(path string) bool, lookPath func(file string) (string, error)) (string, error) {
	if exists(screencapturePath) {
		return screencapturePath, nil
	}
	if p, err := lookPath("screencapture"); err == nil {
		return p, nil
	}
	return "", &UnavailableError{Reason: "no screencapture: " + screencapturePath + " is part of macOS; reinstall or update macOS"}
}

// screencaptureArgs is macOS screencapture's command line for mode, saving
// to file: -x silences the shutter sound, -i lets the user drag a region
// (Space switches to picking a window), -W starts in window picking.
func screencaptureArgs(mode Mode, file string) []string {
	switch mode {
	case Region:
		return []string{"-i", "-x", file}
	case Window:
		return []string{"-i", "-W", "-x", file}
	}
	return []string{"-x", file}
}

// screencaptureOutcome reads how a screencapture run in mode that was to
// save file ended, given the first line of its error output and its exit
// error: nil when file holds a picture, [ErrCancelled] when an interactive
// capture left nothing and said nothing (the user pressed Esc), else an
// error quoting screencapture and pointing to the Screen Recording
// permission.
func screencaptureOutcome(mode Mode, file, line string, runErr error) error {
	if fi, err := os.Stat(file); err == nil && fi.Size() > 0 {
		return nil
	}
	if mode.interactive() && line == "" {
		// Esc: screencapture saves nothing and says nothing.
		return ErrCancelled
	}
	msg := "screencapture took no screenshot"
	if runErr != nil {
		msg += " (" + runErr.Error() + ")"
	}
	if line != "" {
		msg += ": " + line
	}
	return fmt.Errorf("%s; %s", msg, screenRecordingHint)
}
