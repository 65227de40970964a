package capture

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
