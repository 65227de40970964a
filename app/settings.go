package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"upshot/internal/autostart"
	"upshot/internal/capture"
	"upshot/internal/core"
	"upshot/internal/keyring"
	"upshot/uploader"
)

// sampleFile and sampleTime are what the template previews render.
const sampleFile = "Screenshot 2026-11-22 at 10.15.00.png"

var sampleTime = time.Date(2026, 11, 22, 10, 15, 0, 0, time.Local)

// checkTimeout bounds "Test connection".
const checkTimeout = 60 * time.Second

// Field names as uploader.FieldError reports them; "watch" stands for
// every watch[i] field and "" for problems without a field of their own.
const (
	fieldEndpoint     = "target.endpoint"
	fieldRegion       = "target.region"
	fieldBucket       = "target.bucket"
	fieldKeyID        = "target.key_id"
	fieldKey          = "target.key"
	fieldPathTemplate = "target.path_template"
	fieldURLTemplate  = "target.url_template"
	fieldCacheControl = "target.cache_control"
	fieldFormat       = "output.format"
	fieldWatch        = "watch"
	fieldOther        = ""
)

// settingsForm edits the config file the CLI reads, plus this computer's
// app preferences. Its fields belong to the UI thread.
type settingsForm struct {
	u       *ui
	content fyne.CanvasObject
	base    *uploader.Config // what was loaded; fields the form lacks are kept
	offered string           // the first run's suggested watch folder, made on save

	banner       *widget.Label
	bannerBox    fyne.CanvasObject
	endpoint     *widget.Entry
	region       *widget.Entry
	bucket       *widget.Entry
	keyID        *widget.Entry
	key          *widget.Entry
	keyNote      *widget.Label
	pathTemplate *widget.Entry
	urlTemplate  *widget.Entry
	keyPreview   *widget.Label
	linkPreview  *widget.Label
	format       *widget.Select
	cacheControl *widget.Entry
	errs         map[string]*widget.Label

	folders    []*folderRow
	foldersBox *fyne.Container

	testBtn  *widget.Button
	cdnBtn   *widget.Button
	saveBtn  *widget.Button
	findings *fyne.Container
	saved    *widget.Label

	notifications *widget.Check
	alwaysShare   *widget.Check
	expiry        *widget.Select
	openAtLogin   *widget.Check

	cap            *captureForm
	captureSection fyne.CanvasObject
	private        *privatePanel // nil until the custom-domain set-up is shown

	keyringOK  *bool // nil until probed
	labelWidth float32
}

// folderRow is one watched folder in the form.
type folderRow struct {
	dir     string
	include *widget.Entry
	poll    *widget.Check
	box     fyne.CanvasObject
}

