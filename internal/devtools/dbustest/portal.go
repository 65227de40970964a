package dbustest

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"
)

// The xdg-desktop-portal names the stand-in answers on, as its
// specification gives them.
const (
	portalBusName         = "org.freedesktop.portal.Desktop"
	portalObject          = dbus.ObjectPath("/org/freedesktop/portal/desktop")
	portalScreenshotIface = "org.freedesktop.portal.Screenshot"
	portalRequestIface    = "org.freedesktop.portal.Request"
	portalRequests        = "/org/freedesktop/portal/desktop/request"
)

// hangGuard bounds every wait for an event.
const hangGuard = time.Minute

// How the stand-in portal answers.
const (
	AnswerOK     = "ok"     // a picture, at once
	AnswerCancel = "cancel" // response 1
	AnswerNever  = "never"  // nothing
	AnswerOldAPI = "old"    // a picture, on a Request path of its own
)

// Portal stands in for xdg-desktop-portal on a private bus: it owns
// org.freedesktop.portal.Desktop and exports the Screenshot interface.
type Portal struct {
	conn     *dbus.Conn
	pictures string // where it saves pictures, like ~/Pictures
	answer   string
	seq      atomic.Int32
	calls    chan map[string]dbus.Variant // the options of each call
	closed   chan dbus.ObjectPath         // requests closed by the caller
}

// portalScreenshot is the exported D-Bus interface, kept apart from the
// test's own methods.
type portalScreenshot struct{ p *Portal }

// portalRequest is an exported Request object.
type portalRequest struct {
	p    *Portal
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
	path := dbus.ObjectPath(portalRequests + "/" + strings.ReplaceAll(strings.TrimPrefix(string(sender), ":"), ".", "_") + "/" + token)
	if p.answer == AnswerOldAPI {
		path = dbus.ObjectPath(fmt.Sprintf("%s/old/%d", portalRequests, p.seq.Add(1)))
	}
	if err := p.conn.Export(portalRequest{p, path}, path, portalRequestIface); err != nil {
		return "", dbus.MakeFailedError(err)
	}
	p.calls <- options
	// The answer goes out before the method returns: a client that
	// subscribes only after the call would miss it.
	switch p.answer {
	case AnswerOK, AnswerOldAPI:
		file, err := p.savePicture()
		if err != nil {
			return "", dbus.MakeFailedError(err)
		}
		uri := (&url.URL{Scheme: "file", Path: file}).String()
		p.respond(path, 0, map[string]dbus.Variant{"uri": dbus.MakeVariant(uri)})
	case AnswerCancel:
		p.respond(path, 1, map[string]dbus.Variant{})
	}
	return path, nil
}

func (p *Portal) respond(path dbus.ObjectPath, code uint32, results map[string]dbus.Variant) {
	if err := p.conn.Emit(path, portalRequestIface+".Response", code, results); err != nil {
		panic(err)
	}
}

// PortalPicture is the size of the stand-in's screenshots.
var PortalPicture = image.Rect(0, 0, 64, 48)

// savePicture writes a PNG the way a portal backend does: into Pictures,
// under a name of its own with a space in it.
func (p *Portal) savePicture() (string, error) {
	img := image.NewRGBA(PortalPicture)
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

// StartPortal connects a stand-in portal to the bus at addr. screenshot
// false leaves the Screenshot interface out, as a portal without a
// screenshot backend does.
func StartPortal(t testing.TB, addr, answer, pictures string, screenshot bool) *Portal {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	p := &Portal{conn: conn, pictures: pictures, answer: answer,
		calls: make(chan map[string]dbus.Variant, 16), closed: make(chan dbus.ObjectPath, 16)}
	node := &introspect.Node{Name: string(portalObject)}
	if screenshot {
		if err := conn.Export(portalScreenshot{p}, portalObject, portalScreenshotIface); err != nil {
			t.Fatal(err)
		}
		node.Interfaces = append(node.Interfaces, introspect.Interface{Name: portalScreenshotIface, Methods: introspect.Methods(portalScreenshot{})})
	}
	if err := conn.Export(introspect.NewIntrospectable(node), portalObject, "org.freedesktop.DBus.Introspectable"); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName(portalBusName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own %s: %v, %v", portalBusName, reply, err)
	}
	return p
}

// Called receives the options of each Screenshot call.
func (p *Portal) Called() <-chan map[string]dbus.Variant { return p.calls }

// NextCall waits for the next Screenshot call and returns its options.
func (p *Portal) NextCall(t testing.TB) map[string]dbus.Variant {
	t.Helper()
	select {
	case o := <-p.calls:
		return o
	case <-time.After(hangGuard):
		t.Fatal("the portal was not called")
	}
	return nil
}

// NextClose waits for the caller to close a request, and returns its path.
func (p *Portal) NextClose(t testing.TB) dbus.ObjectPath {
	t.Helper()
	select {
	case path := <-p.closed:
		return path
	case <-time.After(hangGuard):
		t.Fatal("the request was not closed")
	}
	return ""
}
