// Package xdndtest drops files onto an X11 window as a file manager does,
// through the XDND protocol (version 5), for tests of programs that take
// dropped files: Upshot's window under Xvfb, or a Windows program under
// Wine (whose X11 driver turns the drop into WM_DROPFILES or OLE drag and
// drop).
//
// The source side is complete: a window of its own owns XdndSelection,
// XdndEnter offers text/uri-list (and plain text), one XdndPosition at the
// target's centre asks for a copy, XdndDrop follows an accepting
// XdndStatus, selection requests are answered whenever they come (Wine
// reads the data as soon as the drag enters), and the drop ends with the
// target's XdndFinished.
package xdndtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"slices"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// Version is the XDND protocol version this package speaks.
const Version = 5

func init() {
	// xgb logs to stderr that Xvfb has no ~/.Xauthority, and that the
	// connection broke when a test's Xvfb stops: noise in a test's output.
	xgb.Logger = log.New(io.Discard, "", 0)
}

// ErrNotAware is returned (wrapped) by [Drop] when neither the target
// window nor a window above or inside it has the XdndAware property: the
// program does not take drops there, or its window is not up yet.
var ErrNotAware = errors.New("the window is not XdndAware")

// ErrRefused is returned (wrapped) by [Drop] when the target answered the
// position with XdndStatus accept=0, or finished with success=0.
var ErrRefused = errors.New("the target refused the drop")

// Drop drags files onto the X window target (its id, as xdotool prints
// it) on display (":N"; empty means $DISPLAY) and drops them at the
// centre of target, asking for a copy. The files become absolute file://
// URIs; they need not exist.
//
// Drop finds the XdndAware window for target (target itself, an ancestor,
// or a viewable descendant, in that order; a window's XdndProxy is
// honoured), and returns once the target has sent XdndFinished, or with an
// error naming the step that failed, or when ctx ends. It opens and
// closes an X connection of its own, so concurrent calls are safe; two
// drops onto the same target at once confuse the target, as two mice
// would.
func Drop(ctx context.Context, display string, target uint32, files []string) error {
	paths, err := absolute(files)
	if err != nil {
		return err
	}
	conn, err := dial(ctx, display)
	if err != nil {
		return err
	}
	defer conn.Close()
	d := &drag{conn: conn, target: xproto.Window(target), uris: uriList(paths), text: plainText(paths)}
	return d.run(ctx)
}

// dial connects to display unless ctx ends first.
func dial(ctx context.Context, display string) (*xgb.Conn, error) {
	type result struct {
		conn *xgb.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		c, err := xgb.NewConnDisplay(display)
		done <- result{c, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("connect to the X display %q (is it running, and DISPLAY right?): %w", display, r.err)
		}
		return r.conn, nil
	case <-ctx.Done():
		go func() {
			if r := <-done; r.conn != nil {
				r.conn.Close()
			}
		}()
		return nil, fmt.Errorf("connect to the X display %q: %w", display, ctx.Err())
	}
}

// atomNames are the atoms a drag uses, interned at its start.
var atomNames = []string{
	"XdndAware", "XdndProxy", "XdndTypeList", "XdndSelection",
	"XdndEnter", "XdndPosition", "XdndStatus", "XdndLeave", "XdndDrop", "XdndFinished",
	"XdndActionCopy", "TARGETS", "text/uri-list", "text/plain;charset=utf-8", "UTF8_STRING", "text/plain",
}

// offered are the types XdndEnter offers, best first.
var offered = []string{"text/uri-list", "text/plain;charset=utf-8", "UTF8_STRING"}

// drag is one drop in progress; it belongs to the goroutine running Drop.
type drag struct {
	conn   *xgb.Conn
	target xproto.Window // the window the caller named
	uris   []byte        // the text/uri-list
	text   []byte        // the paths as plain text

	atom    map[string]xproto.Atom
	root    xproto.Window
	src     xproto.Window // the source window, unmapped, owner of XdndSelection
	aware   xproto.Window // the XdndAware window: messages name it
	dest    xproto.Window // where messages go: aware, or its XdndProxy
	version uint32        // the version the drag speaks: min(Version, aware's)
	events  chan event
}

// event is what the connection delivered: an event or an X error.
type event struct {
	ev  xgb.Event
	err xgb.Error
}

