package app

// The settings' Capture section: where captures go, what happens after
// one, and the global hotkeys with what became of each.

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"upshot/internal/capture"
	"upshot/internal/hotkey"
	"upshot/uploader"
)

// Field names of the capture settings, as uploader.FieldError and the
// hotkey check report them.
const (
	fieldCaptureDir   = "capture.dir"
	fieldCaptureDelay = "capture.delay"
	hotkeyFieldPrefix = "hotkeys."
)

// captureDelays are the delays offered before a screen capture.
var captureDelays = []time.Duration{0, time.Second, 3 * time.Second, 5 * time.Second, 10 * time.Second}

// captureForm is the Capture section's widgets.
type captureForm struct {
	dir       *widget.Entry
	delay     *widget.Select
	copyImage *widget.Check
	deleteOld *widget.Check
	keys      map[string]*widget.Entry // by hotkey ID
	keyStatus map[string]*widget.Label // by hotkey ID
	backend   *widget.Label
	bindBox   *fyne.Container // the commands to bind by hand, when hotkeys cannot work here
}

// buildCapture makes the Capture section from cfg.
func (s *settingsForm) buildCapture(cfg *uploader.Config) fyne.CanvasObject {
	f := &captureForm{keys: map[string]*widget.Entry{}, keyStatus: map[string]*widget.Label{}}
	s.cap = f
	f.dir = s.entry(cfg.Capture.Dir, tildeHome(capture.DefaultDir())+" (the default)")
	var names []string
	for _, d := range captureDelays {
		names = append(names, delayName(d))
	}
	f.delay = widget.NewSelect(names, nil)
	f.delay.SetSelected(delayName(time.Duration(cfg.Capture.Delay)))
	if f.delay.Selected == "" {
		f.delay.SetSelected(delayName(0))
	}
	f.copyImage = widget.NewCheck("Also put the image itself on the clipboard (the link follows once uploaded)", nil)
	f.copyImage.SetChecked(cfg.Capture.CopyImage)
	f.deleteOld = widget.NewCheck("Delete the local file once it is uploaded", nil)
	f.deleteOld.SetChecked(cfg.Capture.DeleteAfterUpload)

	rows := container.NewVBox(
		s.field("Save captures in", f.dir, fieldCaptureDir),
		s.field("Screen delay", container.NewHBox(f.delay), fieldCaptureDelay),
		container.NewHBox(f.copyImage),
		container.NewHBox(f.deleteOld),
	)
	heading := widget.NewLabelWithStyle("Hotkeys", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	f.backend = widget.NewLabel("")
	f.backend.SizeName = theme.SizeNameCaptionText
	f.backend.Wrapping = fyne.TextWrapWord
	rows.Add(container.New(&tightVBox{}, heading, f.backend))
	statusWidth := widget.NewLabel("Not active").MinSize().Width
	for _, hk := range cfg.Hotkeys.List() {
		e := s.entry(hk.Value, "e.g. Ctrl+Shift+Alt+4, or none")
		st := widget.NewLabel("")
		f.keys[hk.ID], f.keyStatus[hk.ID] = e, st
		row := container.NewBorder(nil, nil, nil, container.New(fixedWidth(statusWidth), st), e)
		rows.Add(s.field(hotkeyLabels[hk.ID], row, hotkeyFieldPrefix+hk.ID))
	}
	f.bindBox = container.NewVBox()
	f.bindBox.Hide()
	rows.Add(f.bindBox)
	s.showHotkeys(s.u.keyState)
	return rows
}

// hotkeyLabels are the hotkeys' labels in the settings, short enough for
// the label column.
var hotkeyLabels = map[string]string{
	hkCaptureRegion:   "Region",
	hkCaptureWindow:   "Window",
	hkCaptureScreen:   "Screen",
	hkUploadClipboard: "Clipboard",
	hkOpen:            "Open Upshot",
	hkPause:           "Pause watching",
}

// tildeHome writes a path under the home folder as ~/…, as the config
// takes it.
func tildeHome(p string) string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return p
	}
	if rest, ok := strings.CutPrefix(p, home+string(filepath.Separator)); ok {
		return "~/" + filepath.ToSlash(rest)
	}
	return p
}

// delayName is how a delay reads in the list.
func delayName(d time.Duration) string {
	if d == 0 {
		return "None"
	}
	return d.String()
}

