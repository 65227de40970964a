package app

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/godbus/dbus/v5"

	"upshot/internal/devtools/xvfbtest"
	"upshot/internal/keyring"
	"upshot/internal/store"
	"upshot/uploader"
)

func TestSettingsShowErrorsNextToFields(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	s := h.u.ensureSettings()
	s.endpoint.SetText("ftp//nowhere")
	s.bucket.SetText("")
	s.cacheControl.SetText("max-age=60\u00e9")
	test.Tap(s.saveBtn)

	want := map[string]string{
		fieldEndpoint:     "is not a URL",
		fieldBucket:       "is empty",
		fieldCacheControl: "cannot go in an HTTP header",
	}
	for field, l := range s.errs {
		if w, bad := want[field]; bad {
			if !l.Visible() || !strings.Contains(l.Text, w) {
				t.Errorf("%s: error label %q (visible %v), want %q", field, l.Text, l.Visible(), w)
			}
		} else if l.Visible() {
			t.Errorf("%s: unexpected error %q", field, l.Text)
		}
	}
	if _, err := os.Stat(h.core.configPath); err == nil {
		t.Fatal("an invalid config was saved")
	}

	// Fixed, the errors go on the next save.
	s.endpoint.SetText(h.srv.Endpoint)
	s.bucket.SetText(h.srv.Bucket)
	s.cacheControl.SetText("public, max-age=60")
	test.Tap(s.saveBtn)
	for field, l := range s.errs {
		if l.Visible() {
			t.Errorf("%s: error %q after fixing", field, l.Text)
		}
	}
	h.until("the save", func() bool { return s.saved.Visible() })
}

func TestTemplatePreviewFollowsTyping(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	s := h.u.ensureSettings()
	if got := s.keyPreview.Text; got != "Key: "+sampleFile {
		t.Fatalf("preview for {name}{ext}: %q", got)
	}
	s.pathTemplate.SetText("")
	test.Type(s.pathTemplate, "shots/{year}/{month}/{name}{ext}")
	if got, want := s.keyPreview.Text, "Key: shots/2026/11/"+sampleFile; got != want {
		t.Fatalf("key preview %q, want %q", got, want)
	}
	if want := "Link: " + h.srv.Endpoint + "/" + h.srv.Bucket + "/shots/2026/11/Screenshot%202026-11-22%20at%2010.15.00.png"; s.linkPreview.Text != want {
		t.Fatalf("link preview %q, want %q", s.linkPreview.Text, want)
	}
	test.Type(s.urlTemplate, "https://img.example.com/{key}")
	if want := "Link: https://img.example.com/shots/2026/11/Screenshot%202026-11-22%20at%2010.15.00.png"; s.linkPreview.Text != want {
		t.Fatalf("link preview %q, want %q", s.linkPreview.Text, want)
	}

	// A broken template says why, next to the field, as it is typed.
	test.Type(s.pathTemplate, "{nope}")
	if l := s.errs[fieldPathTemplate]; !l.Visible() || !strings.Contains(l.Text, "unknown placeholder {nope}") {
		t.Fatalf("path template error %q (visible %v)", l.Text, l.Visible())
	}
	if s.keyPreview.Text != "Key: —" {
		t.Fatalf("key preview for a broken template: %q", s.keyPreview.Text)
	}
	s.urlTemplate.SetText("img.example.com/{key}")
	if l := s.errs[fieldURLTemplate]; !l.Visible() || !strings.Contains(l.Text, "absolute http(s) URL") {
		t.Fatalf("url template error %q (visible %v)", l.Text, l.Visible())
	}
	// Only the template fields are checked while typing.
	s.bucket.SetText("")
	if s.errs[fieldBucket].Visible() {
		t.Fatal("the bucket error shows before saving")
	}
}

