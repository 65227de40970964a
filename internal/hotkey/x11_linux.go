package hotkey

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"sync"
	"sync/atomic"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// x11 holds passive key grabs on the root window of an X display, through
// its own connection. The grabs are set up before its event loop starts
// and not changed afterwards.
type x11 struct {
	conn    *xgb.Conn
	root    xproto.Window
	mask    uint16 // the state bits of Ctrl, Shift, Alt and Super
	grabs   []x11Grab
	closing atomic.Bool
	done    chan struct{} // closed when the event loop has returned
}

// x11Grab is one binding's key: its keycode, its modifiers as X state bits,
// and every modifier set grabbed for it (with and without Lock and NumLock).
type x11Grab struct {
	id     string
	code   xproto.Keycode
	mods   uint16
	combos []uint16
}

// quietXGB stops xgb's own logger, which prints to stderr (for example
// "Could not get authority info" without ~/.Xauthority): every failure
// comes back as an error that the settings show.
var quietXGB sync.Once

// startX11 connects to display and grabs keys.
func startX11(ctx context.Context, display string, keys []planned, pressed func(string)) (*Set, error) {
	quietXGB.Do(func() { xgb.Logger = log.New(io.Discard, "", 0) })
	conn, err := dial(ctx, func() (*xgb.Conn, error) { return xgb.NewConnDisplay(display) }, (*xgb.Conn).Close)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, unsupported(fmt.Sprintf("cannot reach the X display %q", display), err)
	}
	km, err := readKeymap(conn)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("read the keyboard map of the X display %q: %w", display, err)
	}
	detectableAutoRepeat(conn)
	x := &x11{
		conn: conn,
		root: xproto.Setup(conn).DefaultScreen(conn).Root,
		mask: xproto.ModMaskShift | xproto.ModMaskControl | km.alt | km.super,
		done: make(chan struct{}),
	}
	errs := map[string]error{}
	for _, k := range keys {
		g, err := x.grab(km, k)
		if err != nil {
			errs[k.id] = err
			continue
		}
		x.grabs = append(x.grabs, g)
	}
	go x.loop(pressed)
	return &Set{backend: "X11", errs: errs, stop: x.close}, nil
}

