package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"upshot/internal/devtools/winetest"
	"upshot/uploader/s3test"
)

// winSide is upshot.exe under Wine with its own server, and the Linux
// binary with a server of its own, set up alike, so that each command's
// output and exit code can be compared.
type winSide struct {
	w          *winetest.Wine
	exe, tool  string
	win, lin   *s3test.Server
	linCfg     string
	linData    string
	dir        string // host folder of the files both upload
	winCreds   []string
	linuxCreds []string
}

func newWinSide(t *testing.T) *winSide {
	t.Helper()
	s := &winSide{w: winetest.Start(t), dir: t.TempDir(), linData: t.TempDir()}
	s.exe = winetest.Build(t, "upshot/cmd/upshot", false)
	s.tool = winetest.Build(t, "upshot/internal/devtools/winetest/wintool", false)
	s.win = s3test.Start(t, s3test.Options{})
	s.lin = s3test.Start(t, s3test.Options{})
	config := func(srv *s3test.Server) string {
		return fmt.Sprintf("[target]\nendpoint = %q\nbucket = %q\npath_template = \"shots/{name}{ext}\"\n", srv.Endpoint, srv.Bucket)
	}
	// Where Windows keeps a user's settings: %APPDATA%\upshot.
	winCfg := s.w.Host(s.w.AppData() + `\upshot\config.toml`)
	if err := os.MkdirAll(filepath.Dir(winCfg), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(winCfg, []byte(config(s.win)), 0o600); err != nil {
		t.Fatal(err)
	}
	s.linCfg = filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(s.linCfg, []byte(config(s.lin)), 0o600); err != nil {
		t.Fatal(err)
	}
	s.winCreds = []string{"B2_APPLICATION_KEY_ID=" + s.win.AccessKey, "B2_APPLICATION_KEY=" + s.win.SecretKey}
	s.linuxCreds = []string{"B2_APPLICATION_KEY_ID=" + s.lin.AccessKey, "B2_APPLICATION_KEY=" + s.lin.SecretKey}
	return s
}

// windows runs upshot.exe with the Windows server's credentials and env.
func (s *winSide) windows(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	stdout, stderr, code = s.w.Run(t, append(append([]string(nil), s.winCreds...), env...), s.exe, args...)
	return code, stdout, stderr
}

// linux runs the Linux binary, the same way, against its own server.
func (s *winSide) linux(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	env := append([]string{"UPSHOT_CONFIG=" + s.linCfg, "UPSHOT_DATA_DIR=" + s.linData}, s.linuxCreds...)
	code, stdout, stderr, _ = runBin(t, nil, env, args...)
	return code, stdout, stderr
}

// same replaces what differs between the two sides by nature (endpoints,
// the Windows and Linux names of the same files, line ends) with the same
// words.
func (s *winSide) same(text string) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, s.win.Endpoint, "ENDPOINT")
	text = strings.ReplaceAll(text, s.lin.Endpoint, "ENDPOINT")
	dir := winetest.Path(s.dir)
	text = strings.ReplaceAll(text, strings.ReplaceAll(dir, `\`, `\\`)+`\\`, "DIR/") // in JSON
	text = strings.ReplaceAll(text, dir+`\`, "DIR/")
	return strings.ReplaceAll(text, s.dir+"/", "DIR/")
}

func (s *winSide) file(t *testing.T, name string, size int) (host, win string) {
	t.Helper()
	b := make([]byte, size)
	rand.Read(b)
	host = filepath.Join(s.dir, name)
	if err := os.WriteFile(host, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return host, winetest.Path(host)
}

// TestWindowsCLIUnderWine runs upshot.exe, the Windows build, under Wine
// against versitygw on loopback, and compares each command with the Linux
// binary doing the same: the same output and exit codes, config and data
// where Windows keeps them, Windows paths, names Windows forbids, and the
// key in Credential Manager.
func TestWindowsCLIUnderWine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs upshot.exe under Wine")
	}
	s := newWinSide(t)

	t.Run("check finds its config in APPDATA", func(t *testing.T) {
		code, out, errs := s.windows(t, nil, "check")
		lcode, lout, _ := s.linux(t, "check")
		if code != 0 || code != lcode {
			t.Fatalf("check: exit %d on Windows, %d on Linux\n%s%s", code, lcode, out, errs)
		}
		if got, want := checkLines(out), checkLines(lout); !slices.Equal(got, want) {
			t.Errorf("check reports %q on Windows, %q on Linux", got, want)
		}
	})

	_, spaced := s.file(t, "shot 1.png", 1000)
	_, second := s.file(t, "ünï cødé.jpg", 2000)
	t.Run("upload prints what Linux prints", func(t *testing.T) {
		for _, args := range [][]string{
			{"upload", "--json", "--no-clipboard", "shot 1.png", "ünï cødé.jpg"},
			{"upload", "--no-clipboard", "--format", "markdown", "shot 1.png"},
		} {
			// The same files, by their Windows names on one side.
			win := slices.Clone(args)
			for i, a := range win {
				if a == "shot 1.png" {
					win[i] = spaced
				} else if a == "ünï cødé.jpg" {
					win[i] = second
				}
			}
			lin := slices.Clone(args)
			for i, a := range lin {
				if strings.Contains(a, ".") && !strings.HasPrefix(a, "-") {
					lin[i] = filepath.Join(s.dir, a)
				}
			}
			code, out, errs := s.windows(t, nil, win...)
			lcode, lout, lerrs := s.linux(t, lin...)
			if code != 0 || lcode != 0 {
				t.Fatalf("%q: exit %d on Windows (%s), %d on Linux (%s)", args, code, errs, lcode, lerrs)
			}
			if s.same(out) != s.same(lout) {
				t.Errorf("%q prints\n%s\non Windows, and\n%s\non Linux", args, s.same(out), s.same(lout))
			}
		}
	})

	t.Run("a file on the C: drive", func(t *testing.T) {
		pics := s.w.Profile() + `\Pictures`
		if err := os.MkdirAll(s.w.Host(pics), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(s.w.Host(pics+`\c drive.png`), []byte("from C:"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errs := s.windows(t, nil, "upload", "--no-clipboard", pics+`\c drive.png`)
		if code != 0 || !strings.HasSuffix(strings.TrimSpace(out), "/shots/c%20drive.png") {
			t.Fatalf("exit %d, %q %q", code, out, errs)
		}
	})

	t.Run("data in LOCALAPPDATA, history as on Linux", func(t *testing.T) {
		db := s.w.Host(s.w.LocalAppData() + `\upshot\upshot.db`)
		if _, err := os.Stat(db); err != nil {
			t.Fatalf("the history is not in %%LOCALAPPDATA%%\\upshot: %v", err)
		}
		code, out, errs := s.windows(t, nil, "history", "--json", "--search", "shot 1")
		lcode, lout, _ := s.linux(t, "history", "--json", "--search", "shot 1")
		if code != 0 || lcode != 0 {
			t.Fatalf("history: exit %d (%s), %d", code, errs, lcode)
		}
		if got, want := historyKeys(t, out), historyKeys(t, lout); !slices.Equal(got, want) || len(got) != 2 {
			t.Errorf("history keys %q on Windows, %q on Linux", got, want)
		}
	})

	t.Run("exit codes as on Linux", func(t *testing.T) {
		missing := filepath.Join(s.dir, "missing.png")
		_, fresh := s.file(t, "fresh.png", 500)
		for _, c := range []struct {
			name     string
			env      []string
			win, lin []string
			code     int
			errHas   string
		}{
			{"missing file", nil, []string{"upload", "--no-clipboard", winetest.Path(missing)}, []string{"upload", "--no-clipboard", missing}, 1, "no such file"},
			{"bad flag", nil, []string{"upload", "--jsn", spaced}, []string{"upload", "--jsn", "x"}, 2, "-jsn"},
			{"wrong key", []string{"B2_APPLICATION_KEY=wrong"}, []string{"upload", "--no-clipboard", fresh}, nil, 2, "rejected the application key"},
			{"share", nil, []string{"share", "--no-clipboard", "--expires", "2h", "shots/shot 1.png"}, []string{"share", "--no-clipboard", "--expires", "2h", "shots/shot 1.png"}, 0, ""},
			{"share too long", nil, []string{"share", "--expires", "200h", "shots/shot 1.png"}, []string{"share", "--expires", "200h", "shots/shot 1.png"}, 2, "7 days"},
			{"delete", nil, []string{"delete", "--yes", "shots/shot 1.png"}, []string{"delete", "--yes", "shots/shot 1.png"}, 0, ""},
			{"delete unknown", nil, []string{"delete", "--yes", "shots/nope.png"}, []string{"delete", "--yes", "shots/nope.png"}, 2, "not in Upshot's history"},
		} {
			code, out, errs := s.windows(t, c.env, c.win...)
			if code != c.code || !strings.Contains(errs, c.errHas) {
				t.Errorf("%s: exit %d, stderr %q; want %d and %q", c.name, code, errs, c.code, c.errHas)
			}
			if strings.Contains(out+errs, s.win.SecretKey) {
				t.Errorf("%s: the output shows the key", c.name)
			}
			if c.lin == nil {
				continue
			}
			lcode, lout, lerrs := s.linux(t, c.lin...)
			if lcode != code {
				t.Errorf("%s: exit %d on Windows, %d on Linux (%s)", c.name, code, lcode, lerrs)
			}
			if c.name == "share" {
				if !strings.Contains(out, "X-Amz-Expires=7200") || !strings.Contains(lout, "X-Amz-Expires=7200") {
					t.Errorf("share: %q on Windows, %q on Linux", out, lout)
				}
			} else if s.same(out) != s.same(lout) || s.same(oneLineOf(errs)) != s.same(oneLineOf(lerrs)) {
				t.Errorf("%s: Windows says %q %q, Linux %q %q", c.name, out, errs, lout, lerrs)
			}
		}
	})

	t.Run("names Windows forbids", func(t *testing.T) {
		// Such files come from elsewhere (a share, an archive); Linux
		// uploads them, Windows cannot open them as files.
		for name, want := range map[string]string{
			"aux.png":   "keeps for a device (AUX)",
			"CON":       "keeps for a device (CON)",
			"trailing.": "ends in a dot",
		} {
			host, win := s.file(t, name, 100)
			code, out, errs := s.windows(t, nil, "upload", "--no-clipboard", win)
			if code != 1 || out != "" || !strings.Contains(errs, want) || !strings.Contains(errs, "rename the file") {
				t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 1 and %q", name, code, out, errs, want)
			}
			if lcode, _, lerrs := s.linux(t, "upload", "--no-clipboard", host); lcode != 0 {
				t.Errorf("%s on Linux: exit %d, %s", name, lcode, lerrs)
			}
		}
	})

	t.Run("the key in Credential Manager", func(t *testing.T) {
		// No key in the environment: the one stored as the window stores it.
		noKey := []string{"B2_APPLICATION_KEY="}
		if _, errs, code := s.w.Run(t, nil, s.tool, "cred", s.win.AccessKey, s.win.SecretKey); code != 0 {
			t.Fatalf("store the key in Credential Manager: %s", errs)
		}
		_, file := s.file(t, "from keyring.png", 300)
		code, out, errs := s.windows(t, noKey, "upload", "--no-clipboard", file)
		if code != 0 || !strings.Contains(out, "from%20keyring.png") {
			t.Fatalf("upload with the key from Credential Manager: exit %d, %q %q", code, out, errs)
		}
		// A key ID with no stored key, and none anywhere else: the same
		// advice as on Linux.
		other := []string{"B2_APPLICATION_KEY=", "B2_APPLICATION_KEY_ID=NOSUCHKEYID"}
		code, _, errs = s.windows(t, other, "upload", "--no-clipboard", file)
		if code != 2 || !strings.Contains(errs, "B2_APPLICATION_KEY") {
			t.Fatalf("no key anywhere: exit %d, %q", code, errs)
		}
		if strings.Contains(errs, s.win.SecretKey) {
			t.Fatal("the error shows the key")
		}
	})
}

// checkLines is each line's status and subject from upshot check ("ok
// write"); the details name random probe objects.
func checkLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && !strings.HasPrefix(l, " ") {
			lines = append(lines, f[0]+" "+f[1])
		}
	}
	return lines
}

func historyKeys(t *testing.T, out string) []string {
	t.Helper()
	var keys []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var e struct{ Key string }
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("history --json line %q: %v", sc.Text(), err)
		}
		keys = append(keys, e.Key)
	}
	return keys
}

func oneLineOf(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// TestWindowsWatchUnderWine: upshot.exe watch, under Wine, uploads a file
// copied in, a file renamed in, and a file its writer holds locked only
// once the writer has closed it, whole.
func TestWindowsWatchUnderWine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs upshot.exe under Wine")
	}
	s := newWinSide(t)
	watched := filepath.Join(t.TempDir(), "Screenshots")
	if err := os.Mkdir(watched, 0o755); err != nil {
		t.Fatal(err)
	}
	p := startWatch(t, s.w.Command(t.Context(), s.winCreds, s.exe, "watch", "--json", "--no-clipboard", winetest.Path(watched)))
	next := func(what string) watchLine {
		t.Helper()
		select {
		case l := <-p.lines:
			return l
		case <-p.done:
			t.Fatalf("upshot.exe watch ended before %s", what)
		case <-time.After(3 * time.Minute): // a hang guard
			t.Fatalf("no upload for %s", what)
		}
		return watchLine{}
	}

	copied := filepath.Join(watched, "copied.png")
	if err := os.WriteFile(copied, bytes.Repeat([]byte("c"), 5000), 0o644); err != nil {
		t.Fatal(err)
	}
	if l := next("a file copied in"); l.Key != "shots/copied.png" || l.Size != 5000 {
		t.Fatalf("copied in: %+v", l)
	}

	aside := filepath.Join(t.TempDir(), "renamed.png")
	os.WriteFile(aside, bytes.Repeat([]byte("r"), 7000), 0o644)
	if err := os.Rename(aside, filepath.Join(watched, "renamed.png")); err != nil {
		t.Fatal(err)
	}
	if l := next("a file renamed in"); l.Key != "shots/renamed.png" || l.Size != 7000 {
		t.Fatalf("renamed in: %+v", l)
	}

	// A writer holds the file locked (share mode 0) with half its bytes
	// written, as Windows programs often do while saving.
	var heldErrs lockedBuffer
	held := s.w.Command(t.Context(), nil, s.tool, "hold", winetest.Path(filepath.Join(watched, "held.png")), "20000")
	in, _ := held.StdinPipe()
	heldOut, _ := held.StdoutPipe()
	held.Stderr = &heldErrs
	if err := held.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = held.Process.Kill(); _ = held.Wait() })
	said := bufio.NewReader(heldOut)
	if l, err := said.ReadString('\n'); err != nil || strings.TrimSpace(l) != "held" {
		t.Fatalf("wintool hold: %q %v\n%s", l, err, heldErrs.String())
	}
	// The watch takes a file that nothing closed after a quiet spell, and
	// the locked file's spell began first. Each later file is written once
	// the one before it is uploaded, so its own spell ends after the
	// locked file's next look: two uploads, two looks at the locked file,
	// which is neither uploaded (the next upload would be it) nor reported.
	for i, name := range []string{"later-1.png", "later-2.png"} {
		os.WriteFile(filepath.Join(watched, name), bytes.Repeat([]byte{'1' + byte(i)}, 3000), 0o644)
		if l := next("a file copied in while another is locked"); l.Key != "shots/"+name {
			t.Fatalf("while held.png is locked, the watch uploaded %+v, want %s", l, name)
		}
	}
	for drained := false; !drained; {
		select {
		case l := <-p.errs:
			if strings.Contains(l, "held.png") {
				t.Fatalf("the watch tried the locked file: %s", l)
			}
		default:
			drained = true
		}
	}
	io.WriteString(in, "go on\n")
	if l, err := said.ReadString('\n'); err != nil || strings.TrimSpace(l) != "closed" {
		t.Fatalf("wintool hold: %q %v\n%s", l, err, heldErrs.String())
	}
	if l := next("the file once its writer closed it"); l.Key != "shots/held.png" || l.Size != 20000 {
		t.Fatalf("after the writer closed it: %+v", l)
	}
}

// lockedBuffer is a bytes.Buffer safe for a writer and a reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
