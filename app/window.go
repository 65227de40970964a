package app

import (
	"context"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"upshot/internal/store"
	"upshot/uploader"
)

// uiOptions tune the window for the app and for tests.
type uiOptions struct {
	// do runs a function on the UI thread; default the window's gate,
	// which uses fyne.Do while the app runs.
	do func(func())
	// interval is the least time between two UI updates; default 50ms.
	interval time.Duration
	// notify sends a desktop notification; nil means none can be sent.
	notify func(*fyne.Notification)
	// configErr is why there is no usable config (nil when there is one).
	configErr error
	// draft prefills the settings when the config did not load.
	draft *uploader.Config
}

// status is the state shown in the status line.
type status struct {
	valid  bool
	counts map[store.State]int
	paused bool
}

// ui is Upshot's window: the drop zone, the search box, the list of
// uploads and the status line in one tab, the settings in another. Its
// fields belong to the UI thread; background work reaches it through the
// edge only.
type ui struct {
	app    fyne.App
	win    fyne.Window
	core   *backend
	edge   *edge
	thumbs *thumbs
	opts   uiOptions
	ctx    context.Context // the app's lifetime; set by start
	gate   uiGate          // closed when the app begins to quit

	model       *historyModel
	list        *widget.List
	search      *widget.Entry
	statusL     *widget.Label
	errorL      *widget.Label
	tabs        *container.AppTabs
	settings    *settingsForm // nil until first shown
	settingsTab *container.TabItem
	phone       *phonePage
	phoneTab    *container.TabItem
	tray        *tray // nil without a tray
	keys        hotkeys
	keyState    hotkeyState // what became of the hotkeys, for the settings
	capturing   atomic.Bool // a capture runs; any goroutine
	renewCancel func()      // stops renewing a private bucket's authorization

	status    status
	lastErr   string
	failing   bool           // the last upload to finish failed
	recent    []store.Entry  // newest first, for the tray
	notified  map[int64]bool // jobs whose failure was notified; the edge's goroutine's
	onStarted []func()       // run once the window is up
}

// newUI builds the window over c. Call start to run its background work.
func newUI(a fyne.App, c *backend, opts uiOptions) *ui {
	if opts.interval == 0 {
		opts.interval = 50 * time.Millisecond
	}
	u := &ui{app: a, core: c, opts: opts, notified: map[int64]bool{}, ctx: context.Background()}
	if opts.do == nil {
		opts.do = u.gate.do
		u.opts.do = opts.do
	}
	u.edge = newEdge(opts.do, opts.interval)
	u.edge.prepare = u.prepare
	u.edge.apply = u.apply
	u.thumbs = newThumbs(filepath.Join(c.DataDir(), "thumbs"), func(string) {
		u.edge.Post(u.list.Refresh)
	})
	u.model = newHistoryModel(c)

	u.win = a.NewWindow("Upshot")
	u.win.SetIcon(a.Icon())
	u.win.Resize(fyne.NewSize(760, 560))
	u.win.SetOnDropped(u.dropped)

	u.search = widget.NewEntry()
	u.search.SetPlaceHolder("Search uploads (Ctrl+F)")
	u.search.ActionItem = widget.NewIcon(theme.SearchIcon())
	u.search.OnChanged = func(s string) { u.setSearch(s) }

	u.list = widget.NewList(u.model.len, func() fyne.CanvasObject { return newRow(u) }, u.updateRow)
	u.list.OnSelected = func(widget.ListItemID) { u.list.UnselectAll() }

	u.statusL = widget.NewLabel("")
	u.statusL.SizeName = theme.SizeNameCaptionText
	u.errorL = widget.NewLabel("")
	u.errorL.SizeName = theme.SizeNameCaptionText
	u.errorL.Importance = widget.DangerImportance
	u.errorL.Truncation = fyne.TextTruncateEllipsis
	u.errorL.Hide()

	uploads := container.NewBorder(
		container.NewVBox(u.dropZone(), u.search),
		container.NewBorder(nil, nil, u.statusL, nil, u.errorL),
		nil, nil, u.list)
	// The settings are built when first shown: most starts never need them.
	u.settingsTab = container.NewTabItemWithIcon("Settings", theme.SettingsIcon(), container.NewStack())
	u.phone = newPhonePage(u)
	u.phoneTab = container.NewTabItemWithIcon("Phone", theme.DownloadIcon(), u.phone.content)
	u.tabs = container.NewAppTabs(container.NewTabItemWithIcon("Uploads", theme.UploadIcon(), uploads), u.phoneTab, u.settingsTab)
	u.tabs.OnSelected = func(t *container.TabItem) {
		if t == u.settingsTab {
			u.ensureSettings()
		}
	}
	u.win.SetContent(u.tabs)

	u.win.Canvas().AddShortcut(&fyne.ShortcutPaste{}, func(fyne.Shortcut) { u.paste() })
	u.win.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault},
		func(fyne.Shortcut) { u.focusSearch() })

	if opts.configErr != nil {
		u.showSettings() // first run, or settings to fix
	}
	return u
}

