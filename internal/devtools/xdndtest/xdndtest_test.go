//go:build linux

package xdndtest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"upshot/internal/devtools/xvfbtest"
)

// hangGuard bounds each wait; it is no performance limit.
const hangGuard = 2 * time.Minute

// TestDropNotAware drops onto a plain window, which takes no drops: Drop
// says so. The drop onto Upshot's own window, the real program, is tested
// in package app (TestDropOntoWindow), beside the helpers that run it.
func TestDropNotAware(t *testing.T) {
	display := xvfbtest.Start(t, 320, 240)
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	screen := xproto.Setup(conn).DefaultScreen(conn)
	wid, err := xproto.NewWindowId(conn)
	if err != nil {
		t.Fatal(err)
	}
	if err := xproto.CreateWindowChecked(conn, screen.RootDepth, wid, screen.Root, 10, 10, 100, 80, 0,
		xproto.WindowClassInputOutput, screen.RootVisual, 0, nil).Check(); err != nil {
		t.Fatal(err)
	}
	if err := xproto.MapWindowChecked(conn, wid).Check(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
	defer cancel()
	err = Drop(ctx, display, uint32(wid), []string{"/tmp/x.png"})
	if !errors.Is(err, ErrNotAware) {
		t.Fatalf("drop onto a window that takes no drops: %v, want %v", err, ErrNotAware)
	}
	if err := Drop(ctx, display, uint32(wid)+1000, []string{"/tmp/x.png"}); err == nil || !strings.Contains(err.Error(), "no window") {
		t.Fatalf("drop onto no window: %v", err)
	}
}
