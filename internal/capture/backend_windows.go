package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	user32   = windows.NewLazySystemDLL("user32.dll")
	gdi32    = windows.NewLazySystemDLL("gdi32.dll")
	kernel32 = windows.NewLazySystemDLL("kernel32.dll")

	procGetClipboardSequenceNumber   = user32.NewProc("GetClipboardSequenceNumber")
	procOpenClipboard                = user32.NewProc("OpenClipboard")
	procCloseClipboard               = user32.NewProc("CloseClipboard")
	procGetClipboardData             = user32.NewProc("GetClipboardData")
	procIsClipboardFormatAvailable   = user32.NewProc("IsClipboardFormatAvailable")
	procRegisterClipboardFormatW     = user32.NewProc("RegisterClipboardFormatW")
	procGetDC                        = user32.NewProc("GetDC")
	procReleaseDC                    = user32.NewProc("ReleaseDC")
	procGetSystemMetrics             = user32.NewProc("GetSystemMetrics")
	procSetThreadDpiAwarenessContext = user32.NewProc("SetThreadDpiAwarenessContext")

	procCreateCompatibleDC     = gdi32.NewProc("CreateCompatibleDC")
	procCreateCompatibleBitmap = gdi32.NewProc("CreateCompatibleBitmap")
	procSelectObject           = gdi32.NewProc("SelectObject")
	procBitBlt                 = gdi32.NewProc("BitBlt")
	procGetDIBits              = gdi32.NewProc("GetDIBits")
	procDeleteObject           = gdi32.NewProc("DeleteObject")
	procDeleteDC               = gdi32.NewProc("DeleteDC")

	procGlobalLock   = kernel32.NewProc("GlobalLock")
	procGlobalUnlock = kernel32.NewProc("GlobalUnlock")
	procGlobalSize   = kernel32.NewProc("GlobalSize")
)

const (
	cfDIB   = 8
	cfDIBV5 = 17

	smXVirtualScreen  = 76
	smYVirtualScreen  = 77
	smCXVirtualScreen = 78
	smCYVirtualScreen = 79

	srcCopy    = 0x00CC0020
	captureBlt = 0x40000000

	dibRGBColors = 0

	// DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2, ((DPI_AWARENESS_CONTEXT)-4):
	// real pixels, not the scaled ones an unaware thread sees.
	dpiPerMonitorAwareV2 = ^uintptr(3)

	// pollEvery is how often the clipboard is checked for the snip.
	pollEvery = 100 * time.Millisecond
)

func pick(_ context.Context, mode Mode) (backend, error) {
	if mode == Screen {
		return gdiScreen{}, nil
	}
	return snippingTool{}, nil
}

// snippingTool asks the Snipping Tool for a snip and reads it from the
// clipboard, where the tool puts it.
type snippingTool struct{}

func (snippingTool) describe(Mode) string { return "the Snipping Tool (ms-screenclip:)" }

func (snippingTool) capture(ctx context.Context, _ Mode, scratch string, timeout time.Duration) (string, string, error) {
	const name = "Snipping Tool"
	seq := clipboardSequence()
	verb, _ := windows.UTF16PtrFromString("open")
	uri, _ := windows.UTF16PtrFromString("ms-screenclip:")
	if err := windows.ShellExecute(0, verb, uri, nil, nil, windows.SW_SHOWNORMAL); err != nil {
		return "", name, fmt.Errorf("start the Snipping Tool (ms-screenclip:): %w; install it from the Microsoft Store", err)
	}
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case <-ctx.Done():
			return "", name, ctx.Err()
		case <-deadline.C:
			return "", name, fmt.Errorf("%w: no snip reached the clipboard within %s (the Snipping Tool does not report a cancel)", ErrCancelled, timeout)
		case <-tick.C:
		}
		now := clipboardSequence()
		if now == seq {
			continue
		}
		seq = now
		data, err := clipboardPNG()
		if errors.Is(err, errNoImage) {
			// Something else was copied meanwhile: keep waiting.
			continue
		}
		if err != nil {
			return "", name, err
		}
		file := filepath.Join(scratch, "capture.png")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			return "", name, fmt.Errorf("save the snip: %w", err)
		}
		return file, name, nil
	}
}

func clipboardSequence() uint32 {
	n, _, _ := procGetClipboardSequenceNumber.Call()
	return uint32(n)
}

// errNoImage means the clipboard holds no picture.
var errNoImage = errors.New("no picture on the clipboard")

// pngSignature starts every PNG file.
var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// clipboardPNG reads the clipboard's picture as PNG: the registered "PNG"
// format as is, else CF_DIBV5 or CF_DIB converted.
func clipboardPNG() ([]byte, error) {
	if err := openClipboard(); err != nil {
		return nil, err
	}
	defer procCloseClipboard.Call()
	name, _ := windows.UTF16PtrFromString("PNG")
	if f, _, _ := procRegisterClipboardFormatW.Call(uintptr(unsafe.Pointer(name))); f != 0 {
		if b, ok := clipboardBytes(f); ok && bytes.HasPrefix(b, pngSignature) {
			return b, nil
		}
	}
	for _, f := range []uintptr{cfDIBV5, cfDIB} {
		b, ok := clipboardBytes(f)
		if !ok {
			continue
		}
		img, err := decodeDIB(b)
		if err != nil {
			return nil, fmt.Errorf("read the snip from the clipboard: %w", err)
		}
		var out bytes.Buffer
		if err := png.Encode(&out, img); err != nil {
			return nil, err
		}
		return out.Bytes(), nil
	}
	return nil, errNoImage
}