func newSettingsForm(u *ui) *settingsForm {
	s := &settingsForm{u: u, errs: map[string]*widget.Label{}}
	cfg, _ := u.core.Settings()
	if cfg == nil {
		cfg = u.opts.draft
	}
	if cfg == nil {
		cfg = &uploader.Config{}
		cfg.SetDefaults()
	}
	s.base = cfg

	s.banner = widget.NewLabel("")
	s.banner.Wrapping = fyne.TextWrapWord
	s.bannerBox = widget.NewCard("", "", container.NewBorder(nil, nil, widget.NewIcon(theme.InfoIcon()), nil, s.banner))
	switch err := u.opts.configErr; {
	case errors.Is(err, uploader.ErrNoConfig):
		s.banner.SetText("Welcome to Upshot! Tell it where your files should go: fill in your bucket's endpoint, " +
			"name and an application key below, try Test connection, then Save. " +
			"The settings go to " + u.core.configPath + ", which the upshot command line reads too.")
	case err != nil:
		s.banner.SetText("The settings in " + u.core.configPath + " have problems; fix them below and save.\n" + err.Error())
	default:
		s.bannerBox.Hide()
	}

	t := cfg.Target
	s.endpoint = s.entry(t.Endpoint, "https://s3.us-west-004.backblazeb2.com")
	s.region = s.entry(t.Region, "us-west-004 (read from a B2 endpoint)")
	s.bucket = s.entry(t.Bucket, "my-screenshots")
	s.keyID = s.entry(t.KeyID, "004a…")
	s.key = widget.NewPasswordEntry()
	s.keyNote = widget.NewLabel("")
	s.keyNote.Wrapping = fyne.TextWrapWord
	s.keyNote.SizeName = theme.SizeNameCaptionText
	s.describeKey(cfg)
	s.pathTemplate = s.entry(t.PathTemplate, uploader.DefaultPathTemplate)
	s.urlTemplate = s.entry(t.URLTemplate, "https://img.example.com/{key} (empty: the bucket's own URL)")
	s.keyPreview = preview()
	s.linkPreview = preview()
	var formats []string
	for _, f := range uploader.Formats {
		formats = append(formats, formatNames[f])
	}
	s.format = widget.NewSelect(formats, nil)
	s.format.SetSelected(formatNames[uploader.FormatURL])
	if f, err := uploader.ParseFormat(cfg.Output.Format); err == nil {
		s.format.SetSelected(formatNames[f])
	}
	s.cacheControl = s.entry(t.CacheControl, "public, max-age=31536000, immutable")
	for _, e := range []*widget.Entry{s.pathTemplate, s.urlTemplate, s.endpoint, s.bucket} {
		e.OnChanged = func(string) { s.updatePreview() }
	}

	// One label column for every section: the widest label sets it.
	s.labelWidth = widget.NewLabelWithStyle("Application key", fyne.TextAlignTrailing, fyne.TextStyle{Bold: true}).MinSize().Width
	bucket := container.NewVBox(
		s.field("Endpoint", s.endpoint, fieldEndpoint),
		s.field("Region", s.region, fieldRegion),
		s.field("Bucket", s.bucket, fieldBucket),
		s.field("Key ID", s.keyID, fieldKeyID),
		s.field("Application key", container.New(&tightVBox{}, s.key, s.keyNote), fieldKey),
	)
	links := container.NewVBox(
		s.field("Path template", container.New(&tightVBox{}, s.pathTemplate, s.keyPreview), fieldPathTemplate),
		s.field("URL template", container.New(&tightVBox{}, s.urlTemplate, s.linkPreview), fieldURLTemplate),
		s.field("Link format", s.format, fieldFormat),
		s.field("Cache-Control", s.cacheControl, fieldCacheControl),
	)

	s.foldersBox = container.NewVBox()
	for _, w := range cfg.Watch {
		s.addFolder(w.Dir, w.Include, w.Poll)
	}
	if len(cfg.Watch) == 0 && errors.Is(u.opts.configErr, uploader.ErrNoConfig) {
		// The first run offers the folder the system's own screenshot
		// tool saves to (on Windows the Snipping Tool's); saving keeps it
		// unless removed, and makes it if it is not there yet.
		s.offered = capture.ScreenshotsDir()
		s.addFolder(s.offered, core.DefaultInclude, false)
	}
	addFolder := widget.NewButtonWithIcon("Add folder…", theme.ContentAddIcon(), s.pickFolder)
	watchErr := s.errLabel(fieldWatch)
	folders := container.NewVBox(s.foldersBox, watchErr, container.NewHBox(addFolder))

	s.testBtn = widget.NewButtonWithIcon("Test connection", theme.MediaPlayIcon(), s.test)
	s.cdnBtn = widget.NewButtonWithIcon("Custom domain set-up", theme.InfoIcon(), s.cdnSetup)
	s.saveBtn = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), s.save)
	s.saveBtn.Importance = widget.HighImportance
	s.findings = container.NewVBox()
	s.saved = widget.NewLabel("")
	s.saved.Wrapping = fyne.TextWrapWord
	s.saved.Hide()
	general := s.errLabel(fieldOther)

	s.notifications = widget.NewCheck("Notify me after each upload, and once when one fails", func(on bool) {
		u.app.Preferences().SetBool(prefNotifications, on)
	})
	s.notifications.SetChecked(u.app.Preferences().BoolWithFallback(prefNotifications, true))
	s.expiry = widget.NewSelect(expiryNames(), func(string) {
		u.app.Preferences().SetInt(prefShareExpiry, int(expiries[s.expiry.SelectedIndex()].d/time.Second))
	})
	s.expiry.SetSelected(expiryName(shareExpiry(u.app.Preferences())))
	s.alwaysShare = widget.NewCheck("Always share expiring links (for private buckets), valid for", func(on bool) {
		u.app.Preferences().SetBool(prefAlwaysShare, on)
	})
	s.alwaysShare.SetChecked(u.app.Preferences().Bool(prefAlwaysShare))
	s.openAtLogin = widget.NewCheck("Open Upshot when I log in", nil)
	s.openAtLogin.SetChecked(autostart.Enabled())
	s.openAtLogin.OnChanged = s.setAutostart
	loginNote := widget.NewLabel("")
	if !autostart.Supported {
		s.openAtLogin.Disable()
		loginNote.SetText("Not supported on this system yet.")
	}
	loginNote.SizeName = theme.SizeNameCaptionText
	app := container.NewVBox(s.notifications, container.NewHBox(s.alwaysShare, s.expiry), container.NewHBox(s.openAtLogin, loginNote))

	s.captureSection = section("Capture", "Screenshots Upshot takes with your desktop's own tool, from the tray, the Capture button or a hotkey. "+
		"Type a hotkey like Ctrl+Shift+Alt+4, or none.", s.buildCapture(cfg))
	buttons := container.NewHBox(s.cdnBtn, s.testBtn, s.saveBtn)
	body := container.NewVBox(
		s.bannerBox,
		section("Bucket", "Where uploads go.", bucket),
		section("Links", "How objects are named and linked; the previews show "+sampleFile+".", links),
		section("Watched folders", "New files in these folders upload by themselves. Include: patterns such as *.png; Poll: for network drives.", folders),
		s.captureSection,
		container.NewBorder(nil, nil, nil, buttons, general),
		s.saved,
		s.findings,
		section("This computer", "These apply at once.", app),
	)
	s.content = container.NewVScroll(container.NewPadded(body))
	s.updatePreview()
	if err := u.opts.configErr; err != nil && !errors.Is(err, uploader.ErrNoConfig) {
		s.showErrors(fieldErrors(err))
	}
	return s
}

