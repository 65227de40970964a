package capture

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"

	"upshot/internal/devtools/dbustest"
)

// hangGuard bounds every wait for an event in these tests.
const hangGuard = 30 * time.Second

// How the stand-in portal answers.
const (
	answerOK     = "ok"     // a picture, at once
	answerCancel = "cancel" // response 1
	answerNever  = "never"  // nothing
	answerOldAPI = "old"    // a picture, on a Request path of its own
)

// fakePortal stands in for xdg-desktop-portal on a private bus: it owns
// org.freedesktop.portal.Desktop and exports the Screenshot interface.
type fakePortal struct {
	conn     *dbus.Conn
	pictures string // where it saves pictures, like ~/Pictures
	answer   string
	seq      atomic.Int32
	calls    chan map[string]dbus.Variant // the options of each call
	closed   chan dbus.ObjectPath         // requests closed by the caller
}

// portalScreenshot is the exported D-Bus interface, kept apart from the
// test's own methods.
type portalScreenshot struct{ p *fakePortal }

// portalRequest is an exported Request object.
type portalRequest struct {
	p    *fakePortal
	path dbus.ObjectPath
}

func (r portalRequest) Close() *dbus.Error {
	r.p.closed <- r.path
	return nil
}

// Screenshot implements org.freedesktop.portal.Screenshot.Screenshot.
func (s portalScreenshot) Screenshot(sender dbus.Sender, parent string, options map[string]dbus.Variant) (dbus.ObjectPath, *dbus.Error) {
	p := s.p
	token, _ := options["handle_token"].Value().(string)
	path := dbus.ObjectPath(requestPrefix + "/" + strings.ReplaceAll(strings.TrimPrefix(string(sender), ":"), ".", "_") + "/" + token)
	if p.answer == answerOldAPI {
		path = dbus.ObjectPath(fmt.Sprintf("%s/old/%d", requestPrefix, p.seq.Add(1)))
	}
	if err := p.conn.Export(portalRequest{p, path}, path, requestIface); err != nil {
		return "", dbus.MakeFailedError(err)
	}
	p.calls <- options
	// The answer goes out before the method returns: a client that
	// subscribes only after the call would miss it.
	switch p.answer {
	case answerOK, answerOldAPI:
		file, err := p.savePicture()
		if err != nil {
			return "", dbus.MakeFailedError(err)
		}
		uri := (&url.URL{Scheme: "file", Path: file}).String()
		p.respond(path, 0, map[string]dbus.Variant{"uri": dbus.MakeVariant(uri)})
	case answerCancel:
		p.respond(path, 1, map[string]dbus.Variant{})
	}
	return path, nil
}

func (p *fakePortal) respond(path dbus.ObjectPath, code uint32, results map[string]dbus.Variant) {
	if err := p.conn.Emit(path, requestIface+".Response", code, results); err != nil {
		panic(err)
	}
}

// portalPicture is the size of the stand-in's screenshots.
var portalPicture = image.Rect(0, 0, 64, 48)

// savePicture writes a PNG the way a portal backend does: into Pictures,
// under a name of its own with a space in it.
func (p *fakePortal) savePicture() (string, error) {
	img := image.NewRGBA(portalPicture)
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	img.Set(0, 0, color.RGBA{1, 2, 3, 255})
	file := filepath.Join(p.pictures, fmt.Sprintf("Screenshot from portal %d.png", p.seq.Add(1)))
	f, err := os.Create(file)
	if err != nil {
		return "", err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return "", err
	}
	return file, f.Close()
}

// startPortal connects a stand-in portal to the bus at addr. screenshot
// false leaves the Screenshot interface out, as a portal without a
// screenshot backend does.
func startPortal(t *testing.T, addr, answer, pictures string, screenshot bool) *fakePortal {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	p := &fakePortal{conn: conn, pictures: pictures, answer: answer,
		calls: make(chan map[string]dbus.Variant, 16), closed: make(chan dbus.ObjectPath, 16)}
	node := &introspect.Node{Name: string(portalPath)}
	if screenshot {
		if err := conn.Export(portalScreenshot{p}, portalPath, screenshotIface); err != nil {
			t.Fatal(err)
		}
		node.Interfaces = append(node.Interfaces, introspect.Interface{Name: screenshotIface, Methods: introspect.Methods(portalScreenshot{})})
	}
	if err := conn.Export(introspect.NewIntrospectable(node), portalPath, "org.freedesktop.DBus.Introspectable"); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName(portalName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own %s: %v, %v", portalName, reply, err)
	}
	return p
}

