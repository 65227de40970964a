package app

import (
	"fmt"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"upshot/internal/store"
	"upshot/uploader"
)

// thumbPoints is the size of a row's thumbnail on screen.
const thumbPoints = 44

// row shows one item of the list: thumbnail, name, details or a progress
// bar, and the item's actions. Rows are recycled by the list: bind points
// a row at another item.
type row struct {
	widget.BaseWidget
	u  *ui
	it item

	thumb *canvas.Image
	name  *widget.Label
	meta  *widget.Label
	bar   *thinBar
	copy  *widget.Button
	retry *widget.Button
	more  *widget.Button
}

func newRow(u *ui) *row {
	r := &row{u: u}
	r.thumb = canvas.NewImageFromResource(theme.FileImageIcon())
	r.thumb.FillMode = canvas.ImageFillContain
	r.thumb.ScaleMode = canvas.ImageScaleFastest
	r.thumb.SetMinSize(fyne.NewSquareSize(thumbPoints))
	r.name = widget.NewLabel("")
	r.name.TextStyle.Bold = true
	r.name.Truncation = fyne.TextTruncateEllipsis
	r.meta = widget.NewLabel("")
	r.meta.Truncation = fyne.TextTruncateEllipsis
	r.meta.SizeName = theme.SizeNameCaptionText
	r.bar = newThinBar()
	r.bar.Hide()
	r.copy = widget.NewButtonWithIcon("Copy link", theme.ContentCopyIcon(), func() {
		r.u.copyLink(r.it.entry, r.u.core.Format())
	})
	r.retry = widget.NewButtonWithIcon("Retry", theme.ViewRefreshIcon(), func() {
		if r.it.job != nil {
			r.u.retry(r.it.job)
		}
	})
	r.retry.Importance = widget.HighImportance
	r.more = widget.NewButtonWithIcon("", theme.MoreVerticalIcon(), func() {
		widget.ShowPopUpMenuAtRelativePosition(r.menu(), r.u.win.Canvas(), fyne.NewPos(0, r.more.Size().Height), r.more)
	})
	r.more.Importance = widget.LowImportance
	r.ExtendBaseWidget(r)
	return r
}

// CreateRenderer implements fyne.Widget.
func (r *row) CreateRenderer() fyne.WidgetRenderer {
	// The bar sits in the details' bottom padding: rows keep their height.
	bar := container.New(layout.NewCustomPaddedLayout(0, 2, theme.InnerPadding(), theme.InnerPadding()),
		container.NewBorder(nil, r.bar, nil, nil))
	text := container.New(&tightVBox{}, r.name, container.NewStack(r.meta, bar))
	buttons := container.NewHBox(r.retry, r.copy, r.more)
	thumb := container.New(layout.NewCustomPaddedLayout(0, 0, theme.Padding(), theme.Padding()), container.NewCenter(r.thumb))
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, thumb, container.NewCenter(buttons), text))
}

// bind shows it in the row.
func (r *row) bind(it item) {
	r.it = it
	if it.job != nil {
		r.bindJob(it.job)
		return
	}
	e := it.entry
	r.setName(filepath.Base(e.File))
	r.setThumb(r.u.thumbs.get(e), e.ContentType)
	parts := []string{uploader.Size(e.Size).String(), humanTime(e.Time, r.u.core.now())}
	imp := widget.MediumImportance
	switch {
	case strings.HasPrefix(e.LinkStatus, "link broken"):
		parts = append(parts, e.LinkStatus)
		imp = widget.WarningImportance
	case e.LinkStatus != "":
		parts = append(parts, e.LinkStatus)
	}
	if e.Deduplicated {
		parts = append(parts, "already in the bucket")
	}
	r.setMeta(strings.Join(parts, " · "), imp)
	r.bar.Hide()
	r.retry.Hide()
	r.copy.Show()
	r.more.Show()
}

func (r *row) bindJob(j *pendingJob) {
	r.setName(filepath.Base(j.job.Path))
	r.setThumb(theme.UploadIcon(), "")
	r.copy.Hide()
	r.more.Hide()
	r.retry.Hide()
	switch j.state {
	case store.StateUploading:
		v := 0.0
		if j.total > 0 {
			v = float64(j.sent) / float64(j.total)
		}
		r.setMeta(fmt.Sprintf("Uploading · %d%% of %s", int(v*100), uploader.Size(j.total)), widget.MediumImportance)
		r.bar.set(v)
		r.bar.Show()
		return
	case store.StateFailed:
		msg := "Failed: " + j.err
		if !j.retryAt.IsZero() {
			msg += " · retrying " + humanTime(j.retryAt, r.u.core.now())
		}
		r.setMeta(msg, widget.DangerImportance)
		r.retry.Show()
	case store.StateRejected:
		r.setMeta("Not uploaded: "+j.err, widget.DangerImportance)
		r.retry.Show()
	default:
		r.setMeta(fmt.Sprintf("Waiting · %s", uploader.Size(j.job.Size)), widget.LowImportance)
	}
	r.bar.Hide()
}