// probeKeyring finds out, off the UI thread, whether the OS keyring
// works, and says so next to the key.
func (s *settingsForm) probeKeyring(ctx context.Context) {
	go func() {
		_, err := keyring.Get(ctx, "upshot-probe")
		ok := err == nil || errors.Is(err, keyring.ErrNotFound)
		s.u.edge.Post(func() {
			s.keyringOK = &ok
			s.describeKey(s.base)
		})
	}()
}

// section is a titled group of settings.
func section(title, subtitle string, content fyne.CanvasObject) fyne.CanvasObject {
	heading := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	heading.SizeName = theme.SizeNameSubHeadingText
	sub := widget.NewLabel(subtitle)
	sub.SizeName = theme.SizeNameCaptionText
	sub.Wrapping = fyne.TextWrapWord
	return container.NewVBox(widget.NewSeparator(), container.New(&tightVBox{}, heading, sub), content)
}

func (s *settingsForm) entry(text, placeholder string) *widget.Entry {
	e := widget.NewEntry()
	e.SetText(text)
	e.SetPlaceHolder(placeholder)
	return e
}

func preview() *widget.Label {
	l := widget.NewLabel("")
	l.SizeName = theme.SizeNameCaptionText
	l.Truncation = fyne.TextTruncateEllipsis
	return l
}

// errLabel is the (hidden until needed) error text of one field.
func (s *settingsForm) errLabel(field string) *widget.Label {
	l := widget.NewLabel("")
	l.Importance = widget.DangerImportance
	l.SizeName = theme.SizeNameCaptionText
	l.Wrapping = fyne.TextWrapWord
	l.Hide()
	s.errs[field] = l
	return l
}

// field is a labelled row whose widget has its error text under it.
func (s *settingsForm) field(label string, w fyne.CanvasObject, field string) fyne.CanvasObject {
	l := widget.NewLabelWithStyle(label, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
	return container.NewBorder(nil, nil, container.New(fixedWidth(s.labelWidth), l), nil,
		container.New(&tightVBox{}, w, s.errLabel(field)))
}

// fixedWidth lays its objects out on top of each other, width wide.
type fixedWidth float32

func (f fixedWidth) MinSize(objs []fyne.CanvasObject) fyne.Size {
	h := float32(0)
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(float32(f), h)
}

func (f fixedWidth) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.Position{})
		o.Resize(fyne.NewSize(float32(f), o.MinSize().Height))
	}
}

// describeKey says where the key is kept.
func (s *settingsForm) describeKey(cfg *uploader.Config) {
	var note string
	switch cfg.KeySource {
	case "env":
		note = "From the environment (" + uploader.EnvKey + "); it wins over anything saved here."
	case "keyring":
		note = "Saved in the OS keyring. Type a new key to replace it."
	case "config":
		note = "Saved in the config file (readable only by you). Type a new key to replace it."
	default:
		note = "Saved in the OS keyring when you save."
	}
	if cfg.KeySource != "" {
		s.key.SetPlaceHolder("•••••••• (unchanged)")
	}
	if s.keyringOK != nil && !*s.keyringOK && cfg.KeySource != "env" {
		note = "No OS keyring is available here: the key will be saved in the config file, readable only by you."
		s.keyNote.Importance = widget.WarningImportance
	}
	s.keyNote.SetText(note)
}