func (d *drag) run(ctx context.Context) error {
	setup := xproto.Setup(d.conn)
	d.root = setup.DefaultScreen(d.conn).Root
	if limit := 4*int(setup.MaximumRequestLength) - 24; len(d.uris) > limit {
		return fmt.Errorf("the file list is %d bytes as text/uri-list and the X server takes %d at most in one property: drop fewer files", len(d.uris), limit)
	}
	if err := d.internAtoms(); err != nil {
		return err
	}
	geom, err := xproto.GetGeometry(d.conn, xproto.Drawable(d.target)).Reply()
	if err != nil {
		return fmt.Errorf("no window 0x%x on the X display (a window id as xdotool prints it): %w", uint32(d.target), err)
	}
	if err := d.findAware(); err != nil {
		return err
	}
	at, err := xproto.TranslateCoordinates(d.conn, d.target, d.root, int16(geom.Width/2), int16(geom.Height/2)).Reply()
	if err != nil {
		return fmt.Errorf("find where window 0x%x is on the screen: %w", uint32(d.target), err)
	}
	if err := d.makeSource(); err != nil {
		return err
	}
	d.events = make(chan event, 16)
	quit := make(chan struct{})
	defer close(quit)
	go d.read(quit)
	// Notice the target going away during the drag: the mask is this
	// connection's own and goes with it.
	_ = xproto.ChangeWindowAttributesChecked(d.conn, d.aware, xproto.CwEventMask, []uint32{xproto.EventMaskStructureNotify}).Check()
	now, err := d.serverTime(ctx)
	if err != nil {
		return err
	}
	if err := xproto.SetSelectionOwnerChecked(d.conn, d.src, d.atom["XdndSelection"], now).Check(); err != nil {
		return fmt.Errorf("take the XdndSelection: %w", err)
	}
	if owner, err := xproto.GetSelectionOwner(d.conn, d.atom["XdndSelection"]).Reply(); err != nil || owner.Owner != d.src {
		return fmt.Errorf("take the XdndSelection: another client holds it (%v)", err)
	}

	enter := []uint32{uint32(d.src), d.version << 24, 0, 0, 0}
	for i, name := range offered { // three, which XdndEnter carries itself
		enter[2+i] = uint32(d.atom[name])
	}
	if err := d.send("XdndEnter", enter); err != nil {
		return err
	}
	pos := uint32(uint16(at.DstX))<<16 | uint32(uint16(at.DstY))
	if err := d.send("XdndPosition", []uint32{uint32(d.src), 0, pos, uint32(now), uint32(d.atom["XdndActionCopy"])}); err != nil {
		return err
	}

	dropped := false
	for {
		var e event
		select {
		case e = <-d.events:
		case <-ctx.Done():
			if !dropped {
				_ = d.send("XdndLeave", []uint32{uint32(d.src), 0, 0, 0, 0})
				return fmt.Errorf("wait for the target's XdndStatus: %w", ctx.Err())
			}
			return fmt.Errorf("wait for the target's XdndFinished after the drop: %w", ctx.Err())
		}
		if e.ev == nil && e.err == nil {
			return errors.New("the X connection closed during the drag")
		}
		if e.err != nil {
			return fmt.Errorf("the X server reported an error during the drag: %v", e.err)
		}
		switch ev := e.ev.(type) {
		case xproto.SelectionRequestEvent:
			d.answer(ev)
		case xproto.DestroyNotifyEvent:
			if ev.Window == d.aware {
				return fmt.Errorf("the target window 0x%x was destroyed during the drag", uint32(d.aware))
			}
		case xproto.ClientMessageEvent:
			if ev.Format != 32 || ev.Window != d.src {
				continue
			}
			data := ev.Data.Data32
			switch ev.Type {
			case d.atom["XdndStatus"]:
				if dropped {
					continue // a late status for the position
				}
				if data[1]&1 == 0 {
					_ = d.send("XdndLeave", []uint32{uint32(d.src), 0, 0, 0, 0})
					return fmt.Errorf("%w (XdndStatus accept=0 from window 0x%x): it takes no text/uri-list at the window's centre", ErrRefused, data[0])
				}
				if err := d.send("XdndDrop", []uint32{uint32(d.src), 0, uint32(now), 0, 0}); err != nil {
					return err
				}
				dropped = true
			case d.atom["XdndFinished"]:
				if !dropped {
					return fmt.Errorf("the target sent XdndFinished before the drop (window 0x%x)", data[0])
				}
				// Version 5 puts success in bit 0 of l[1]; GLFW puts the
				// size of the data it read there (0 when it read none),
				// so any bit counts.
				if d.version >= 5 && data[1] == 0 {
					return fmt.Errorf("%w (XdndFinished success=0 from window 0x%x): it could not take the files", ErrRefused, data[0])
				}
				return nil
			}
		}
	}
}