func (r *row) setName(s string) {
	if r.name.Text != s {
		r.name.SetText(s)
	}
}

func (r *row) setMeta(s string, imp widget.Importance) {
	if r.meta.Text != s || r.meta.Importance != imp {
		r.meta.Importance = imp
		r.meta.Text = s
		r.meta.Refresh()
	}
}

// setThumb shows res, or an icon for the content type when res is nil.
func (r *row) setThumb(res fyne.Resource, contentType string) {
	if res == nil {
		switch {
		case strings.HasPrefix(contentType, "image/"):
			res = theme.FileImageIcon()
		case strings.HasPrefix(contentType, "video/"):
			res = theme.FileVideoIcon()
		default:
			res = theme.FileIcon()
		}
	}
	if r.thumb.Resource != res {
		r.thumb.Resource = res
		r.thumb.Refresh()
	}
}

// formatNames labels the link formats in menus.
var formatNames = map[uploader.Format]string{
	uploader.FormatURL:      "URL",
	uploader.FormatMarkdown: "Markdown",
	uploader.FormatHTML:     "HTML",
	uploader.FormatBBCode:   "BBCode",
}

// menu is the row's "more" menu.
func (r *row) menu() *fyne.Menu {
	e := r.it.entry
	var formats []*fyne.MenuItem
	for _, f := range uploader.Formats {
		formats = append(formats, fyne.NewMenuItem(formatNames[f], func() { r.u.copyLink(e, f) }))
	}
	copyAs := fyne.NewMenuItem("Copy as", nil)
	copyAs.ChildMenu = fyne.NewMenu("", formats...)
	return fyne.NewMenu("",
		copyAs,
		fyne.NewMenuItem("Copy expiring link…", func() { r.u.askShare(e) }),
		fyne.NewMenuItem("Open in browser", func() { r.u.openLink(e) }),
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Delete from bucket…", func() { r.u.askDelete(e) }),
	)
}

// tightVBox stacks the visible objects vertically without padding
// between them, centred vertically.
type tightVBox struct{}

func (*tightVBox) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		m := o.MinSize()
		s.Width = max(s.Width, m.Width)
		s.Height += m.Height
	}
	return s
}

func (*tightVBox) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	total := float32(0)
	for _, o := range objs {
		if o.Visible() {
			total += o.MinSize().Height
		}
	}
	y := max(0, (size.Height-total)/2)
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		h := o.MinSize().Height
		o.Move(fyne.NewPos(0, y))
		o.Resize(fyne.NewSize(size.Width, h))
		y += h
	}
}

// thinBar is a slim progress bar, 4 points high, that fits under a row's
// details without changing the row's height.
type thinBar struct {
	widget.BaseWidget
	value float64
	bg    *canvas.Rectangle
	fill  *canvas.Rectangle
}

func newThinBar() *thinBar {
	b := &thinBar{bg: canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground)), fill: canvas.NewRectangle(theme.Color(theme.ColorNamePrimary))}
	b.bg.CornerRadius, b.fill.CornerRadius = 2, 2
	b.ExtendBaseWidget(b)
	return b
}

// set shows v, from 0 to 1.
func (b *thinBar) set(v float64) {
	v = min(max(v, 0), 1)
	if v != b.value {
		b.value = v
		b.Refresh()
	}
}

// CreateRenderer implements fyne.Widget.
func (b *thinBar) CreateRenderer() fyne.WidgetRenderer { return &thinBarRenderer{b: b} }

type thinBarRenderer struct{ b *thinBar }

func (r *thinBarRenderer) Layout(size fyne.Size) {
	r.b.bg.Resize(size)
	r.b.fill.Resize(fyne.NewSize(size.Width*float32(r.b.value), size.Height))
}

func (r *thinBarRenderer) MinSize() fyne.Size { return fyne.NewSize(20, 4) }

func (r *thinBarRenderer) Refresh() {
	r.b.bg.FillColor = theme.Color(theme.ColorNameInputBackground)
	r.b.fill.FillColor = theme.Color(theme.ColorNamePrimary)
	r.Layout(r.b.Size())
	canvas.Refresh(r.b)
}

func (r *thinBarRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.b.bg, r.b.fill} }

func (r *thinBarRenderer) Destroy() {}
