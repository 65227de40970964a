package app

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/skip2/go-qrcode"

	"upshot/internal/inbox"
	"upshot/internal/lan"
)

// phonePage is the window's phone inbox: a QR code that a phone on the
// same network scans to upload photos and videos straight to the bucket,
// the phones that did, and whether the bucket lets them send directly. Its
// widgets belong to the UI thread; the server is started and asked from
// goroutines, whose results come back through the edge.
type phonePage struct {
	u       *ui
	content fyne.CanvasObject

	closedBox *fyne.Container // shown while the inbox is closed
	openBox   *fyne.Container // shown while it is open
	openBtn   *widget.Button
	closeBtn  *widget.Button
	reason    *widget.Label // why it closed, or what went wrong
	qr        *canvas.Image
	address   *widget.Label
	devices   *widget.Label
	direct    *widget.Label
	allowBtn  *widget.Button

	mu    sync.Mutex
	srv   *inbox.Server // started on first open, then kept
	token string        // the open session's; "" when closed
	urls  []string
}

func newPhonePage(u *ui) *phonePage {
	p := &phonePage{u: u}
	intro := widget.NewLabel("Send photos and videos from a phone on the same network straight to your bucket. " +
		"Open the inbox, then scan its code with the phone's camera. The key never leaves this computer: " +
		"each file gets a signed permission for that one upload.")
	intro.Wrapping = fyne.TextWrapWord
	p.openBtn = widget.NewButtonWithIcon("Open the inbox", theme.DownloadIcon(), p.open)
	p.openBtn.Importance = widget.HighImportance
	p.reason = widget.NewLabel("")
	p.reason.Wrapping = fyne.TextWrapWord
	p.reason.Hide()
	p.closedBox = container.NewVBox(intro, container.NewHBox(p.openBtn), p.reason)

	p.qr = canvas.NewImageFromImage(nil)
	p.qr.FillMode = canvas.ImageFillContain
	p.qr.ScaleMode = canvas.ImageScalePixels
	p.qr.SetMinSize(fyne.NewSize(200, 200))
	p.address = widget.NewLabel("")
	p.address.TextStyle = fyne.TextStyle{Monospace: true}
	p.address.Wrapping = fyne.TextWrapBreak
	copyBtn := widget.NewButtonWithIcon("Copy address", theme.ContentCopyIcon(), func() {
		p.mu.Lock()
		urls := p.urls
		p.mu.Unlock()
		if len(urls) > 0 {
			p.u.app.Clipboard().SetContent(urls[0])
			p.u.note("Copied the inbox's address")
		}
	})
	p.closeBtn = widget.NewButtonWithIcon("Close the inbox", theme.CancelIcon(), p.close)
	p.direct = widget.NewLabel("")
	p.direct.Wrapping = fyne.TextWrapWord
	p.allowBtn = widget.NewButton("Let phones upload straight to the bucket", p.allowDirect)
	p.allowBtn.Hide()
	p.devices = widget.NewLabel("No phone has opened the inbox yet.")
	p.devices.Wrapping = fyne.TextWrapWord
	warn := widget.NewLabel("Anyone who has this code can upload to your bucket until the inbox closes.")
	warn.Wrapping = fyne.TextWrapWord
	warn.SizeName = theme.SizeNameCaptionText
	p.openBox = container.NewVBox(
		container.NewCenter(p.qr),
		p.address,
		container.NewHBox(copyBtn, layout.NewSpacer(), p.closeBtn),
		warn,
		widget.NewSeparator(),
		widget.NewLabelWithStyle("Phones", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		p.devices,
		widget.NewSeparator(),
		p.direct,
		container.NewHBox(p.allowBtn),
	)
	p.openBox.Hide()
	p.content = container.NewVScroll(container.NewPadded(container.NewVBox(p.closedBox, p.openBox)))
	return p
}

// server starts the inbox's server on first use and returns it.
func (p *phonePage) server() (*inbox.Server, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv != nil {
		return p.srv, nil
	}
	host, _ := os.Hostname()
	srv, err := inbox.Listen(p.u.core.Core, inbox.Options{Name: strings.TrimSpace("Upshot on " + host),
		OnDevice: func(inbox.Device) { p.u.edge.Post(p.showDevices) }})
	if err != nil {
		return nil, err
	}
	p.srv = srv
	ctx := p.u.ctx
	go func() { _ = srv.Serve(ctx) }()
	return srv, nil
}

// open opens a session and shows its code.
func (p *phonePage) open() {
	p.openBtn.Disable()
	p.reason.Hide()
	go func() {
		srv, err := p.server()
		var sess inbox.Session
		if err == nil {
			sess, err = srv.Open()
		}
		if err == nil && len(sess.URLs) == 0 {
			err = errors.New("this computer has no network address a phone could reach: connect it to the phone's network")
		}
		if err != nil {
			p.u.edge.Post(func() { p.showClosed(err.Error()) })
			return
		}
		png, qerr := qrcode.New(sess.URLs[0], qrcode.Medium)
		p.mu.Lock()
		p.token, p.urls = sess.Token, sess.URLs
		p.mu.Unlock()
		direct := p.checkDirect(sess.Origin())
		p.u.edge.Post(func() {
			if qerr == nil {
				p.qr.Image = png.Image(464)
				p.qr.Refresh()
			}
			p.address.SetText(sess.URLs[0])
			p.showDevices()
			p.showDirect(direct)
			p.closedBox.Hide()
			p.openBox.Show()
			p.u.note("The phone inbox is open")
		})
		<-srv.Ended(sess.Token)
		p.mu.Lock()
		if p.token == sess.Token {
			p.token, p.urls = "", nil
		}
		p.mu.Unlock()
		p.u.edge.Post(func() {
			cfg, _ := p.u.core.Settings()
			why := "The inbox is closed."
			if cfg != nil {
				why = fmt.Sprintf("The inbox is closed (it closes by itself after %v without use).", time.Duration(cfg.Inbox.Idle))
			}
			p.showClosed(why)
		})
	}()
}

// close ends the open session.
func (p *phonePage) close() {
	p.mu.Lock()
	srv, token := p.srv, p.token
	p.mu.Unlock()
	if srv != nil && token != "" {
		srv.CloseSession(token)
	}
}

func (p *phonePage) showClosed(why string) {
	p.openBox.Hide()
	p.closedBox.Show()
	p.openBtn.Enable()
	p.reason.SetText(why)
	p.reason.Show()
}

// directState is whether phones may send straight to the bucket.
type directState struct {
	ok   bool
	why  string
	fail error
}

// checkDirect asks the bucket whether its CORS rules let a page at origin
// PUT.
func (p *phonePage) checkDirect(origin string) directState {
	_, up := p.u.core.Settings()
	if up == nil {
		return directState{why: "Upshot is not set up yet."}
	}
	st, err := up.InboxCORS(p.u.ctx, origin)
	if err != nil {
		return directState{fail: err}
	}
	return directState{ok: st.Allowed, why: st.Reason}
}

func (p *phonePage) showDirect(d directState) {
	switch {
	case d.fail != nil:
		p.direct.SetText("Upshot cannot tell whether phones may upload straight to the bucket; they send through this computer if not. " + errText(d.fail))
		p.allowBtn.Hide()
	case d.ok:
		p.direct.SetText("Phones upload straight to your bucket.")
		p.allowBtn.Hide()
	default:
		p.direct.SetText("Phones send through this computer, which is slower: " + d.why + ".")
		p.allowBtn.Show()
		p.allowBtn.Enable()
	}
}

// allowDirect sets the bucket's CORS rule for this computer's addresses.
func (p *phonePage) allowDirect() {
	p.allowBtn.Disable()
	cfg, up := p.u.core.Settings()
	p.mu.Lock()
	urls := p.urls
	p.mu.Unlock()
	if up == nil || len(urls) == 0 {
		return
	}
	go func() {
		origins := lan.Origins(cfg.Inbox.Listen)
		if o := (inbox.Session{URLs: urls}).Origin(); !slices.Contains(origins, o) {
			origins = append(origins, o)
		}
		err := up.SetInboxCORS(p.u.ctx, origins)
		d := directState{ok: err == nil, fail: err}
		if err == nil {
			d = p.checkDirect((inbox.Session{URLs: urls}).Origin())
		}
		p.u.edge.Post(func() { p.showDirect(d) })
	}()
}

// showDevices lists the phones that used the open session.
func (p *phonePage) showDevices() {
	p.mu.Lock()
	srv, token := p.srv, p.token
	p.mu.Unlock()
	if srv == nil || token == "" {
		return
	}
	devs := srv.Devices(token)
	if len(devs) == 0 {
		p.devices.SetText("No phone has opened the inbox yet.")
		return
	}
	var lines []string
	for _, d := range devs {
		uploads := "no uploads yet"
		switch d.Uploads {
		case 0:
		case 1:
			uploads = "1 upload"
		default:
			uploads = fmt.Sprintf("%d uploads", d.Uploads)
		}
		lines = append(lines, fmt.Sprintf("%s at %s: %s, last seen %s", d.Name, d.Addr, uploads, d.LastSeen.Format("15:04")))
	}
	p.devices.SetText(strings.Join(lines, "\n"))
}
