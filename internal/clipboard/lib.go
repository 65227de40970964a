package clipboard

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// format is a clipboard data format of golang.design/x/clipboard.
type format int

const (
	fmtText  format = iota // UTF-8 text
	fmtImage               // PNG image
)

func (f format) String() string {
	if f == fmtImage {
		return "image"
	}
	return "text"
}

// libBackend uses golang.design/x/clipboard, whose Init has succeeded.
type libBackend struct {
	label string

	// x11 says the selection dies with its owner, so Persist writes hand it
	// to a process that outlives this one.
	x11 bool
	// persistTool (xclip or xsel) takes Persist writes on X11; when nil,
	// they go to a re-executed holder (see Hold).
	persistTool *toolBackend
	// images, when set, reads images instead of golang.design, which cannot
	// take the incremental (INCR) transfers that large images come in.
	images *toolBackend
}

func (b *libBackend) name() string { return b.label }

func (b *libBackend) writeText(ctx context.Context, text string, persist bool) error {
	switch {
	case !b.x11 || !persist:
		_, err := libWrite(ctx, fmtText, []byte(text))
		return err
	case b.persistTool != nil:
		return b.handOver(ctx, text)
	default:
		return spawnHolder(ctx, text)
	}
}

// handOver puts text on the clipboard through persistTool. This process
// takes the selection first, with the same text, so that the moment the
// tool owns it is an event (the X server's SelectionClear closes changed)
// rather than something to poll for: xclip's foreground process exits
// before its forked server has claimed the selection.
func (b *libBackend) handOver(ctx context.Context, text string) error {
	changed, err := libWrite(ctx, fmtText, []byte(text))
	if err != nil {
		return err
	}
	if err := b.persistTool.spawnWrite(ctx, text); err != nil {
		return err
	}
	t := time.NewTimer(takeoverTimeout)
	defer t.Stop()
	select {
	case <-changed:
		return nil
	case <-t.C:
		return fmt.Errorf("%s did not take over the clipboard within %v (the text stays only while this process runs)", b.persistTool.label, takeoverTimeout)
	case <-ctx.Done():
		return fmt.Errorf("waiting for %s to take over the clipboard: %w", b.persistTool.label, ctx.Err())
	}
}

func (b *libBackend) readText(ctx context.Context) (string, error) {
	data, err := libRead(ctx, fmtText)
	return string(data), err
}

func (b *libBackend) readImage(ctx context.Context) ([]byte, error) {
	if b.images != nil {
		return b.images.readImage(ctx)
	}
	data, err := libRead(ctx, fmtImage)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, ErrNoImage
	}
	return data, nil
}

func (b *libBackend) writeImage(ctx context.Context, png []byte, persist bool) error {
	switch {
	case !b.x11 || !persist:
		_, err := libWrite(ctx, fmtImage, png)
		return err
	case b.images != nil:
		// xclip keeps the image after this process exits.
		return b.images.writeImage(ctx, png, persist)
	default:
		return fmt.Errorf("an image on the clipboard after Upshot exits needs xclip: install it: %w", errors.ErrUnsupported)
	}
}