// ensureSettings builds the settings form if it is not built yet.
func (u *ui) ensureSettings() *settingsForm {
	if u.settings == nil {
		u.settings = newSettingsForm(u)
		u.settings.probeKeyring(u.ctx)
		u.settingsTab.Content.(*fyne.Container).Objects = []fyne.CanvasObject{u.settings.content}
		u.settingsTab.Content.Refresh()
	}
	return u.settings
}

// showSettings selects the settings tab.
func (u *ui) showSettings() {
	u.ensureSettings()
	u.tabs.Select(u.settingsTab)
}

// raise brings the window to the front, on page "" (as it was),
// "settings", "hotkeys" (the settings' Capture section) or "phone", for
// another "upshot" started meanwhile, or a hotkey.
func (u *ui) raise(page string) {
	u.win.Show()
	u.win.RequestFocus()
	switch page {
	case "settings":
		u.showSettings()
	case "phone":
		u.tabs.Select(u.phoneTab)
	case "hotkeys":
		u.showSettings()
		u.settings.revealCapture()
	}
}

// start loads the list and runs the edge and the thumbnail worker until
// ctx ends.
func (u *ui) start(ctx context.Context) {
	u.ctx = ctx
	if err := u.model.loadJobs(ctx); err != nil {
		u.showError(err)
	}
	if err := u.model.reload(ctx); err != nil {
		u.showError(err)
	}
	u.recent = recentEntries(u.model.rows)
	u.list.Refresh()
	go u.edge.run(ctx)
	go u.thumbs.run(ctx)
	u.edge.Post(func() {}) // a first status line
}

// dropZone is the band at the top that invites drops.
func (u *ui) dropZone() fyne.CanvasObject {
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	bg.CornerRadius = theme.Size(theme.SizeNameInputRadius) * 2
	bg.StrokeWidth = 1.5
	bg.StrokeColor = theme.Color(theme.ColorNamePrimary)
	title := widget.NewLabelWithStyle("Drop files or folders here to upload them", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	hint := widget.NewLabel("Ctrl+V uploads a screenshot from the clipboard. Links go to the clipboard.")
	hint.SizeName = theme.SizeNameCaptionText
	pick := widget.NewButtonWithIcon("Upload file…", theme.FolderOpenIcon(), u.pickFile)
	var shoot *widget.Button
	shoot = widget.NewButtonWithIcon("Capture", theme.MediaPhotoIcon(), func() {
		var items []*fyne.MenuItem
		for _, m := range captureMenu {
			items = append(items, fyne.NewMenuItem(m.label, func() { u.captureFromWindow(m.mode) }))
		}
		widget.ShowPopUpMenuAtRelativePosition(fyne.NewMenu("", items...), u.win.Canvas(),
			fyne.NewPos(0, shoot.Size().Height), shoot)
	})
	icon := widget.NewIcon(theme.UploadIcon())
	body := container.NewBorder(nil, nil, icon, container.NewCenter(container.NewHBox(shoot, pick)), container.New(&tightVBox{}, title, hint))
	return container.NewStack(bg, container.NewPadded(body))
}

func (u *ui) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	it, ok := u.model.at(id)
	if !ok {
		return
	}
	o.(*row).bind(it)
	if u.model.nearEnd(id) {
		u.model.loadPending = true
		u.edge.Post(func() {
			if err := u.model.loadMore(u.ctx); err != nil {
				u.showError(err)
			}
			u.list.Refresh()
		})
	}
}

func (u *ui) setSearch(s string) {
	u.model.search = strings.TrimSpace(s)
	if err := u.model.reload(u.ctx); err != nil {
		u.showError(err)
	}
	u.list.Refresh()
	u.list.ScrollToTop()
}

func (u *ui) focusSearch() {
	u.tabs.SelectIndex(0)
	u.win.Canvas().Focus(u.search)
}

// showWindow brings the window back from the tray.
func (u *ui) showWindow() {
	u.win.Show()
	u.win.RequestFocus()
}
