package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"upshot/internal/core"
	"upshot/internal/store"
	"upshot/uploader"
)

func TestDropUploadsAndCopies(t *testing.T) {
	h := newHarness(t, harnessOptions{brokenClip: true})
	dir := t.TempDir()
	a := writePNG(t, dir, "alpha.png", 320, 200)
	b := writeFile(t, dir, "beta.mp4", 3000)
	h.drop(a, b)

	// The drop queues both files as drop jobs, and they show in the list.
	h.until("the dropped files in the list", func() bool {
		return (h.pending("alpha.png") != nil || h.done("alpha.png")) && (h.pending("beta.mp4") != nil || h.done("beta.mp4"))
	})
	for _, p := range []string{a, b} {
		seen, err := h.st.SeenFile(t.Context(), p, fileSize(t, p), modTime(t, p))
		if err != nil || !seen {
			t.Fatalf("%s: no job in the store (%v)", p, err)
		}
	}
	h.until("both uploads done", func() bool { return h.done("alpha.png") && h.done("beta.mp4") })

	// The newest upload is on top, with its link.
	hist, err := h.st.History(t.Context(), store.Query{})
	if err != nil || len(hist) != 2 {
		t.Fatalf("history: %v, %v", hist, err)
	}
	for _, e := range hist {
		if e.Source != store.SourceDrop {
			t.Fatalf("%s has source %s, want drop", e.File, e.Source)
		}
	}
	top := h.top()
	if top == nil || top.it.entry.ID != hist[0].ID || top.name.Text != filepath.Base(hist[0].File) || !top.copy.Visible() {
		t.Fatalf("top row %+v, want %s", top, hist[0].File)
	}
	// Without a system clipboard the last link went to Fyne's: one of the
	// two (they finished together), and after a later upload, its link.
	if got := h.app.Clipboard().Content(); got != hist[0].URL && got != hist[1].URL {
		t.Fatalf("clipboard holds %q after the uploads, want one of their links", got)
	}
	h.drop(writePNG(t, dir, "gamma.png", 90, 60))
	h.until("the third upload", func() bool { return h.done("gamma.png") })
	top = h.top()
	last := core.LinkFor(top.it.entry)
	if top.name.Text != "gamma.png" {
		t.Fatalf("top row %q, want gamma.png", top.name.Text)
	}
	if got := h.app.Clipboard().Content(); got != last.URL {
		t.Fatalf("clipboard holds %q after the upload, want %q", got, last.URL)
	}

	// Copy as Markdown, then Copy (the default format, URL).
	h.app.Clipboard().SetContent("")
	menu := top.menu()
	copyAs := menu.Items[0]
	if copyAs.Label != "Copy as" || len(copyAs.ChildMenu.Items) != len(uploader.Formats) {
		t.Fatalf("menu: %+v", menu.Items)
	}
	for _, f := range uploader.Formats {
		item := findItem(copyAs.ChildMenu, formatNames[f])
		item.Action()
		if got, want := h.app.Clipboard().Content(), last.Format(f); got != want {
			t.Fatalf("Copy as %s: clipboard %q, want %q", formatNames[f], got, want)
		}
	}
	test.Tap(top.copy)
	if got := h.app.Clipboard().Content(); got != last.URL {
		t.Fatalf("Copy link: clipboard %q, want %q", got, last.URL)
	}
	if !strings.HasPrefix(last.Format(uploader.FormatMarkdown), "![gamma.png](") {
		t.Fatalf("unexpected markdown %q", last.Format(uploader.FormatMarkdown))
	}
}

func TestLinkGoesToSystemClipboardAndNotifies(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	p := writePNG(t, t.TempDir(), "shot.png", 50, 50)
	h.drop(p)
	h.until("the upload", func() bool { return h.done("shot.png") })
	e := h.top().it.entry
	h.until("the link on the system clipboard", func() bool { return h.clip.written() == e.URL })
	n := <-h.notes
	if n.Title != "Uploaded shot.png" || !strings.Contains(n.Content, e.URL) {
		t.Fatalf("notification %+v", n)
	}

	// Turned off: no notification for the next upload.
	h.app.Preferences().SetBool(prefNotifications, false)
	h.drop(writePNG(t, t.TempDir(), "quiet.png", 40, 40))
	h.until("the second upload", func() bool { return h.done("quiet.png") })
	select {
	case n := <-h.notes:
		t.Fatalf("notification sent while turned off: %+v", n)
	default:
	}
}