// build makes a config from the form. The key stays as loaded unless a
// new one was typed (newKey).
func (s *settingsForm) build() (cfg *uploader.Config, newKey bool) {
	c := *s.base
	c.Watch = nil
	t := &c.Target
	t.Endpoint = strings.TrimSpace(s.endpoint.Text)
	t.Region = strings.TrimSpace(s.region.Text)
	t.Bucket = strings.TrimSpace(s.bucket.Text)
	t.KeyID = strings.TrimSpace(s.keyID.Text)
	if k := strings.TrimSpace(s.key.Text); k != "" {
		t.Key, newKey = uploader.NewSecret(k), true
	}
	t.PathTemplate = strings.TrimSpace(s.pathTemplate.Text)
	t.URLTemplate = strings.TrimSpace(s.urlTemplate.Text)
	t.CacheControl = strings.TrimSpace(s.cacheControl.Text)
	c.Output.Format = string(uploader.FormatURL)
	for f, name := range formatNames {
		if name == s.format.Selected {
			c.Output.Format = string(f)
		}
	}
	for _, f := range s.folders {
		c.Watch = append(c.Watch, uploader.Watch{Dir: f.dir, Include: splitGlobs(f.include.Text), Poll: f.poll.Checked})
	}
	s.buildCaptureConfig(&c)
	c.SetDefaults()
	return &c, newKey
}

func splitGlobs(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' })
}

// updatePreview renders the sample file's key and link, and shows the
// templates' problems as they are typed.
func (s *settingsForm) updatePreview() {
	cfg, _ := s.build()
	errs := fieldErrors(cfg.Validate())
	s.showErrors(errs, fieldPathTemplate, fieldURLTemplate)
	tmpl, err := uploader.ParseKeyTemplate(cfg.Target.PathTemplate)
	if err != nil {
		s.keyPreview.SetText("Key: —")
		s.linkPreview.SetText("Link: —")
		return
	}
	key, err := tmpl.Render(uploader.KeyInput{FileName: sampleFile, Time: sampleTime})
	if err != nil {
		s.keyPreview.SetText("Key: " + err.Error())
		s.linkPreview.SetText("Link: —")
		return
	}
	s.keyPreview.SetText("Key: " + key)
	if errs[fieldURLTemplate] != "" || cfg.Target.Endpoint == "" || cfg.Target.Bucket == "" {
		s.linkPreview.SetText("Link: —")
		return
	}
	s.linkPreview.SetText("Link: " + cfg.Target.ObjectURL(key))
}

// fieldErrors sorts a validation error's problems by field; problems
// with no field of the form go under fieldOther.
func fieldErrors(err error) map[string]string {
	out := map[string]string{}
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		var fe *uploader.FieldError
		if errors.As(err, &fe) && fe == err {
			field := fe.Field
			if strings.HasPrefix(field, "watch[") {
				field = fieldWatch
			}
			switch field {
			case fieldEndpoint, fieldRegion, fieldBucket, fieldKeyID, fieldKey, fieldPathTemplate,
				fieldURLTemplate, fieldCacheControl, fieldFormat, fieldWatch, fieldCaptureDir, fieldCaptureDelay:
			default:
				field = fieldOther
			}
			msg := fe.Problem
			if fe.Fix != "" {
				msg += ": " + fe.Fix
			}
			if field == fieldOther || field == fieldWatch {
				msg = fe.Field + " " + msg
			}
			if out[field] != "" {
				out[field] += "\n"
			}
			out[field] += msg
			return
		}
		switch e := err.(type) {
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		default:
			out[fieldOther] = strings.TrimSpace(out[fieldOther] + "\n" + err.Error())
		}
	}
	walk(err)
	return out
}

// showErrors shows errs next to their fields; with only, just those
// fields are touched.
func (s *settingsForm) showErrors(errs map[string]string, only ...string) {
	for field, l := range s.errs {
		if len(only) > 0 && !slices.Contains(only, field) {
			continue
		}
		if msg := errs[field]; msg != "" {
			l.SetText(msg)
			l.Show()
		} else {
			l.SetText("")
			l.Hide()
		}
	}
}