// portalEnv points the package at a private bus and returns its address.
// PATH holds no screenshot program and there is no display, so only the
// portal can capture.
func portalEnv(t *testing.T) string {
	t.Helper()
	addr := dbustest.Start(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	t.Setenv("PATH", t.TempDir())
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	t.Setenv("XDG_CURRENT_DESKTOP", "")
	return addr
}

func (p *fakePortal) nextCall(t *testing.T) map[string]dbus.Variant {
	t.Helper()
	select {
	case o := <-p.calls:
		return o
	case <-time.After(hangGuard):
		t.Fatal("the portal was not called")
	}
	return nil
}

func (p *fakePortal) nextClose(t *testing.T) dbus.ObjectPath {
	t.Helper()
	select {
	case path := <-p.closed:
		return path
	case <-time.After(hangGuard):
		t.Fatal("the request was not closed")
	}
	return ""
}

var nameRE = regexp.MustCompile(`^Screenshot \d{4}-\d\d-\d\d at \d\d\.\d\d\.\d\d\.png$`)

// checkSaved checks that shot is the only file in dir, named by Name, 0600,
// and a PNG of size want.
func checkSaved(t *testing.T, shot Shot, dir string, want image.Rectangle) {
	t.Helper()
	if filepath.Dir(shot.Path) != dir || !nameRE.MatchString(filepath.Base(shot.Path)) {
		t.Errorf("saved as %q, want a Name() in %s", shot.Path, dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 || entries[0].Name() != filepath.Base(shot.Path) {
		t.Errorf("the folder holds %v (%v), want only the capture", entries, err)
	}
	fi, err := os.Stat(shot.Path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode())
	}
	f, err := os.Open(shot.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the capture is no PNG: %v", err)
	}
	if img.Bounds() != want {
		t.Errorf("picture %v, want %v", img.Bounds(), want)
	}
}

func checkEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("%s holds %v, want nothing", dir, entries)
	}
}

func TestPortalCaptures(t *testing.T) {
	for _, c := range []struct {
		mode        Mode
		answer      string
		interactive bool
	}{
		{Region, answerOK, true},
		{Window, answerOK, true},
		{Screen, answerOK, false},
		{Region, answerOldAPI, true},
	} {
		t.Run(string(c.mode)+"-"+c.answer, func(t *testing.T) {
			addr := portalEnv(t)
			pictures := t.TempDir()
			p := startPortal(t, addr, c.answer, pictures, true)
			if got, err := Which(t.Context(), c.mode); err != nil || got != "the desktop's screenshot portal" {
				t.Errorf("Which = %q, %v", got, err)
			}
			dir := filepath.Join(t.TempDir(), "new", "Upshot")
			shot, err := Take(t.Context(), c.mode, Options{Dir: dir, Timeout: hangGuard})
			if err != nil {
				t.Fatal(err)
			}
			if shot.Tool != "portal" {
				t.Errorf("Tool = %q, want portal", shot.Tool)
			}
			checkSaved(t, shot, dir, portalPicture)
			checkEmpty(t, pictures)
			if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("the new folder: %v, %v; want 0700", fi.Mode(), err)
			}
			opts := p.nextCall(t)
			if v, ok := opts["interactive"].Value().(bool); !ok || v != c.interactive {
				t.Errorf("interactive = %v, want %v", opts["interactive"], c.interactive)
			}
			if v, ok := opts["modal"].Value().(bool); !ok || !v {
				t.Errorf("modal = %v, want true", opts["modal"])
			}
			if v, _ := opts["handle_token"].Value().(string); v == "" {
				t.Errorf("no handle_token in %v", opts)
			}
		})
	}
}