func TestFailedUploadRetries(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	if err := h.srv.Stop(); err != nil {
		t.Fatal(err)
	}
	p := writePNG(t, t.TempDir(), "offline.png", 60, 40)
	h.drop(p)
	h.until("the failure", func() bool {
		j := h.pending("offline.png")
		return j != nil && j.state == store.StateFailed
	})
	r := h.top()
	if r == nil || r.it.job == nil || !r.retry.Visible() || r.copy.Visible() || !strings.HasPrefix(r.meta.Text, "Failed: ") {
		t.Fatalf("failed row: %+v", r)
	}
	if !h.u.errorL.Visible() || !strings.Contains(h.u.errorL.Text, "offline.png") {
		t.Fatalf("status line error %q", h.u.errorL.Text)
	}
	// One notification with the reason, however often it fails.
	n := <-h.notes
	if n.Title != "Upload failed: offline.png" || n.Content == "" {
		t.Fatalf("notification %+v", n)
	}

	if err := h.srv.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	test.Tap(r.retry)
	h.until("the retried upload", func() bool { return h.done("offline.png") })
	if h.pending("offline.png") != nil {
		t.Fatal("the job is still pending after its upload")
	}
	hist, _ := h.st.History(t.Context(), store.Query{})
	if len(hist) != 1 || hist[0].Key != "offline.png" {
		t.Fatalf("history %+v", hist)
	}
}

func TestRejectedFileRetriesOnceItExists(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	dir := t.TempDir()
	p := filepath.Join(dir, "later.png")
	// Queued before the file exists: the upload is rejected.
	if err := h.core.Add(t.Context(), []string{p}, store.SourceDrop); err != nil {
		t.Fatal(err)
	}
	h.until("the rejection", func() bool {
		j := h.pending("later.png")
		return j != nil && j.state == store.StateRejected
	})
	r := h.top()
	if !r.retry.Visible() || !strings.HasPrefix(r.meta.Text, "Not uploaded: ") {
		t.Fatalf("rejected row: %q, retry visible %v", r.meta.Text, r.retry.Visible())
	}
	writePNG(t, dir, "later.png", 30, 30)
	test.Tap(r.retry)
	h.until("the upload", func() bool { return h.done("later.png") })
}

