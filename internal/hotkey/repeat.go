package hotkey

// repeatFilter tells a key's first press from the presses its auto-repeat
// adds while it is held. An X server with detectable auto-repeat sends
// Press, Press, ..., Release; without it, every repeat is a Release and a
// Press with the same timestamp. Both collapse to the first Press.
// It is not safe for concurrent use.
type repeatFilter struct {
	down     map[uint32]bool   // by keycode: pressed and not yet released
	released map[uint32]uint32 // by keycode: the time of its last release
}

// press reports whether a press of code at time is a new press.
func (f *repeatFilter) press(code, time uint32) bool {
	if f.down == nil {
		f.down, f.released = map[uint32]bool{}, map[uint32]uint32{}
	}
	if f.down[code] {
		return false
	}
	f.down[code] = true
	if t, ok := f.released[code]; ok && t == time {
		return false
	}
	return true
}

// release records a release of code at time.
func (f *repeatFilter) release(code, time uint32) {
	if f.down == nil {
		f.down, f.released = map[uint32]bool{}, map[uint32]uint32{}
	}
	delete(f.down, code)
	f.released[code] = time
}
