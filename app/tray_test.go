package app

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"github.com/godbus/dbus/v5"

	"upshot/internal/devtools/xvfbtest"
	"upshot/internal/store"
	"upshot/uploader/s3test"
)

// fakeDesk records what the app asks of the system tray.
type fakeDesk struct {
	icon fyne.Resource
	menu *fyne.Menu
	win  fyne.Window
}

func (f *fakeDesk) SetSystemTrayMenu(m *fyne.Menu)    { f.menu = m }
func (f *fakeDesk) SetSystemTrayIcon(r fyne.Resource) { f.icon = r }
func (f *fakeDesk) SetSystemTrayWindow(w fyne.Window) { f.win = w }

func TestTrayMenuFollowsState(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	desk := &fakeDesk{}
	h.u.tray = newTray(h.u, desk)
	if desk.icon != trayIdle || desk.win != h.u.win {
		t.Fatal("the tray does not start idle with the window")
	}
	var labels []string
	for _, it := range desk.menu.Items {
		labels = append(labels, it.Label)
	}
	want := []string{"Capture region", "Capture window", "Capture screen", "", "Upload file…", "Upload clipboard image", "Phone inbox…",
		"Pause watching", "Recent", "", "Open Upshot", "Quit"}
	if !slices.Equal(labels, want) {
		t.Fatalf("tray menu %q, want %q", labels, want)
	}

	// The phone inbox from the tray: the window, on its Phone page.
	findItem(desk.menu, "Phone inbox…").Action()
	if h.u.tabs.Selected() != h.u.phoneTab {
		t.Fatal("Phone inbox… does not show the Phone page")
	}

	// Pause and resume from the tray.
	findItem(desk.menu, "Pause watching").Action()
	h.until("the pause", func() bool { return findItemOK(desk.menu, "Resume watching") })
	if paused, _ := h.st.Paused(t.Context()); !paused || !strings.HasPrefix(h.u.statusL.Text, "Paused") {
		t.Fatalf("paused %v, status %q", paused, h.u.statusL.Text)
	}
	findItem(desk.menu, "Resume watching").Action()
	h.until("the resume", func() bool { return findItemOK(desk.menu, "Pause watching") })

	// A failure shows as the error icon, an upload as recent, the next
	// success as idle again.
	h.srv.Stop()
	h.drop(writeFile(t, t.TempDir(), "down.png", 100))
	h.until("the error icon", func() bool { return desk.icon == trayError })
	h.srv.Restart(t.Context())
	var recent []string
	for i := range 6 {
		name := fmt.Sprintf("r%d.png", i)
		h.drop(writeFile(t, t.TempDir(), name, 100+i))
		h.until(name, func() bool { return h.done(name) })
	}
	h.until("the idle icon", func() bool { return desk.icon == trayIdle })
	for _, it := range findItem(desk.menu, "Recent").ChildMenu.Items {
		recent = append(recent, it.Label)
	}
	if want := []string{"r5.png", "r4.png", "r3.png", "r2.png", "r1.png"}; !slices.Equal(recent, want) {
		t.Fatalf("recent %q, want %q", recent, want)
	}
	findItem(desk.menu, "Recent").ChildMenu.Items[1].Action()
	if got := h.app.Clipboard().Content(); !strings.HasSuffix(got, "/r4.png") {
		t.Fatalf("Recent r4.png copied %q", got)
	}

	// With a tray, closing the window hides it and says so once.
	for len(h.notes) > 0 {
		<-h.notes
	}
	h.u.close()
	if h.u.win.Canvas().Overlays().Top() != nil {
		t.Fatal("closing to the tray opened a dialog")
	}
	if n := <-h.notes; n.Title != "Upshot is still running" {
		t.Fatalf("notification %+v", n)
	}
	h.u.close()
	if len(h.notes) != 0 {
		t.Fatal("the tray note came twice")
	}
}

func findItemOK(m *fyne.Menu, label string) bool {
	return slices.ContainsFunc(m.Items, func(it *fyne.MenuItem) bool { return it.Label == label })
}

// snWatcher plays a desktop's tray host (a StatusNotifierWatcher) on a
// private session bus.
type snWatcher struct{ items chan string }

func (w *snWatcher) RegisterStatusNotifierItem(sender dbus.Sender, path string) *dbus.Error {
	w.items <- string(sender)
	return nil
}