func TestFolderDropAsksAboveTwenty(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	small, big := t.TempDir(), t.TempDir()
	for i := range 3 {
		writeFile(t, small, fmt.Sprintf("s%d.png", i), 100)
	}
	writeFile(t, small, "notes.txt", 10) // not an image or video: skipped
	for i := range askAbove + 5 {
		writeFile(t, big, fmt.Sprintf("b%02d.jpg", i), 100)
	}
	if err := os.Mkdir(filepath.Join(big, ".hidden"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(big, ".hidden"), "x.png", 10)

	// A small folder uploads without asking.
	h.drop(small)
	h.until("the small folder's uploads", func() bool { return h.done("s0.png") && h.done("s1.png") && h.done("s2.png") })
	if h.u.win.Canvas().Overlays().Top() != nil {
		t.Fatal("a dialog opened for 3 files")
	}
	if h.done("notes.txt") {
		t.Fatal("notes.txt was uploaded")
	}

	// A big one asks first; cancelling uploads nothing.
	h.drop(big)
	h.until("the question", func() bool { return h.overlayButton("Yes") != nil })
	if !h.overlayHas(fmt.Sprintf("%d images and videos", askAbove+5)) {
		t.Fatal("the dialog does not say how many files")
	}
	test.Tap(h.overlayButton("No"))
	counts, _ := h.st.Counts(t.Context())
	if counts[store.StateDone] != 3 || counts[store.StateQueued]+counts[store.StateUploading] != 0 {
		t.Fatalf("cancelled, yet counts are %v", counts)
	}
	h.drop(big)
	h.until("the question again", func() bool { return h.overlayButton("Yes") != nil })
	test.Tap(h.overlayButton("Yes"))
	h.until("all uploads", func() bool {
		for i := range askAbove + 5 {
			if !h.done(fmt.Sprintf("b%02d.jpg", i)) {
				return false
			}
		}
		return true
	})
	if h.done("x.png") {
		t.Fatal("a file in a hidden folder was uploaded")
	}
}

func TestSearchFiltersTheList(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	dir := t.TempDir()
	names := []string{"cat on sofa.png", "dog.png", "Cat Café.png"}
	for _, n := range names {
		h.drop(writeFile(t, dir, n, 200))
	}
	h.until("the uploads", func() bool { return h.done(names[0]) && h.done(names[1]) && h.done(names[2]) })

	test.Type(h.u.search, "cat")
	if n := h.u.model.len(); n != 2 {
		t.Fatalf("search cat: %d rows", n)
	}
	for _, r := range h.rows() {
		if !strings.Contains(strings.ToLower(r.name.Text), "cat") {
			t.Fatalf("row %q shown for search cat", r.name.Text)
		}
	}
	h.u.search.SetText("CAFÉ")
	if n := h.u.model.len(); n != 1 || h.top().name.Text != "Cat Café.png" {
		t.Fatalf("search CAFÉ: %d rows", n)
	}
	h.u.search.SetText("nothing like this")
	if n := h.u.model.len(); n != 0 {
		t.Fatalf("%d rows for a search that matches nothing", n)
	}
	h.u.search.SetText("")
	if n := h.u.model.len(); n != 3 {
		t.Fatalf("%d rows with an empty search", n)
	}
}

func TestShortcuts(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	canvas := h.u.win.Canvas()
	shortcuts := canvas.(fyne.Shortcutable)

	shortcuts.TypedShortcut(&desktopCtrlF)
	if canvas.Focused() != h.u.search {
		t.Fatal("Ctrl+F did not focus the search box")
	}
	canvas.Unfocus()

	// Ctrl+V with an image on the clipboard: saved as a PNG in the data
	// dir and uploaded as a clipboard upload.
	img := pngBytes(t, 64, 48)
	h.clip.mu.Lock()
	h.clip.image = img
	h.clip.mu.Unlock()
	shortcuts.TypedShortcut(&fyne.ShortcutPaste{})
	var entry store.Entry
	h.until("the clipboard upload", func() bool {
		hist, _ := h.st.History(t.Context(), store.Query{})
		if len(hist) == 1 {
			entry = hist[0]
		}
		return len(hist) == 1
	})
	name := filepath.Base(entry.File)
	if entry.Source != store.SourceClipboard || filepath.Dir(entry.File) != filepath.Join(h.core.DataDir(), "clips") ||
		!strings.HasPrefix(name, "Clipboard ") || !strings.HasSuffix(name, ".png") || !strings.Contains(name, " at ") {
		t.Fatalf("clipboard upload %+v", entry)
	}
	if b, err := os.ReadFile(entry.File); err != nil || string(b) != string(img) {
		t.Fatalf("the saved clipboard image differs (%v)", err)
	}

	// Ctrl+V with file paths in the clipboard text uploads those files.
	p := writeFile(t, t.TempDir(), "from text.gif", 300)
	h.clip.mu.Lock()
	h.clip.image, h.clip.text = nil, "file://"+strings.ReplaceAll(p, " ", "%20")+"\n"
	h.clip.mu.Unlock()
	shortcuts.TypedShortcut(&fyne.ShortcutPaste{})
	h.until("the pasted file's upload", func() bool { return h.done("from text.gif") })
}

func TestDeleteFromBucket(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.drop(writeFile(t, t.TempDir(), "gone.png", 500))
	h.until("the upload", func() bool { return h.done("gone.png") })
	e := h.top().it.entry
	findItem(h.top().menu(), "Delete from bucket…").Action()
	h.until("the confirmation", func() bool { return h.overlayButton("Delete") != nil })
	if !h.overlayHas("gone.png") {
		t.Fatal("the confirmation does not name the object")
	}
	test.Tap(h.overlayButton("Delete"))
	h.until("the row to go", func() bool { return !h.done("gone.png") })
	if _, err := h.srv.Client().HeadObject(t.Context(), headInput(h.srv.Bucket, e.Key)); err == nil {
		t.Fatal("the object is still in the bucket")
	}
	if hist, _ := h.st.History(t.Context(), store.Query{}); len(hist) != 0 {
		t.Fatalf("history still lists %+v", hist)
	}
}

func TestCopyExpiringLink(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.drop(writeFile(t, t.TempDir(), "private.png", 500))
	h.until("the upload", func() bool { return h.done("private.png") })
	findItem(h.top().menu(), "Copy expiring link…").Action()
	h.until("the dialog", func() bool { return h.overlayButton("Copy") != nil })
	test.Tap(h.overlayButton("Copy"))
	h.until("the expiring link", func() bool { return strings.Contains(h.app.Clipboard().Content(), "X-Amz-Expires=86400") })
	if !strings.Contains(h.app.Clipboard().Content(), "X-Amz-Signature=") {
		t.Fatalf("not a presigned link: %q", h.app.Clipboard().Content())
	}
}

func findItem(m *fyne.Menu, label string) *fyne.MenuItem {
	for _, it := range m.Items {
		if it.Label == label {
			return it
		}
	}
	panic("no menu item " + label)
}

func fileSize(t *testing.T, p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func modTime(t *testing.T, p string) time.Time {
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.ModTime()
}

var desktopCtrlF = desktop.CustomShortcut{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault}

func headInput(bucket, key string) *s3.HeadObjectInput {
	return &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
}

// TestListPagesThroughHistory scrolls a long history: pages are read as
// the end comes into view, and searching reads from the first page again.
func TestListPagesThroughHistory(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const n = 2*pageSize + 37
	seedHistory(t, h.st, n)
	h.u.setSearch("")
	if got := h.u.model.len(); got != pageSize {
		t.Fatalf("first page: %d rows", got)
	}
	for want := 2 * pageSize; want <= n; want += pageSize {
		h.u.list.ScrollToBottom()
		h.until(fmt.Sprintf("%d rows", min(want, n)), func() bool { return h.u.model.len() == min(want, n) })
	}
	h.u.list.ScrollToBottom()
	h.until("all rows", func() bool { return h.u.model.len() == n && !h.u.model.more })
	// Newest first, no duplicates across pages.
	seen := map[int64]bool{}
	for i := range n {
		it, _ := h.u.model.at(i)
		if seen[it.entry.ID] || (i > 0 && newer(it.entry, h.u.model.rows[i-1])) {
			t.Fatalf("row %d out of order or repeated", i)
		}
		seen[it.entry.ID] = true
	}
	test.Type(h.u.search, "at 0")
	if h.u.model.len() > pageSize {
		t.Fatalf("a search shows %d rows before scrolling", h.u.model.len())
	}
}

func TestAlwaysShareCopiesExpiringLinks(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.app.Preferences().SetBool(prefAlwaysShare, true)
	h.app.Preferences().SetInt(prefShareExpiry, int(time.Hour/time.Second))
	h.drop(writeFile(t, t.TempDir(), "secret.png", 300))
	h.until("the upload", func() bool { return h.done("secret.png") })
	h.until("an expiring link after the upload", func() bool { return strings.Contains(h.clip.written(), "X-Amz-Expires=3600") })
	h.app.Clipboard().SetContent("")
	test.Tap(h.top().copy)
	h.until("an expiring link from Copy", func() bool { return strings.Contains(h.app.Clipboard().Content(), "X-Amz-Expires=3600") })
}

// TestBrokenLinkReportedAfterward: behind a custom domain that does not
// answer, the link still goes out at once; the check that follows marks
// the row and says so in a notification.
func TestBrokenLinkReportedAfterward(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	cdn := *h.cfg
	cdn.Target.URLTemplate = "http://127.0.0.1:9/{key}" // nothing listens there
	if err := h.core.Use(t.Context(), &cdn); err != nil {
		t.Fatal(err)
	}
	h.drop(writePNG(t, t.TempDir(), "behind-cdn.png", 30, 30))
	h.until("the upload", func() bool { return h.done("behind-cdn.png") })
	h.until("the link on the clipboard", func() bool { return h.clip.written() == "http://127.0.0.1:9/behind-cdn.png" })
	if n := <-h.notes; n.Title != "Uploaded behind-cdn.png" {
		t.Fatalf("first notification %+v", n)
	}
	h.until("the broken link on its row", func() bool {
		it, ok := h.u.model.at(0)
		return ok && strings.HasPrefix(it.entry.LinkStatus, "link broken")
	})
	if n := <-h.notes; n.Title != "The link to behind-cdn.png does not work" || !strings.HasPrefix(n.Content, "link broken") {
		t.Fatalf("second notification %+v", n)
	}
}