// With no config at all the window opens on the settings, explains, and
// a drop waits until the settings are saved; then it uploads.
func TestFirstRunSettingsThenUpload(t *testing.T) {
	// The first run offers the screenshot tool's folder, under this home.
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	offered := filepath.Join(home, "Pictures", "Screenshots")
	h := newHarness(t, harnessOptions{noConfig: true})
	s := h.u.ensureSettings()
	if h.u.tabs.Selected() != h.u.settingsTab || !s.bannerBox.Visible() || !strings.Contains(s.banner.Text, "Welcome") {
		t.Fatal("no config, yet the window does not open on the settings with a welcome")
	}
	if len(s.folders) != 1 || s.folders[0].dir != offered {
		t.Fatalf("the first run offers %d folders (%v), want %s", len(s.folders), s.folders, offered)
	}
	dir := t.TempDir()
	h.drop(writeFile(t, dir, "early.png", 400))
	h.until("the upload to wait for settings", func() bool {
		j := h.pending("early.png")
		return j != nil && j.state == store.StateFailed && strings.Contains(j.err, "not set up")
	})

	s.endpoint.SetText(h.srv.Endpoint)
	s.bucket.SetText(h.srv.Bucket)
	s.keyID.SetText(h.srv.AccessKey)
	s.key.SetText(h.srv.SecretKey)
	s.pathTemplate.SetText("up/{name}{ext}")
	s.addFolder(dir, []string{"*.png"}, false)
	test.Tap(s.saveBtn)
	h.until("the save", func() bool { return s.saved.Visible() })
	if h.u.tabs.SelectedIndex() != 0 {
		t.Fatal("after the first save the window stays on the settings")
	}
	// No keyring in tests: the key went into the file, which is private.
	fi, err := os.Stat(h.core.configPath)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v, %v", fi, err)
	}
	if !strings.Contains(s.saved.Text, "config file") {
		t.Fatalf("saved note %q does not say where the key went", s.saved.Text)
	}
	cfg, err := uploader.Load(h.core.configPath)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Target.Endpoint != h.srv.Endpoint || cfg.Target.Key.Reveal() != h.srv.SecretKey || len(cfg.Watch) != 2 ||
		cfg.Watch[0].Dir != offered || cfg.Watch[1].Dir != dir || cfg.Watch[1].Include[0] != "*.png" || cfg.Target.PathTemplate != "up/{name}{ext}" {
		t.Fatalf("saved config %+v", cfg)
	}
	// The offered folder did not exist: saving made it.
	if fi, err := os.Stat(offered); err != nil || !fi.IsDir() {
		t.Fatalf("the offered folder after the save: %v", err)
	}
	if h.core.Watching() != 2 {
		t.Fatalf("watching %d folders after the save", h.core.Watching())
	}
	// The waiting upload goes out with the new settings.
	h.until("the upload", func() bool { return h.done("early.png") })
	if k := h.top().it.entry.Key; k != "up/early.png" {
		t.Fatalf("key %q", k)
	}
	// A new file in the watched folder uploads by itself.
	writeFile(t, dir, ".tmp-new", 300)
	if err := os.Rename(filepath.Join(dir, ".tmp-new"), filepath.Join(dir, "watched.png")); err != nil {
		t.Fatal(err)
	}
	h.until("the watched file's upload", func() bool { return h.done("watched.png") })
}

func TestFieldErrorsSortsProblems(t *testing.T) {
	cfg := &uploader.Config{}
	cfg.SetDefaults()
	cfg.Watch = []uploader.Watch{{Dir: ""}}
	errs := fieldErrors(cfg.Validate())
	for _, f := range []string{fieldEndpoint, fieldBucket, fieldKeyID, fieldKey, fieldWatch} {
		if errs[f] == "" {
			t.Errorf("no error for %s in %v", f, errs)
		}
	}
	if !strings.HasPrefix(errs[fieldWatch], "watch[0].dir ") {
		t.Errorf("watch error %q does not name the folder", errs[fieldWatch])
	}
	if len(fieldErrors(nil)) != 0 {
		t.Error("errors for nil")
	}
}

// A config file with problems opens the settings, filled in from the
// file, with each problem next to its field; fixing and saving puts it to
// use.
func TestBrokenConfigOpensSettingsWithErrors(t *testing.T) {
	h := newHarness(t, harnessOptions{badConfig: "[target]\nendpoint = \"http://example.com\"\nbucket = \"b\"\nkey_id = \"id\"\nkey = \"k\"\npath_template = \"{nope}\"\n"})
	s := h.u.ensureSettings()
	if h.u.tabs.Selected() != h.u.settingsTab || !strings.Contains(s.banner.Text, "have problems") {
		t.Fatal("a broken config does not open the settings with an explanation")
	}
	if s.endpoint.Text != "http://example.com" || s.keyID.Text != "id" {
		t.Fatalf("the form is not filled from the file: %q %q", s.endpoint.Text, s.keyID.Text)
	}
	for field, want := range map[string]string{fieldEndpoint: "plain http", fieldBucket: "not a valid bucket name", fieldPathTemplate: "unknown placeholder"} {
		if l := s.errs[field]; !l.Visible() || !strings.Contains(l.Text, want) {
			t.Errorf("%s: %q (visible %v), want %q", field, l.Text, l.Visible(), want)
		}
	}
	s.endpoint.SetText(h.srv.Endpoint)
	s.bucket.SetText(h.srv.Bucket)
	s.keyID.SetText(h.srv.AccessKey)
	s.key.SetText(h.srv.SecretKey)
	s.pathTemplate.SetText("{name}{ext}")
	test.Tap(s.saveBtn)
	h.until("the save", func() bool { return s.saved.Visible() })
	h.drop(writeFile(t, t.TempDir(), "fixed.png", 100))
	h.until("an upload with the fixed settings", func() bool { return h.done("fixed.png") })
}

