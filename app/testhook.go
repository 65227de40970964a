package app

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"

	"upshot/internal/store"
)

// Environment variables for Upshot's own smoke test and benchmarks; they
// are not meant for users and change nothing unless set.
const (
	// envTestReport, set to 1, makes the app print what it shows on
	// stdout: "shown <ms>" when the window is up (milliseconds since the
	// process started), "listed <url>" when an upload joins the list,
	// "thumb <sha1>" when a thumbnail appears.
	envTestReport = "UPSHOT_TEST_REPORT"
	// envTestDrop holds paths, separated by os.PathListSeparator, that are
	// dropped on the window once it shows, through the same handler as a
	// real drop.
	envTestDrop = "UPSHOT_TEST_DROP"
	// envTestTab, set to "settings", opens the window on the settings.
	envTestTab = "UPSHOT_TEST_TAB"
)

// processStart approximates when the process started.
var processStart = time.Now()

// hooks are the test hooks asked for in the environment.
type hooks struct {
	out    io.Writer
	report bool
	drop   []string
	tab    string
	mu     sync.Mutex
}

func hooksFromEnv(out io.Writer) *hooks {
	h := &hooks{out: out, report: os.Getenv(envTestReport) == "1", tab: os.Getenv(envTestTab)}
	if d := os.Getenv(envTestDrop); d != "" {
		h.drop = filepath.SplitList(d)
	}
	return h
}

func (h *hooks) printf(format string, args ...any) {
	if !h.report {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintf(h.out, format+"\n", args...)
}

// install wires the hooks into the window.
func (h *hooks) install(u *ui) {
	if strings.EqualFold(h.tab, "settings") {
		u.showSettings()
	}
	u.onListed = func(e store.Entry) { h.printf("listed %s", e.URL) }
	u.onThumb = func(sha1 string) { h.printf("thumb %s", sha1) }
	u.onStarted = append(u.onStarted, func() {
		h.printf("shown %d", time.Since(processStart).Milliseconds())
		if len(h.drop) > 0 {
			var uris []fyne.URI
			for _, p := range h.drop {
				uris = append(uris, storage.NewFileURI(p))
			}
			u.dropped(fyne.Position{}, uris)
		}
	})
}