// read passes the connection's events to d.events until the connection
// closes or quit is closed.
func (d *drag) read(quit <-chan struct{}) {
	for {
		ev, err := d.conn.WaitForEvent()
		select {
		case d.events <- event{ev, err}:
		case <-quit:
			return
		}
		if ev == nil && err == nil {
			return
		}
	}
}

// internAtoms fills d.atom.
func (d *drag) internAtoms() error {
	cookies := make([]xproto.InternAtomCookie, len(atomNames))
	for i, name := range atomNames {
		cookies[i] = xproto.InternAtom(d.conn, false, uint16(len(name)), name)
	}
	d.atom = make(map[string]xproto.Atom, len(atomNames))
	for i, c := range cookies {
		r, err := c.Reply()
		if err != nil {
			return fmt.Errorf("intern the X atom %s: %w", atomNames[i], err)
		}
		d.atom[atomNames[i]] = r.Atom
	}
	return nil
}

// findAware sets d.aware, d.dest and d.version: the XdndAware window is
// the target, else its nearest ancestor below the root that is aware,
// else the first viewable descendant that is (breadth first, topmost
// first).
func (d *drag) findAware() error {
	candidates := []xproto.Window{d.target}
	for w := d.target; ; {
		tree, err := xproto.QueryTree(d.conn, w).Reply()
		if err != nil {
			return fmt.Errorf("walk the windows above 0x%x: %w", uint32(w), err)
		}
		if tree.Parent == 0 || tree.Parent == d.root {
			break
		}
		candidates = append(candidates, tree.Parent)
		w = tree.Parent
	}
	for _, w := range candidates {
		if v, ok := d.awareVersion(w); ok {
			return d.useAware(w, v)
		}
	}
	queue := []xproto.Window{d.target}
	for len(queue) > 0 {
		w := queue[0]
		queue = queue[1:]
		tree, err := xproto.QueryTree(d.conn, w).Reply()
		if err != nil {
			continue // gone meanwhile
		}
		kids := slices.Clone(tree.Children)
		slices.Reverse(kids) // QueryTree lists bottom to top
		for _, k := range kids {
			attr, err := xproto.GetWindowAttributes(d.conn, k).Reply()
			if err != nil || attr.MapState != xproto.MapStateViewable {
				continue
			}
			if v, ok := d.awareVersion(k); ok {
				return d.useAware(k, v)
			}
			queue = append(queue, k)
		}
	}
	return fmt.Errorf("drop onto window 0x%x: %w (nor is any window above or inside it): the program takes no drops there, or its window is not ready", uint32(d.target), ErrNotAware)
}

// awareVersion reads w's XdndAware property: the highest XDND version
// the window speaks.
func (d *drag) awareVersion(w xproto.Window) (uint32, bool) {
	r, err := xproto.GetProperty(d.conn, false, w, d.atom["XdndAware"], xproto.AtomAtom, 0, 1).Reply()
	if err != nil || r.Format != 32 || r.ValueLen < 1 || len(r.Value) < 4 {
		return 0, false
	}
	return xgb.Get32(r.Value), true
}

// useAware settles on w, which speaks XDND up to version v.
func (d *drag) useAware(w xproto.Window, v uint32) error {
	if v < 3 {
		return fmt.Errorf("window 0x%x speaks XDND version %d; this drop needs version 3 or later", uint32(w), v)
	}
	d.aware, d.dest, d.version = w, w, min(v, Version)
	// A proxy counts when it names itself as its own proxy.
	r, err := xproto.GetProperty(d.conn, false, w, d.atom["XdndProxy"], xproto.AtomWindow, 0, 1).Reply()
	if err == nil && r.Format == 32 && len(r.Value) >= 4 {
		proxy := xproto.Window(xgb.Get32(r.Value))
		pr, err := xproto.GetProperty(d.conn, false, proxy, d.atom["XdndProxy"], xproto.AtomWindow, 0, 1).Reply()
		if err == nil && pr.Format == 32 && len(pr.Value) >= 4 && xproto.Window(xgb.Get32(pr.Value)) == proxy {
			d.dest = proxy
		}
	}
	return nil
}