// validate shows every problem of the form's config and reports whether
// there was none.
func (s *settingsForm) validate() (*uploader.Config, bool, bool) {
	cfg, newKey := s.build()
	errs := fieldErrors(cfg.Validate())
	for field, msg := range hotkeyErrors(cfg.Hotkeys) {
		errs[field] = msg
	}
	s.showErrors(errs)
	return cfg, newKey, len(errs) == 0
}

// save validates, stores the key (keyring, else the 0600 file) and
// writes the config, then puts it to use.
func (s *settingsForm) save() {
	cfg, newKey, ok := s.validate()
	s.saved.Hide()
	if !ok {
		return
	}
	s.saveBtn.Disable()
	u := s.u
	old := s.base
	go func() {
		ctx := u.ctx
		note, err := persist(ctx, u.core.configPath, cfg, old, newKey)
		if err == nil {
			err = u.core.Use(ctx, cfg)
		}
		var watchErr error
		if err == nil {
			for _, w := range cfg.Watch {
				if w.Dir == s.offered {
					if err := os.MkdirAll(w.Dir, 0o755); err != nil {
						watchErr = fmt.Errorf("make the folder %s: %w", w.Dir, err)
					}
				}
			}
		}
		if err == nil && watchErr == nil {
			watchErr = u.restartWatch(cfg)
		}
		u.edge.Post(func() {
			s.saveBtn.Enable()
			if err != nil {
				s.showErrors(fieldErrors(err))
				return
			}
			if watchErr != nil {
				s.showErrors(map[string]string{fieldWatch: errText(watchErr)}, fieldWatch)
			}
			first := s.bannerBox.Visible()
			s.base = cfg
			s.key.SetText("")
			s.describeKey(cfg)
			s.bannerBox.Hide()
			s.saved.SetText("Saved to " + u.core.configPath + ". " + note)
			s.saved.Show()
			u.lastErr = ""
			u.showStatus()
			u.applyHotkeys(cfg.Hotkeys)
			u.keepRenewed(cfg)
			if first {
				u.tabs.SelectIndex(0)
			}
		})
	}()
}

// persist writes cfg to path. A newly typed key goes to the OS keyring,
// or into the (0600) file when there is no keyring; a key that came from
// the file stays there. It returns a note for the user.
func persist(ctx context.Context, path string, cfg, old *uploader.Config, newKey bool) (string, error) {
	keyInFile := old.KeySource == "config"
	note := ""
	switch {
	case cfg.KeySource == "env" && !newKey:
		note = "The key comes from " + uploader.EnvKey + "."
	case newKey || (old.KeySource == "keyring" && cfg.Target.KeyID != old.Target.KeyID):
		if err := uploader.StoreKey(ctx, cfg.Target.KeyID, cfg.Target.Key); err != nil {
			keyInFile = true
			cfg.KeySource = "config"
			note = fmt.Sprintf("The key is in the config file, readable only by you (%v).", err)
		} else {
			keyInFile = false
			cfg.KeySource = "keyring"
			note = "The key is in the OS keyring."
		}
	}
	if err := cfg.Save(path, keyInFile); err != nil {
		return "", fmt.Errorf("save the settings: %w", err)
	}
	return note, nil
}

// test runs the uploader's connection check with the form's settings.
func (s *settingsForm) test() {
	cfg, _, ok := s.validate()
	if !ok {
		return
	}
	s.testBtn.Disable()
	s.findings.Objects = []fyne.CanvasObject{widget.NewLabel("Testing " + cfg.Target.Endpoint + " …")}
	s.findings.Refresh()
	u := s.u
	go func() {
		ctx, cancel := context.WithTimeout(u.ctx, checkTimeout)
		defer cancel()
		var rep uploader.Report
		up, err := u.core.NewUploader(cfg)
		if err == nil {
			rep = up.Check(ctx)
		}
		u.edge.Post(func() {
			s.testBtn.Enable()
			s.showFindings(rep, err)
		})
	}()
}

// cdnSetup shows, for the form's bucket and URL template, the DNS record,
// rewrite rule and caching that serve the bucket at the custom domain, as
// upshot cdn-setup prints them, in a box the user can copy from.
func (s *settingsForm) cdnSetup() {
	cfg, _, ok := s.validate()
	if !ok {
		return
	}
	s.cdnBtn.Disable()
	u := s.u
	go func() {
		ctx, cancel := context.WithTimeout(u.ctx, checkTimeout)
		defer cancel()
		var text string
		up, err := u.core.NewUploader(cfg)
		if err == nil {
			var setup uploader.CDNSetup
			if setup, err = up.CDNSetup(ctx, ""); err == nil {
				text = setup.Instructions(cfg.Target.CacheControl)
			}
		}
		u.edge.Post(func() {
			s.cdnBtn.Enable()
			s.showCDNSetup(text, err)
		})
	}()
}