// TestRealTrayUnderDBus runs the real binary with a session bus that has
// a tray host: the app registers its tray item, its menu lists the
// actions, and clicking "Pause watching" pauses the queue.
func TestRealTrayUnderDBus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		if os.Getenv(xvfbtest.RequireEnv) == "1" {
			t.Fatal("dbus-daemon is needed (Debian's dbus-x11; make test installs it)")
		}
		t.Skip("dbus-daemon is not installed")
	}
	display := xvfbtest.Start(t, 1024, 768)
	addr := startBus(t, daemon)
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	w := &snWatcher{items: make(chan string, 4)}
	if err := conn.Export(w, "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher"); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName("org.kde.StatusNotifierWatcher", dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own the watcher name: %v %v", reply, err)
	}
	signals := make(chan *dbus.Signal, 100)
	conn.Signal(signals)
	if err := conn.AddMatchSignal(dbus.WithMatchInterface("com.canonical.dbusmenu"), dbus.WithMatchMember("LayoutUpdated")); err != nil {
		t.Fatal(err)
	}

	bin := buildUpshot(t)
	srv := s3test.Start(t, s3test.Options{})
	dir := t.TempDir()
	config := filepath.Join(dir, "config.toml")
	os.WriteFile(config, []byte(fmt.Sprintf("[target]\nendpoint = %q\nbucket = %q\nkey_id = %q\nkey = %q\n",
		srv.Endpoint, srv.Bucket, srv.AccessKey, srv.SecretKey)), 0o600)
	data := filepath.Join(dir, "data")
	p := startApp(t, bin, []string{"DISPLAY=" + display, "WAYLAND_DISPLAY=", "LANG=C.UTF-8", "UPSHOT_CONFIG=" + config,
		"UPSHOT_DATA_DIR=" + data, "XDG_CONFIG_HOME=" + filepath.Join(dir, "xdg"), "DBUS_SESSION_BUS_ADDRESS=" + addr,
		"B2_APPLICATION_KEY_ID=", "B2_APPLICATION_KEY="})
	p.ready(t)
	var item string
	select {
	case item = <-w.items:
	case <-time.After(5 * time.Minute): // a hang guard
		t.Fatalf("the app registered no tray item\n%s", p.errors())
	}
	menu := conn.Object(item, "/StatusNotifierMenu")
	// The tray fills its menu item by item after it registers: wait for
	// the whole menu.
	wanted := []string{"Capture region", "Upload file…", "Upload clipboard image", "Pause watching", "Recent", "Open Upshot", "Quit"}
	var labels map[string]int32
	whole := time.After(5 * time.Minute) // a hang guard
	for labels = trayLabels(t, menu); !hasAll(labels, wanted); labels = trayLabels(t, menu) {
		select {
		case <-signals:
		case <-time.After(250 * time.Millisecond):
		case <-whole:
			t.Fatalf("tray menu %v lacks some of %q", labels, wanted)
		}
	}
	// The menu is built anew (with new item ids) when the tray starts and
	// whenever it changes; a click on an id from before that is dropped,
	// and the tray says so. Such a click is made again on the new menu.
	click := func(id int32) {
		if err := menu.Call("com.canonical.dbusmenu.Event", 0, id, "clicked", dbus.MakeVariant(""), uint32(0)).Err; err != nil {
			t.Fatal(err)
		}
	}
	clicked := labels["Pause watching"]
	click(clicked)
	timeout := time.After(5 * time.Minute) // a hang guard
	for {
		now := trayLabels(t, menu)
		if _, ok := now["Resume watching"]; ok {
			break
		}
		if id, ok := now["Pause watching"]; ok && id != clicked &&
			strings.Contains(p.errors(), fmt.Sprintf("no menu item with ID %d\n", clicked)) {
			clicked = id
			click(clicked)
		}
		// LayoutUpdated says when to look again; a signal that came
		// before the look is not sent twice, so look now and then too.
		select {
		case <-signals:
		case <-time.After(250 * time.Millisecond):
		case <-timeout:
			t.Fatalf("the tray menu never offered Resume watching\n%s", p.errors())
		}
	}
	st, err := store.Open(t.Context(), filepath.Join(data, "upshot.db"))
	if err != nil {
		t.Fatal(err)
	}
	paused, err := st.Paused(t.Context())
	st.Close()
	if err != nil || !paused {
		t.Fatalf("the queue is not paused after the tray's Pause (%v)", err)
	}
	p.stop(t)
}

// hasAll reports whether the menu has every label.
func hasAll(labels map[string]int32, want []string) bool {
	for _, w := range want {
		if _, ok := labels[w]; !ok {
			return false
		}
	}
	return true
}

// startBus runs a private session bus and returns its address.
func startBus(t *testing.T, daemon string) string {
	t.Helper()
	cmd := exec.Command(daemon, "--session", "--nofork", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon: %v", err)
	}
	return strings.TrimSpace(line)
}

// trayLabels reads the tray menu's items: label → item id.
func trayLabels(t *testing.T, menu dbus.BusObject) map[string]int32 {
	t.Helper()
	var (
		rev    uint32
		layout []any
	)
	call := menu.Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{})
	if call.Err != nil {
		t.Fatal(call.Err)
	}
	if len(call.Body) != 2 {
		t.Fatalf("GetLayout: %v", call.Body)
	}
	rev, _ = call.Body[0].(uint32)
	layout, _ = call.Body[1].([]any)
	_ = rev
	labels := map[string]int32{}
	var walk func([]any)
	walk = func(node []any) {
		if len(node) != 3 {
			return
		}
		id, _ := node[0].(int32)
		if props, ok := node[1].(map[string]dbus.Variant); ok {
			if l, ok := props["label"]; ok {
				if s, ok := l.Value().(string); ok {
					labels[s] = id
				}
			}
		}
		children, _ := node[2].([]dbus.Variant)
		for _, c := range children {
			if n, ok := c.Value().([]any); ok {
				walk(n)
			}
		}
	}
	walk(layout)
	return labels
}
