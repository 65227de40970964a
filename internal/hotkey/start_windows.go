package hotkey

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	user32                 = windows.NewLazySystemDLL("user32.dll")
	procRegisterHotKey     = user32.NewProc("RegisterHotKey")
	procUnregisterHotKey   = user32.NewProc("UnregisterHotKey")
	procGetMessageW        = user32.NewProc("GetMessageW")
	procPeekMessageW       = user32.NewProc("PeekMessageW")
	procPostThreadMessageW = user32.NewProc("PostThreadMessageW")
)

const (
	modAlt      = 0x0001
	modControl  = 0x0002
	modShift    = 0x0004
	modWin      = 0x0008
	modNoRepeat = 0x4000

	wmQuit     = 0x0012
	wmHotkey   = 0x0312
	wmUser     = 0x0400
	pmNoRemove = 0x0000
)

// winMsg is the Win32 MSG structure.
type winMsg struct {
	hwnd     uintptr
	message  uint32
	wParam   uintptr
	lParam   uintptr
	time     uint32
	pt       struct{ x, y int32 }
	lPrivate uint32
}

// start registers the hot keys on a thread of their own: RegisterHotKey
// posts WM_HOTKEY to the thread that registered, and only that thread may
// unregister them, so one locked goroutine registers, runs the message
// loop until WM_QUIT, and unregisters.
func start(ctx context.Context, keys []planned, pressed func(string)) (*Set, error) {
	if err := user32.Load(); err != nil {
		return nil, unsupported("Windows without user32.dll", err)
	}
	type ready struct {
		thread uint32
		errs   map[string]error
	}
	readyc := make(chan ready, 1)
	done := make(chan struct{})
	var closing atomic.Bool
	go func() {
		// The goroutine ends locked, so its thread ends with it.
		runtime.LockOSThread()
		defer close(done)
		var m winMsg
		// Create the thread's message queue before its ID is handed out,
		// so that PostThreadMessageW cannot fail for want of one.
		procPeekMessageW.Call(uintptr(unsafe.Pointer(&m)), 0, wmUser, wmUser, pmNoRemove)
		errs := map[string]error{}
		ids := map[uintptr]string{}
		for i, k := range keys {
			id := uintptr(i + 1)
			r, _, err := procRegisterHotKey.Call(0, id, uintptr(winMods(k.key.Mods)|modNoRepeat), uintptr(k.info.vk))
			if r == 0 {
				if errors.Is(err, windows.ERROR_HOTKEY_ALREADY_REGISTERED) {
					errs[k.id] = &TakenError{Key: k.key}
				} else {
					errs[k.id] = fmt.Errorf("windows refused the shortcut %s: %w", k.key, err)
				}
				continue
			}
			ids[id] = k.id
		}
		readyc <- ready{thread: windows.GetCurrentThreadId(), errs: errs}
		for {
			r, _, _ := procGetMessageW.Call(uintptr(unsafe.Pointer(&m)), 0, 0, 0)
			if int32(r) <= 0 { // 0: WM_QUIT; -1: an error
				break
			}
			if m.message == wmHotkey && m.hwnd == 0 && !closing.Load() {
				if id, ok := ids[m.wParam]; ok {
					pressed(id)
				}
			}
		}
		for id := range ids {
			procUnregisterHotKey.Call(0, id)
		}
	}()
	r := <-readyc
	stop := func() error {
		closing.Store(true)
		if ok, _, err := procPostThreadMessageW.Call(uintptr(r.thread), wmQuit, 0, 0); ok == 0 {
			select {
			case <-done:
				return nil
			default:
				return fmt.Errorf("stop the global shortcuts' thread: %w", err)
			}
		}
		<-done
		return nil
	}
	return &Set{backend: "Windows", errs: r.errs, stop: stop}, nil
}

// winMods converts modifiers to RegisterHotKey's MOD_ flags.
func winMods(mods Modifier) uint32 {
	var m uint32
	if mods&Ctrl != 0 {
		m |= modControl
	}
	if mods&Shift != 0 {
		m |= modShift
	}
	if mods&Alt != 0 {
		m |= modAlt
	}
	if mods&Super != 0 {
		m |= modWin
	}
	return m
}
