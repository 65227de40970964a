package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"github.com/BurntSushi/toml"

	"upshot/assets"
	"upshot/internal/clipboard"
	"upshot/internal/core"
	"upshot/uploader"
)

// ID is the app's identifier, as in FyneApp.toml. Fyne files the app's
// preferences under it.
const ID = "app.upshot.desktop"

// ErrNoDisplay is returned by Run when there is no display to open the
// window on.
var ErrNoDisplay = errors.New("no display: DISPLAY and WAYLAND_DISPLAY are unset, so the window cannot open " +
	"(run upshot in a desktop session, or use a subcommand such as upshot watch, which needs no display)")

// Options configure Run.
type Options struct {
	// ConfigPath is the settings file; default uploader.DefaultConfigPath().
	ConfigPath string
	// DataDir holds the queue, history, thumbnails and clipboard images;
	// default uploader.DataDir().
	DataDir string
	// Client tunes the uploader's HTTP client (extra CAs).
	Client uploader.ClientOptions
	// Page is the page the window opens on: "" or "settings".
	Page string
}

// Run opens Upshot's window and runs it until the user quits or ctx ends.
// It takes the instance lock, so that one process at a time runs the
// upload queue (the window or "upshot watch").
func Run(ctx context.Context, opts Options) error {
	if opts.ConfigPath == "" {
		opts.ConfigPath = uploader.DefaultConfigPath()
	}
	if opts.DataDir == "" {
		opts.DataDir = uploader.DataDir()
	}
	if needsDisplay() && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return ErrNoDisplay
	}
	cfg, cfgErr := uploader.Load(opts.ConfigPath)
	var draft *uploader.Config
	if cfgErr != nil && !errors.Is(cfgErr, uploader.ErrNoConfig) {
		draft = readDraft(opts.ConfigPath)
	}
	conc := uploader.DefaultConcurrency
	if cfg != nil {
		conc = cfg.Transfer.Concurrency
	}
	r := &relay{}
	cc, err := core.Open(ctx, core.Options{DataDir: opts.DataDir, Uploader: uploader.Options{Client: opts.Client},
		Role: core.RoleWindow, Concurrency: conc, OnEvent: r.event, OnShow: r.show})
	if err != nil {
		return err
	}
	defer cc.Close()

	a := fyneapp.NewWithID(ID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	notifyOK, trayOK := desktopBus(ctx)

	appCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &backend{Core: cc, clip: clipboard.New(clipboard.Options{}), configPath: opts.ConfigPath, now: time.Now}
	uo := uiOptions{configErr: cfgErr, draft: draft}
	if notifyOK {
		uo.notify = a.SendNotification
	}
	u := newUI(a, c, uo)
	r.attach(u)
	if cfg != nil {
		if err := c.Use(appCtx, cfg); err != nil {
			u.showError(err)
		}
	}
	if err := c.HandoffError(); err != nil {
		u.showError(fmt.Errorf("other upshot commands cannot reach this window, so upshot upload cannot run while it is open: %w", err))
	}

	var wg sync.WaitGroup
	wg.Go(func() { _ = c.Run(appCtx) })
	u.start(appCtx)
	u.applyHotkeys(hotkeysFor(cfg))
	u.keepRenewed(cfg)
	if cfg != nil {
		if err := u.restartWatch(cfg); err != nil {
			u.showError(err)
		}
	}
	if trayOK {
		if desk, ok := a.(desktop.App); ok {
			u.tray = newTray(u, desk)
		}
	}
	u.win.SetCloseIntercept(u.close)
	if opts.Page == "settings" {
		u.showSettings()
	}
	u.onStarted = append(u.onStarted, c.Ready)
	a.Lifecycle().SetOnStarted(func() {
		for _, f := range u.onStarted {
			f()
		}
		// Start-up (fonts, first page, settings) leaves garbage behind that
		// an idle window would otherwise keep resident for minutes.
		time.AfterFunc(2*time.Second, debug.FreeOSMemory)
	})
	go func() {
		select {
		case <-ctx.Done(): // a signal: quit as if from the menu
			u.edge.Post(u.quit)
		case <-appCtx.Done():
		}
	}()

	u.gate.bind()
	u.win.ShowAndRun()
	// Releasing the hotkeys must not keep Upshot from quitting: the X
	// server may never answer a closing connection.
	released := make(chan struct{})
	go func() {
		u.keys.close()
		close(released)
	}()
	select {
	case <-released:
	case <-time.After(2 * time.Second):
	}
	cancel()
	c.StopWatch()
	wg.Wait()
	return nil
}

// needsDisplay reports whether the window needs DISPLAY or
// WAYLAND_DISPLAY: on Linux and the BSDs.
func needsDisplay() bool {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd":
		return true
	}
	return false
}

// readDraft reads a config that did not load (it has problems) as far as
// it goes, to prefill the settings for fixing.
func readDraft(path string) *uploader.Config {
	var c uploader.Config
	if _, err := toml.DecodeFile(path, &c); err != nil {
		return nil
	}
	if !c.Target.Key.IsZero() {
		c.KeySource = "config"
	}
	c.Path = path
	c.SetDefaults()
	return &c
}

// restartWatch watches cfg's folders from now on; problems the watcher
// meets later show in the status line.
func (u *ui) restartWatch(cfg *uploader.Config) error {
	return u.core.Watch(u.ctx, core.WatchFolders(cfg.Watch), func(err error) {
		u.edge.Post(func() { u.showError(err) })
	})
}

// close handles the window's close button: to the tray when there is
// one; otherwise Upshot quits, saying so the first time.
func (u *ui) close() {
	prefs := u.app.Preferences()
	if u.tray != nil {
		u.win.Hide()
		if !prefs.Bool(prefTrayNoted) {
			prefs.SetBool(prefTrayNoted, true)
			u.sendNotification("Upshot is still running", "It keeps watching your folders. Open it again from the tray icon.")
		}
		return
	}
	if prefs.Bool(prefNoTrayNoted) {
		u.quit()
		return
	}
	prefs.SetBool(prefNoTrayNoted, true)
	d := dialog.NewInformation("Closing quits Upshot",
		"This desktop has no system tray, so Upshot cannot keep running in the background:\n"+
			"closing the window quits it, and folders are not watched until you start it again.", u.win)
	d.SetOnClosed(u.quit)
	d.Show()
}

// quit ends the app. It runs on the UI thread: nothing reaches Fyne from
// other goroutines after it. It stops the driver, as Fyne's own SIGTERM
// handling does, rather than calling App.Quit: that closes the windows
// first, and Fyne v2.7.1 then crashes on a mouse event that reaches a
// closed window before its loop ends (a nil viewport in
// processMouseMoved). The driver destroys the windows itself.
func (u *ui) quit() {
	u.gate.close()
	u.app.Driver().Quit()
}