// The portal's file is moved, not copied, also from another file system.
func TestPortalFileFromAnotherFileSystem(t *testing.T) {
	dir := t.TempDir()
	var shm, tmp syscall.Stat_t
	if syscall.Stat("/dev/shm", &shm) != nil || syscall.Stat(dir, &tmp) != nil || shm.Dev == tmp.Dev {
		t.Skip("/dev/shm is not a file system of its own here")
	}
	pictures, err := os.MkdirTemp("/dev/shm", "pictures")
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { os.RemoveAll(pictures) })
	addr := portalEnv(t)
	startPortal(t, addr, answerOK, pictures, true)
	shot, err := Take(t.Context(), Screen, Options{Dir: dir, Timeout: hangGuard})
	if err != nil {
		t.Fatal(err)
	}
	checkSaved(t, shot, dir, portalPicture)
	checkEmpty(t, pictures)
}

func TestPortalCancelled(t *testing.T) {
	addr := portalEnv(t)
	startPortal(t, addr, answerCancel, t.TempDir(), true)
	dir := t.TempDir()
	_, err := Take(t.Context(), Region, Options{Dir: dir, Timeout: hangGuard})
	if !errors.Is(err, ErrCancelled) {
		t.Fatalf("error %v, want ErrCancelled", err)
	}
	checkEmpty(t, dir)
}

func TestPortalNoAnswer(t *testing.T) {
	addr := portalEnv(t)
	p := startPortal(t, addr, answerNever, t.TempDir(), true)
	dir := t.TempDir()
	_, err := Take(t.Context(), Region, Options{Dir: dir, Timeout: 300 * time.Millisecond})
	if err == nil || errors.Is(err, ErrCancelled) || !strings.Contains(err.Error(), "portal did not answer within 300ms") {
		t.Fatalf("error %v, want one saying the portal did not answer within 300ms", err)
	}
	for _, hint := range []string{"xdg-desktop-portal", "restart"} {
		if !strings.Contains(err.Error(), hint) {
			t.Errorf("error %q does not suggest %s", err, hint)
		}
	}
	opts := p.nextCall(t)
	token, _ := opts["handle_token"].Value().(string)
	if got := p.nextClose(t); !strings.HasSuffix(string(got), "/"+token) {
		t.Errorf("closed %s, want the request with token %s", got, token)
	}
	checkEmpty(t, dir)
}

func TestPortalContextCancelled(t *testing.T) {
	addr := portalEnv(t)
	p := startPortal(t, addr, answerNever, t.TempDir(), true)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		// Cancel once the portal has the request (or never hangs).
		select {
		case <-p.calls:
		case <-time.After(hangGuard):
		}
		cancel()
	}()
	dir := t.TempDir()
	_, err := Take(ctx, Window, Options{Dir: dir, Timeout: hangGuard})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	p.nextClose(t)
	checkEmpty(t, dir)
}

// A portal without a screenshot backend is passed over for the programs.
func TestPortalWithoutScreenshot(t *testing.T) {
	addr := portalEnv(t)
	startPortal(t, addr, answerOK, t.TempDir(), false)
	t.Setenv("DISPLAY", ":9")
	_, err := Which(t.Context(), Screen)
	var u *UnavailableError
	if !errors.As(err, &u) || !strings.Contains(u.Reason, "scrot") {
		t.Fatalf("Which: %v, want an *UnavailableError naming the programs", err)
	}
	dir := filepath.Join(t.TempDir(), "Upshot")
	if _, err := Take(t.Context(), Screen, Options{Dir: dir}); !errors.As(err, &u) {
		t.Fatalf("Take: %v, want an *UnavailableError", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the folder was created: %v", err)
	}
}

// With no portal and no display, there is nothing to capture with.
func TestNoDisplay(t *testing.T) {
	portalEnv(t)
	for _, mode := range []Mode{Region, Screen} {
		_, err := Take(t.Context(), mode, Options{Dir: t.TempDir()})
		var u *UnavailableError
		if !errors.As(err, &u) || !strings.Contains(u.Reason, "no display") || !strings.Contains(u.Reason, "WAYLAND_DISPLAY") {
			t.Errorf("%s: %v, want an *UnavailableError about the display", mode, err)
		}
	}
}