// grab grabs k's key with its modifiers, alone and with CapsLock and
// NumLock on. When any of these fails it releases the others.
func (x *x11) grab(km *keymap, k planned) (x11Grab, error) {
	code, ok := km.keycode(k.info.keysym)
	if !ok {
		return x11Grab{}, fmt.Errorf("this keyboard has no %s key: choose another shortcut in Settings → Capture", k.key.Name)
	}
	mods := km.xmods(k.key.Mods)
	locks := []uint16{0, xproto.ModMaskLock}
	if km.numLock != 0 {
		locks = append(locks, km.numLock, km.numLock|xproto.ModMaskLock)
	}
	cookies := make([]xproto.GrabKeyCookie, len(locks))
	for i, l := range locks {
		cookies[i] = xproto.GrabKeyChecked(x.conn, false, x.root, mods|l, code, xproto.GrabModeAsync, xproto.GrabModeAsync)
	}
	var (
		held     []uint16
		firstErr error
	)
	for i, c := range cookies {
		if err := c.Check(); err != nil {
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		held = append(held, mods|locks[i])
	}
	if firstErr != nil {
		for _, m := range held {
			xproto.UngrabKey(x.conn, code, x.root, m)
		}
		var access xproto.AccessError
		if errors.As(firstErr, &access) {
			return x11Grab{}, &TakenError{Key: k.key}
		}
		return x11Grab{}, fmt.Errorf("the X server refused %s: %w", k.key, firstErr)
	}
	return x11Grab{id: k.id, code: code, mods: mods, combos: held}, nil
}

// loop reads events until the connection closes and calls pressed for
// each new press of a grabbed key.
func (x *x11) loop(pressed func(string)) {
	defer close(x.done)
	var repeats repeatFilter
	for {
		ev, xerr := x.conn.WaitForEvent()
		if ev == nil && xerr == nil {
			return // the connection is closed
		}
		switch e := ev.(type) {
		case xproto.KeyPressEvent:
			if !repeats.press(uint32(e.Detail), uint32(e.Time)) || x.closing.Load() {
				continue
			}
			for _, g := range x.grabs {
				if g.code == e.Detail && g.mods == e.State&x.mask {
					pressed(g.id)
					break
				}
			}
		case xproto.KeyReleaseEvent:
			repeats.release(uint32(e.Detail), uint32(e.Time))
		}
	}
}

// close releases the grabs and the connection and waits for the event loop.
func (x *x11) close() error {
	x.closing.Store(true)
	for _, g := range x.grabs {
		for _, m := range g.combos {
			xproto.UngrabKey(x.conn, g.code, x.root, m)
		}
	}
	// Close sends what is queued, waits for the server to answer, then
	// closes the socket, which ends the event loop.
	x.conn.Close()
	<-x.done
	return nil
}

// detectableAutoRepeat asks the X server (through XKB) not to send a
// KeyRelease before each auto-repeated KeyPress. Servers without XKB keep
// sending the pairs, which repeatFilter also recognises.
func detectableAutoRepeat(c *xgb.Conn) {
	const name = "XKEYBOARD"
	ext, err := xproto.QueryExtension(c, uint16(len(name)), name).Reply()
	if err != nil || !ext.Present {
		return
	}
	// XkbUseExtension 1.0 must come before any other XKB request.
	use := make([]byte, 8)
	use[0], use[1] = ext.MajorOpcode, 0
	xgb.Put16(use[2:], uint16(len(use)/4))
	xgb.Put16(use[4:], 1)
	xgb.Put16(use[6:], 0)
	cookie := c.NewCookie(true, true)
	c.NewRequest(use, cookie)
	if reply, err := cookie.Reply(); err != nil || len(reply) < 2 || reply[1] == 0 {
		return
	}
	const (
		perClientFlags       = 21
		useCoreKbd           = 0x100
		detectableAutoRepeat = 1
	)
	req := make([]byte, 28)
	req[0], req[1] = ext.MajorOpcode, perClientFlags
	xgb.Put16(req[2:], uint16(len(req)/4))
	xgb.Put16(req[4:], useCoreKbd)
	xgb.Put32(req[8:], detectableAutoRepeat)  // change
	xgb.Put32(req[12:], detectableAutoRepeat) // value
	cookie = c.NewCookie(true, true)
	c.NewRequest(req, cookie)
	_, _ = cookie.Reply()
}

// keymap is the X server's keycode-to-keysym table and the modifier bits
// of Alt, Super and NumLock.
type keymap struct {
	min                 xproto.Keycode
	perCode             int
	syms                []xproto.Keysym
	alt, super, numLock uint16
}

// X keysyms of modifier keys.
const (
	xkNumLock = 0xff7f
	xkMetaL   = 0xffe7
	xkMetaR   = 0xffe8
	xkAltL    = 0xffe9
	xkAltR    = 0xffea
	xkSuperL  = 0xffeb
	xkSuperR  = 0xffec
)

func readKeymap(c *xgb.Conn) (*keymap, error) {
	setup := xproto.Setup(c)
	count := int(setup.MaxKeycode) - int(setup.MinKeycode) + 1
	kr, err := xproto.GetKeyboardMapping(c, setup.MinKeycode, byte(count)).Reply()
	if err != nil {
		return nil, err
	}
	mr, err := xproto.GetModifierMapping(c).Reply()
	if err != nil {
		return nil, err
	}
	km := &keymap{min: setup.MinKeycode, perCode: int(kr.KeysymsPerKeycode), syms: kr.Keysyms}
	var meta uint16
	per := int(mr.KeycodesPerModifier)
	// Modifiers 3 to 7 are Mod1 to Mod5; 0 to 2 are Shift, Lock, Control.
	for mod := 3; mod < 8 && (mod+1)*per <= len(mr.Keycodes); mod++ {
		bit := uint16(1) << mod
		for _, code := range mr.Keycodes[mod*per : (mod+1)*per] {
			for _, sym := range km.symsOf(code) {
				switch sym {
				case xkNumLock:
					km.numLock = cmp.Or(km.numLock, bit)
				case xkAltL, xkAltR:
					km.alt = cmp.Or(km.alt, bit)
				case xkMetaL, xkMetaR:
					meta = cmp.Or(meta, bit)
				case xkSuperL, xkSuperR:
					km.super = cmp.Or(km.super, bit)
				}
			}
		}
	}
	// The usual layout (Mod1 Alt, Mod4 Super) when the map does not say.
	km.alt = cmp.Or(km.alt, meta, xproto.ModMask1)
	km.super = cmp.Or(km.super, xproto.ModMask4)
	return km, nil
}

// symsOf returns the keysyms of one keycode.
func (m *keymap) symsOf(code xproto.Keycode) []xproto.Keysym {
	i := int(code) - int(m.min)
	if code == 0 || i < 0 || (i+1)*m.perCode > len(m.syms) {
		return nil
	}
	return m.syms[i*m.perCode : (i+1)*m.perCode]
}

// keycode finds the key that types sym, preferring one where sym needs no
// Shift. Letters match in either case.
func (m *keymap) keycode(sym uint32) (xproto.Keycode, bool) {
	want := []uint32{sym}
	if sym >= 'a' && sym <= 'z' {
		want = append(want, sym-'a'+'A')
	}
	for _, w := range want {
		for col := 0; col < m.perCode; col++ {
			for i := 0; (i+1)*m.perCode <= len(m.syms); i++ {
				if uint32(m.syms[i*m.perCode+col]) == w {
					return m.min + xproto.Keycode(i), true
				}
			}
		}
	}
	return 0, false
}

// xmods converts modifiers to X state bits.
func (m *keymap) xmods(mods Modifier) uint16 {
	var s uint16
	if mods&Ctrl != 0 {
		s |= xproto.ModMaskControl
	}
	if mods&Shift != 0 {
		s |= xproto.ModMaskShift
	}
	if mods&Alt != 0 {
		s |= m.alt
	}
	if mods&Super != 0 {
		s |= m.super
	}
	return s
}