// TestSaveKeepsKeyInKeyring saves the settings with a real Secret Service
// (gnome-keyring on a private session bus): the key goes to the keyring,
// not into the file, and the CLI's loader finds it there.
func TestSaveKeepsKeyInKeyring(t *testing.T) {
	daemon, err1 := exec.LookPath("dbus-daemon")
	keyringd, err2 := exec.LookPath("gnome-keyring-daemon")
	if err := errors.Join(err1, err2); err != nil {
		if os.Getenv(xvfbtest.RequireEnv) == "1" {
			t.Fatalf("dbus-daemon and gnome-keyring are needed (make test installs them): %v", err)
		}
		t.Skip(err)
	}
	addr := startBus(t, daemon)
	startKeyring(t, keyringd, addr)
	h := newHarness(t, harnessOptions{noConfig: true, bus: addr})
	s := h.u.ensureSettings()
	s.endpoint.SetText(h.srv.Endpoint)
	s.bucket.SetText(h.srv.Bucket)
	s.keyID.SetText(h.srv.AccessKey)
	s.key.SetText(h.srv.SecretKey)
	test.Tap(s.saveBtn)
	h.until("the save", func() bool { return s.saved.Visible() })
	if !strings.Contains(s.saved.Text, "OS keyring") {
		t.Fatalf("saved note %q", s.saved.Text)
	}
	raw, err := os.ReadFile(h.core.configPath)
	if err != nil || strings.Contains(string(raw), h.srv.SecretKey) || strings.Contains(string(raw), "key =") {
		t.Fatalf("the key is in the config file (%v):\n%s", err, raw)
	}
	lookup := exec.CommandContext(t.Context(), "secret-tool", "lookup", "service", keyring.Service, "username", h.srv.AccessKey)
	lookup.Env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS="+addr)
	if out, err := lookup.Output(); err != nil || string(out) != h.srv.SecretKey {
		t.Fatalf("secret-tool lookup: %q, %v", out, err)
	}
	cfg, err := uploader.Load(h.core.configPath)
	if err != nil || cfg.KeySource != "keyring" || cfg.Target.Key.Reveal() != h.srv.SecretKey {
		t.Fatalf("load: %v, key from %q", err, cfg.KeySource)
	}
	h.drop(writeFile(t, t.TempDir(), "keyed.png", 100))
	h.until("the upload", func() bool { return h.done("keyed.png") })
}

// startKeyring runs gnome-keyring's Secret Service on the bus at addr,
// with a fresh, unlocked login keyring, and waits until it answers.
func startKeyring(t *testing.T, keyringd, addr string) {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	owner := make(chan *dbus.Signal, 10)
	conn.Signal(owner)
	if err := conn.AddMatchSignal(dbus.WithMatchMember("NameOwnerChanged"), dbus.WithMatchArg(0, "org.freedesktop.secrets")); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	cmd := exec.Command(keyringd, "--foreground", "--unlock", "--components=secrets")
	cmd.Env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS="+addr, "HOME="+home, "XDG_DATA_HOME="+filepath.Join(home, "data"),
		"XDG_RUNTIME_DIR="+home)
	cmd.Stdin = strings.NewReader("throwaway password")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	var has bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.freedesktop.secrets").Store(&has); err != nil {
		t.Fatal(err)
	}
	if !has {
		select {
		case <-owner:
		case <-time.After(30 * time.Second):
			t.Fatal("gnome-keyring did not take org.freedesktop.secrets")
		}
	}
}

func TestTestConnectionShowsFindings(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	s := h.u.ensureSettings()
	heading := func() string {
		if len(s.findings.Objects) == 0 {
			return ""
		}
		if l, ok := s.findings.Objects[0].(*widget.Label); ok {
			return l.Text
		}
		return ""
	}
	test.Tap(s.testBtn)
	h.until("the findings", func() bool { return strings.HasPrefix(heading(), "Connection") })
	if heading() != "Connection works" || len(s.findings.Objects) < 4 || s.testBtn.Disabled() {
		t.Fatalf("findings %q (%d lines)", heading(), len(s.findings.Objects))
	}
	// A wrong key fails, and says so.
	s.key.SetText("wrong")
	test.Tap(s.testBtn)
	h.until("the findings", func() bool { return heading() == "Connection test failed" })
}

func TestCDNSetupPanel(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	s := h.u.ensureSettings()
	text := func() string {
		for _, o := range s.findings.Objects {
			if sc, ok := o.(*container.Scroll); ok {
				if e, ok := sc.Content.(*widget.Entry); ok {
					return e.Text
				}
			}
		}
		return ""
	}
	// Without a custom domain the panel says what to set.
	test.Tap(s.cdnBtn)
	// (The private-bucket panel follows the answer.)
	h.until("the answer", func() bool { return len(s.findings.Objects) == 3 && !s.cdnBtn.Disabled() })
	if l, ok := s.findings.Objects[1].(*widget.Label); !ok || !strings.Contains(l.Text, "url_template") {
		t.Fatalf("without a domain: %#v", s.findings.Objects[1])
	}
	// With one (and a download host), it shows the steps.
	test.Type(s.urlTemplate, "https://img.example.com/{key}")
	s.base.Target.DownloadURL = "https://f004.backblazeb2.com" // as download_url in the file
	test.Tap(s.cdnBtn)
	h.until("the steps", func() bool { return strings.Contains(text(), "CNAME") })
	for _, want := range []string{"Target: f004.backblazeb2.com", `concat("/file/`, "img.example.com"} {
		if !strings.Contains(text(), want) {
			t.Errorf("steps lack %q:\n%s", want, text())
		}
	}
}