// makeSource creates the unmapped source window, with the offered types
// in its XdndTypeList.
func (d *drag) makeSource() error {
	wid, err := xproto.NewWindowId(d.conn)
	if err != nil {
		return fmt.Errorf("make the drag's source window: %w", err)
	}
	if err := xproto.CreateWindowChecked(d.conn, 0, wid, d.root, -10, -10, 1, 1, 0, xproto.WindowClassInputOnly, 0,
		xproto.CwOverrideRedirect|xproto.CwEventMask, []uint32{1, xproto.EventMaskPropertyChange}).Check(); err != nil {
		return fmt.Errorf("make the drag's source window: %w", err)
	}
	d.src = wid
	return nil
}

// serverTime writes the source's XdndTypeList and returns the X server's
// time of that change, the timestamp the drag's messages carry.
func (d *drag) serverTime(ctx context.Context) (xproto.Timestamp, error) {
	types := make([]byte, 4*len(offered))
	for i, name := range offered {
		xgb.Put32(types[4*i:], uint32(d.atom[name]))
	}
	if err := xproto.ChangePropertyChecked(d.conn, xproto.PropModeReplace, d.src, d.atom["XdndTypeList"], xproto.AtomAtom, 32,
		uint32(len(offered)), types).Check(); err != nil {
		return 0, fmt.Errorf("write the drag's XdndTypeList: %w", err)
	}
	for {
		select {
		case e := <-d.events:
			if e.ev == nil && e.err == nil {
				return 0, errors.New("the X connection closed before the drag began")
			}
			if p, ok := e.ev.(xproto.PropertyNotifyEvent); ok && p.Window == d.src && p.Atom == d.atom["XdndTypeList"] {
				return p.Time, nil
			}
		case <-ctx.Done():
			return 0, fmt.Errorf("wait for the X server's time: %w", ctx.Err())
		}
	}
}

// send sends the XDND client message kind to the target, naming the
// XdndAware window.
func (d *drag) send(kind string, data []uint32) error {
	ev := xproto.ClientMessageEvent{Format: 32, Window: d.aware, Type: d.atom[kind], Data: xproto.ClientMessageDataUnionData32New(data)}
	if err := xproto.SendEventChecked(d.conn, false, d.dest, xproto.EventMaskNoEvent, string(ev.Bytes())).Check(); err != nil {
		return fmt.Errorf("send %s to window 0x%x: %w", kind, uint32(d.dest), err)
	}
	return nil
}

// answer serves a request for the XdndSelection: the file list as
// text/uri-list or plain text, or the list of those types (TARGETS).
// Anything else is refused, as ICCCM says, with property None.
func (d *drag) answer(req xproto.SelectionRequestEvent) {
	prop := req.Property
	if prop == xproto.AtomNone {
		prop = req.Target // an obsolete requestor
	}
	var (
		typ    = req.Target
		format = byte(8)
		data   []byte
		n      uint32
	)
	switch {
	case req.Selection != d.atom["XdndSelection"]:
		prop = xproto.AtomNone
	case req.Target == d.atom["text/uri-list"]:
		data = d.uris
	case req.Target == d.atom["text/plain;charset=utf-8"], req.Target == d.atom["UTF8_STRING"], req.Target == d.atom["text/plain"]:
		data = d.text
	case req.Target == d.atom["TARGETS"]:
		names := append([]string{"TARGETS"}, offered...)
		names = append(names, "text/plain")
		data = make([]byte, 4*len(names))
		for i, name := range names {
			xgb.Put32(data[4*i:], uint32(d.atom[name]))
		}
		typ, format, n = xproto.AtomAtom, 32, uint32(len(names))
	default:
		prop = xproto.AtomNone
	}
	if prop != xproto.AtomNone {
		if format == 8 {
			n = uint32(len(data))
		}
		if err := xproto.ChangePropertyChecked(d.conn, xproto.PropModeReplace, req.Requestor, prop, typ, format, n, data).Check(); err != nil {
			prop = xproto.AtomNone
		}
	}
	ev := xproto.SelectionNotifyEvent{Time: req.Time, Requestor: req.Requestor, Selection: req.Selection, Target: req.Target, Property: prop}
	_ = xproto.SendEventChecked(d.conn, false, req.Requestor, xproto.EventMaskNoEvent, string(ev.Bytes())).Check()
}
