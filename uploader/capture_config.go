package uploader

import (
	"fmt"
	"strings"
	"time"
)

// Capture is what happens around a screenshot Upshot takes itself
// ("upshot capture", the window's capture menu and hotkeys).
type Capture struct {
	// Dir is where captures are saved before they upload; empty: the
	// Pictures folder's "Upshot" subfolder.
	Dir string `toml:"dir"`
	// DeleteAfterUpload removes a capture's file once it is in the
	// bucket; by default it is kept.
	DeleteAfterUpload bool `toml:"delete_after_upload"`
	// CopyImage also puts the captured image on the clipboard, at once;
	// the link follows when the upload is done.
	CopyImage bool `toml:"copy_image"`
	// Delay waits this long before a screen capture, to open a menu
	// first; default none, at most a minute.
	Delay Duration `toml:"delay"`
}

// MaxCaptureDelay bounds [Capture.Delay].
const MaxCaptureDelay = time.Minute

// Hotkeys are the window program's global shortcuts, written like
// "Ctrl+Shift+Alt+4". "none" turns one off; empty means its default.
type Hotkeys struct {
	CaptureRegion   string `toml:"capture_region"`
	CaptureWindow   string `toml:"capture_window"`
	CaptureScreen   string `toml:"capture_screen"`
	UploadClipboard string `toml:"upload_clipboard"`
	Open            string `toml:"open"`
	Pause           string `toml:"pause"`
}

// DefaultHotkeys are Ctrl+Shift+Alt with a key: desktops and common
// programs leave that combination alone (GNOME's screencast is
// Ctrl+Shift+Alt+R, so R is not used), and on Windows it never types a
// character as AltGr can. 4 and 3 follow macOS's region and screen keys.
var DefaultHotkeys = Hotkeys{
	CaptureRegion:   "Ctrl+Shift+Alt+4",
	CaptureWindow:   "Ctrl+Shift+Alt+5",
	CaptureScreen:   "Ctrl+Shift+Alt+3",
	UploadClipboard: "Ctrl+Shift+Alt+V",
	Open:            "Ctrl+Shift+Alt+U",
	Pause:           "Ctrl+Shift+Alt+P",
}

// HotkeyOff is the value that turns a hotkey off.
const HotkeyOff = "none"

// Hotkey is one action's shortcut as the settings list them.
type Hotkey struct {
	ID    string // the config field, e.g. "capture_region"
	Label string // what it does, e.g. "Capture a region"
	Value string // e.g. "Ctrl+Shift+Alt+4", or "none"
}

// List is every hotkey in the order the settings show them.
func (h Hotkeys) List() []Hotkey {
	return []Hotkey{
		{"capture_region", "Capture a region", h.CaptureRegion},
		{"capture_window", "Capture a window", h.CaptureWindow},
		{"capture_screen", "Capture the screen", h.CaptureScreen},
		{"upload_clipboard", "Upload the clipboard", h.UploadClipboard},
		{"open", "Open Upshot", h.Open},
		{"pause", "Pause or resume watching", h.Pause},
	}
}

// Set changes the hotkey with the config field id; it reports false for
// an unknown id.
func (h *Hotkeys) Set(id, value string) bool {
	p := h.field(id)
	if p == nil {
		return false
	}
	*p = strings.TrimSpace(value)
	return true
}

func (h *Hotkeys) field(id string) *string {
	switch id {
	case "capture_region":
		return &h.CaptureRegion
	case "capture_window":
		return &h.CaptureWindow
	case "capture_screen":
		return &h.CaptureScreen
	case "upload_clipboard":
		return &h.UploadClipboard
	case "open":
		return &h.Open
	case "pause":
		return &h.Pause
	}
	return nil
}

// setDefaults fills in every hotkey left empty.
func (h *Hotkeys) setDefaults() {
	d := DefaultHotkeys
	for _, k := range d.List() {
		if p := h.field(k.ID); strings.TrimSpace(*p) == "" {
			*p = k.Value
		}
	}
}

// validateCapture checks the [capture] section.
func (c *Config) validateCapture(bad func(field, problem, fix string)) {
	if d := time.Duration(c.Capture.Delay); d < 0 || d > MaxCaptureDelay {
		bad("capture.delay", fmt.Sprintf("%v is out of range", d), "use 0s to 60s")
	}
	if strings.ContainsRune(c.Capture.Dir, 0) {
		bad("capture.dir", "contains a NUL character", "give a folder path")
	}
}
