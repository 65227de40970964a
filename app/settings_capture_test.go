package app

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"upshot/internal/hotkey"
	"upshot/uploader"
)

// TestCaptureSettingsSaveAndCheck: the Capture section refuses a hotkey
// that does not parse or is used twice, next to the field, and saves the
// rest to the config file.
func TestCaptureSettingsSaveAndCheck(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	s := h.u.ensureSettings()
	s.cap.keys[hkCaptureRegion].SetText("Ctrl+Banana")
	s.cap.keys[hkCaptureScreen].SetText("Ctrl+Shift+Alt+4")
	test.Tap(s.saveBtn)
	region, screen := s.errs[hotkeyFieldPrefix+hkCaptureRegion], s.errs[hotkeyFieldPrefix+hkCaptureScreen]
	if !region.Visible() || !strings.Contains(region.Text, "Banana") {
		t.Fatalf("region hotkey error %q (visible %v)", region.Text, region.Visible())
	}
	if screen.Visible() {
		t.Fatalf("screen hotkey error %q while region's does not parse", screen.Text)
	}
	s.cap.keys[hkCaptureRegion].SetText("Ctrl+Shift+Alt+4")
	test.Tap(s.saveBtn)
	if !screen.Visible() || !strings.Contains(screen.Text, "already used") {
		t.Fatalf("a hotkey used twice: screen error %q (visible %v)", screen.Text, screen.Visible())
	}

	s.cap.keys[hkCaptureScreen].SetText("ctrl + shift + alt + 3")
	s.cap.keys[hkPause].SetText("")
	s.cap.dir.SetText("/tmp/upshot-captures")
	s.cap.delay.SetSelected("3s")
	s.cap.copyImage.SetChecked(true)
	s.cap.deleteOld.SetChecked(true)
	test.Tap(s.saveBtn)
	h.until("the save", func() bool { return s.saved.Visible() })
	t.Setenv(uploader.EnvKey, "from-env") // the key went to the keyring or the file
	cfg, err := uploader.Load(h.core.configPath)
	if err != nil {
		t.Fatal(err)
	}
	want := uploader.Capture{Dir: "/tmp/upshot-captures", Delay: uploader.Duration(3e9), CopyImage: true, DeleteAfterUpload: true}
	if cfg.Capture != want || cfg.Hotkeys.Pause != uploader.HotkeyOff || cfg.Hotkeys.CaptureRegion != "Ctrl+Shift+Alt+4" {
		t.Fatalf("saved %+v, hotkeys %+v", cfg.Capture, cfg.Hotkeys)
	}
}

// TestHotkeyStatesShown: the section says which hotkeys are active, which
// another program holds, and where none can work, which commands to bind
// by hand.
func TestHotkeyStatesShown(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	s := h.u.ensureSettings()
	taken, _ := hotkey.Parse("Ctrl+Shift+Alt+3")
	s.showHotkeys(hotkeyState{backend: "X11", errs: map[string]error{hkCaptureScreen: &hotkey.TakenError{Key: taken}}})
	if l := s.cap.keyStatus[hkCaptureRegion]; l.Text != "Active" {
		t.Fatalf("region: %q", l.Text)
	}
	if l, why := s.cap.keyStatus[hkCaptureScreen], s.errs[hotkeyFieldPrefix+hkCaptureScreen]; l.Text != "Not active" || !why.Visible() || !strings.Contains(why.Text, "taken") {
		t.Fatalf("screen, held by another program: %q, reason %q (shown %v)", l.Text, why.Text, why.Visible())
	}
	if s.cap.bindBox.Visible() {
		t.Fatal("commands to bind by hand shown while hotkeys work")
	}
	s.showHotkeys(hotkeyState{unsupported: fmt.Errorf("%w: Wayland without the GlobalShortcuts portal", hotkey.ErrUnsupported)})
	if !s.cap.bindBox.Visible() || !strings.Contains(s.cap.backend.Text, "Wayland") {
		t.Fatalf("unsupported: %q, commands shown %v", s.cap.backend.Text, s.cap.bindBox.Visible())
	}
	text := labelTexts(s.cap.bindBox)
	if !strings.Contains(text, "capture region") || !strings.Contains(text, "capture screen") {
		t.Fatalf("the commands to bind: %q", text)
	}
}

// labelTexts is the text of every label in o, a line each.
func labelTexts(o fyne.CanvasObject) string {
	var b strings.Builder
	for _, obj := range test.LaidOutObjects(o) {
		if l, ok := obj.(*widget.Label); ok {
			b.WriteString(l.Text + "\n")
		}
	}
	return b.String()
}