// showCDNSetup puts the set-up steps (or why there are none) under the
// buttons.
func (s *settingsForm) showCDNSetup(text string, err error) {
	heading := widget.NewLabelWithStyle("Custom domain set-up", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	if err != nil {
		l := widget.NewLabel(err.Error())
		l.Wrapping = fyne.TextWrapWord
		s.findings.Objects = []fyne.CanvasObject{heading, l, s.privateBox()}
	} else {
		steps := widget.NewMultiLineEntry()
		steps.SetText(text)
		steps.TextStyle = fyne.TextStyle{Monospace: true}
		steps.Wrapping = fyne.TextWrapOff
		steps.SetMinRowsVisible(strings.Count(text, "\n") + 1)
		s.findings.Objects = []fyne.CanvasObject{heading, container.NewHScroll(steps), s.privateBox()}
	}
	s.findings.Refresh()
}

// showFindings lists a check's findings with an icon for each level.
func (s *settingsForm) showFindings(rep uploader.Report, err error) {
	var objs []fyne.CanvasObject
	if err != nil {
		rep.Findings = append(rep.Findings, uploader.Finding{Level: uploader.LevelFail, Topic: "settings", Detail: err.Error()})
	}
	for _, f := range rep.Findings {
		icon := theme.ConfirmIcon()
		switch f.Level {
		case uploader.LevelWarn:
			icon = theme.WarningIcon()
		case uploader.LevelFail:
			icon = theme.ErrorIcon()
		}
		l := widget.NewLabel(f.Topic + ": " + f.Detail)
		l.Wrapping = fyne.TextWrapWord
		objs = append(objs, container.NewBorder(nil, nil, container.NewVBox(widget.NewIcon(icon)), nil, l))
	}
	title := "Connection works"
	if rep.Failed() {
		title = "Connection test failed"
	}
	heading := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.findings.Objects = append([]fyne.CanvasObject{heading}, objs...)
	s.findings.Refresh()
}

// addFolder adds a watched folder to the form.
func (s *settingsForm) addFolder(dir string, include []string, poll bool) {
	f := &folderRow{dir: dir}
	f.include = widget.NewEntry()
	f.include.SetPlaceHolder("every file")
	f.include.SetText(strings.Join(include, ", "))
	f.poll = widget.NewCheck("Poll", nil)
	f.poll.SetChecked(poll)
	name := widget.NewLabelWithStyle(dir, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	name.Truncation = fyne.TextTruncateEllipsis
	remove := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
		for i, x := range s.folders {
			if x == f {
				s.folders = append(s.folders[:i], s.folders[i+1:]...)
				break
			}
		}
		s.foldersBox.Remove(f.box)
	})
	remove.Importance = widget.LowImportance
	includeL := widget.NewLabelWithStyle("Include", fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
	f.box = container.NewVBox(
		container.NewBorder(nil, nil, container.New(fixedWidth(s.labelWidth), container.NewHBox(layout.NewSpacer(), widget.NewIcon(theme.FolderIcon()))),
			container.NewHBox(f.poll, remove), name),
		container.NewBorder(nil, nil, container.New(fixedWidth(s.labelWidth), includeL), nil, f.include),
	)
	s.folders = append(s.folders, f)
	s.foldersBox.Add(f.box)
}

// pickFolder adds a folder chosen in a folder dialog.
func (s *settingsForm) pickFolder() {
	d := dialog.NewFolderOpen(func(uri fyne.ListableURI, err error) {
		if err != nil {
			s.u.showError(err)
			return
		}
		if uri == nil {
			return
		}
		s.addFolder(uri.Path(), core.DefaultInclude, false)
	}, s.u.win)
	d.Resize(fyne.NewSize(700, 480))
	d.Show()
}

// setAutostart writes or removes the login entry as the box is ticked.
func (s *settingsForm) setAutostart(on bool) {
	if err := autostart.Set(on, ID); err != nil {
		dialog.ShowError(err, s.u.win)
		s.openAtLogin.OnChanged = nil
		s.openAtLogin.SetChecked(autostart.Enabled())
		s.openAtLogin.OnChanged = s.setAutostart
	}
}