// openClipboard opens the clipboard, waiting a little while another program
// has it open.
func openClipboard() error {
	var err error
	for range 20 {
		var r uintptr
		r, _, err = procOpenClipboard.Call(0)
		if r != 0 {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("open the clipboard (another program keeps it open): %w", err)
}

// clipboardBytes copies the clipboard's data in format f; the clipboard
// must be open.
func clipboardBytes(f uintptr) ([]byte, bool) {
	if ok, _, _ := procIsClipboardFormatAvailable.Call(f); ok == 0 {
		return nil, false
	}
	h, _, _ := procGetClipboardData.Call(f)
	if h == 0 {
		return nil, false
	}
	p, _, _ := procGlobalLock.Call(h)
	if p == 0 {
		return nil, false
	}
	defer procGlobalUnlock.Call(h)
	n, _, _ := procGlobalSize.Call(h)
	if n == 0 {
		return nil, false
	}
	// p is memory owned by the clipboard, not by Go.
	src := unsafe.Slice(*(**byte)(unsafe.Pointer(&p)), n)
	return bytes.Clone(src), true
}

// gdiScreen copies the whole virtual screen (every monitor) through GDI.
type gdiScreen struct{}

func (gdiScreen) describe(Mode) string { return "a GDI copy of the screen" }

func (gdiScreen) capture(ctx context.Context, _ Mode, scratch string, _ time.Duration) (string, string, error) {
	const name = "GDI"
	dib, err := grabScreen()
	if err != nil {
		return "", name, err
	}
	img, err := decodeDIB(dib)
	if err != nil {
		return "", name, fmt.Errorf("read the screen copy: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return "", name, err
	}
	file := filepath.Join(scratch, "capture.png")
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", name, err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return "", name, fmt.Errorf("save the screen copy: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", name, fmt.Errorf("save the screen copy: %w", err)
	}
	return file, name, nil
}

// bitmapInfo is a BITMAPINFOHEADER with room for three masks after it.
type bitmapInfo struct {
	Size          uint32
	Width         int32
	Height        int32
	Planes        uint16
	BitCount      uint16
	Compression   uint32
	SizeImage     uint32
	XPelsPerMeter int32
	YPelsPerMeter int32
	ClrUsed       uint32
	ClrImportant  uint32
	Masks         [3]uint32
}

// grabScreen copies the virtual screen into a packed 32-bit top-down DIB.
func grabScreen() ([]byte, error) {
	// DPI awareness is per thread here, so the process's stays as it is.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if procSetThreadDpiAwarenessContext.Find() == nil {
		if old, _, _ := procSetThreadDpiAwarenessContext.Call(dpiPerMonitorAwareV2); old != 0 {
			defer procSetThreadDpiAwarenessContext.Call(old)
		}
	}
	metric := func(i uintptr) int32 {
		r, _, _ := procGetSystemMetrics.Call(i)
		return int32(r)
	}
	x, y := metric(smXVirtualScreen), metric(smYVirtualScreen)
	w, h := metric(smCXVirtualScreen), metric(smCYVirtualScreen)
	if w <= 0 || h <= 0 {
		return nil, errors.New("the screen has no size (no desktop in this session?)")
	}
	screen, _, _ := procGetDC.Call(0)
	if screen == 0 {
		return nil, errors.New("no access to the screen (GetDC failed); capture needs an interactive desktop session")
	}
	defer procReleaseDC.Call(0, screen)
	mem, _, _ := procCreateCompatibleDC.Call(screen)
	if mem == 0 {
		return nil, errors.New("copy the screen: CreateCompatibleDC failed")
	}
	defer procDeleteDC.Call(mem)
	bmp, _, _ := procCreateCompatibleBitmap.Call(screen, uintptr(w), uintptr(h))
	if bmp == 0 {
		return nil, fmt.Errorf("copy the screen: no memory for a %d×%d bitmap", w, h)
	}
	defer procDeleteObject.Call(bmp)
	old, _, _ := procSelectObject.Call(mem, bmp)
	ok, _, err := procBitBlt.Call(mem, 0, 0, uintptr(w), uintptr(h), screen, uintptr(x), uintptr(y), srcCopy|captureBlt)
	procSelectObject.Call(mem, old)
	if ok == 0 {
		return nil, fmt.Errorf("copy the screen (BitBlt): %w", err)
	}
	bi := bitmapInfo{Size: dibInfoHeader, Width: w, Height: -h, Planes: 1, BitCount: 32, Compression: biRGB}
	dib := make([]byte, dibInfoHeader+int(w)*int(h)*4)
	lines, _, err := procGetDIBits.Call(mem, bmp, 0, uintptr(h), uintptr(unsafe.Pointer(&dib[dibInfoHeader])), uintptr(unsafe.Pointer(&bi)), dibRGBColors)
	if lines == 0 {
		return nil, fmt.Errorf("copy the screen (GetDIBits): %w", err)
	}
	le := binary.LittleEndian
	le.PutUint32(dib[0:], dibInfoHeader)
	le.PutUint32(dib[4:], uint32(w))
	le.PutUint32(dib[8:], uint32(-h))
	le.PutUint16(dib[12:], 1)
	le.PutUint16(dib[14:], 32)
	le.PutUint32(dib[16:], biRGB)
	return dib, nil
}