// buildCaptureConfig puts the Capture section into c.
func (s *settingsForm) buildCaptureConfig(c *uploader.Config) {
	f := s.cap
	c.Capture.Dir = strings.TrimSpace(f.dir.Text)
	c.Capture.CopyImage = f.copyImage.Checked
	c.Capture.DeleteAfterUpload = f.deleteOld.Checked
	c.Capture.Delay = 0
	for _, d := range captureDelays {
		if delayName(d) == f.delay.Selected {
			c.Capture.Delay = uploader.Duration(d)
		}
	}
	for id, e := range f.keys {
		v := strings.TrimSpace(e.Text)
		if v == "" {
			v = uploader.HotkeyOff
		}
		c.Hotkeys.Set(id, v)
	}
}

// hotkeyErrors checks the hotkeys as typed: each must parse, and no two
// may be the same.
func hotkeyErrors(h uploader.Hotkeys) map[string]string {
	out := map[string]string{}
	seen := map[string]string{}
	for _, hk := range h.List() {
		key, err := hotkey.Parse(hk.Value)
		switch {
		case err != nil:
			out[hotkeyFieldPrefix+hk.ID] = err.Error()
		case key.IsZero():
		case seen[key.String()] != "":
			out[hotkeyFieldPrefix+hk.ID] = key.String() + " is already used for “" + seen[key.String()] + "”: choose another"
		default:
			seen[key.String()] = hk.Label
		}
	}
	return out
}

// showHotkeys shows what became of the registered hotkeys: active, taken
// by another program, or not possible on this desktop, in which case the
// commands to bind in the desktop's own keyboard settings are listed.
func (s *settingsForm) showHotkeys(st hotkeyState) {
	f := s.cap
	if f == nil {
		return
	}
	for id, l := range f.keyStatus {
		l.Importance = widget.MediumImportance
		text := strings.TrimSpace(f.keys[id].Text)
		errL := s.errs[hotkeyFieldPrefix+id]
		switch err := st.errs[id]; {
		case text == "" || strings.EqualFold(text, uploader.HotkeyOff):
			l.SetText("Off")
		case err != nil:
			// Why it is not active goes under the field.
			l.Importance = widget.DangerImportance
			l.SetText("Not active")
			errL.SetText(errText(err))
			errL.Show()
		case st.backend != "":
			l.Importance = widget.SuccessImportance
			l.SetText("Active")
		default:
			l.SetText("")
		}
		l.Refresh()
	}
	switch {
	case st.backend != "":
		f.backend.SetText("Global hotkeys work anywhere on this desktop (" + st.backend + "). They apply when you save.")
		f.bindBox.Hide()
	case st.unsupported != nil:
		f.backend.SetText("This desktop gives Upshot no global hotkeys: " + errText(st.unsupported) +
			". Bind these commands to keys in your desktop's own keyboard settings instead:")
		s.showBindCommands()
	default:
		f.backend.SetText("Global hotkeys are being set up…")
	}
}

// showBindCommands lists the commands to bind by hand, each with a Copy
// button.
func (s *settingsForm) showBindCommands() {
	f := s.cap
	f.bindBox.RemoveAll()
	cli := cliPath()
	for _, c := range []struct{ label, args string }{
		{"Capture a region", "capture region"},
		{"Capture a window", "capture window"},
		{"Capture the screen", "capture screen"},
		{"Open Upshot", ""},
	} {
		cmd := strings.TrimSpace(cli + " " + c.args)
		text := widget.NewLabelWithStyle(cmd, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		text.Truncation = fyne.TextTruncateEllipsis
		copyBtn := widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
			s.u.app.Clipboard().SetContent(cmd)
			s.u.note("Copied: " + cmd)
		})
		l := widget.NewLabelWithStyle(c.label, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
		f.bindBox.Add(container.NewBorder(nil, nil, container.New(fixedWidth(s.labelWidth), l), copyBtn, text))
	}
	f.bindBox.Show()
}

// cliPath is the command line program as a desktop's keyboard settings
// should run it: the upshot beside this program when there is one.
func cliPath() string {
	exe, err := os.Executable()
	if err != nil {
		return "upshot"
	}
	name := "upshot"
	if filepath.Ext(exe) == ".exe" {
		name += ".exe"
	}
	p := filepath.Join(filepath.Dir(exe), name)
	if _, err := os.Stat(p); err != nil {
		return "upshot"
	}
	if strings.ContainsAny(p, " '\"") {
		return `"` + p + `"`
	}
	return p
}

// revealCapture scrolls the settings to the Capture section, once the
// page is laid out.
func (s *settingsForm) revealCapture() {
	scroll, ok := s.content.(*container.Scroll)
	if !ok {
		return
	}
	s.u.edge.Post(func() {
		d := s.u.app.Driver()
		y := d.AbsolutePositionForObject(s.captureSection).Y - d.AbsolutePositionForObject(scroll).Y + scroll.Offset.Y
		scroll.ScrollToOffset(fyne.NewPos(0, y))
	})
}
