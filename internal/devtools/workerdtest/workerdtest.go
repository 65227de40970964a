// Package workerdtest runs a Cloudflare Worker in workerd, Cloudflare's own
// Workers runtime, on loopback for tests and benchmarks: one ES module with
// text bindings, free to fetch from loopback servers, with an in-memory
// edge cache behind caches.default.
//
// workerd is the npm package workerd, pinned to [Version] and installed by
// `scripts/deps.sh test` outside the repository; [Binary] finds it. Without
// it, [Start] skips the test, or fails it when [RequireEnv] is 1 (as make
// test sets it).
//
// Nothing here is global: every Worker owns its process, its port and its
// temporary directory, so tests may run them in parallel.
package workerdtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// Version is the workerd npm release the tests are pinned to.
	Version = "1.20261117.1"
	// BinaryEnv names the environment variable that says where the
	// workerd executable is.
	BinaryEnv = "UPSHOT_WORKERD"
	// RequireEnv, set to 1, turns a missing workerd into a test failure
	// instead of a skip.
	RequireEnv = "UPSHOT_REQUIRE_WORKERD"
	// DefaultCompatibilityDate is used when Config.CompatibilityDate is
	// empty.
	DefaultCompatibilityDate = "2026-11-01"

	readyTimeout = 60 * time.Second // a cold start on a busy machine under -race
	stopTimeout  = 5 * time.Second
	outputTail   = 16 << 10
)

// ErrNotInstalled is wrapped by the errors of [Binary] and [StartProcess]
// when there is no workerd to run.
var ErrNotInstalled = errors.New("workerd is not installed")

// Binary returns the path of the workerd executable: $UPSHOT_WORKERD if
// set, else the pinned version where scripts/deps.sh installs it, else
// workerd on PATH.
func Binary() (string, error) {
	if p := os.Getenv(BinaryEnv); p != "" {
		if err := checkExecutable(p); err != nil {
			return "", fmt.Errorf("workerdtest: %s=%s: %w: %w (run `scripts/deps.sh test`, or point it at workerd %s)", BinaryEnv, p, ErrNotInstalled, err, Version)
		}
		return p, nil
	}
	looked := []string{"$" + BinaryEnv}
	if p := installedPath(); p != "" {
		if checkExecutable(p) == nil {
			return p, nil
		}
		looked = append(looked, p)
	}
	if p, err := exec.LookPath("workerd"); err == nil {
		return p, nil
	}
	looked = append(looked, "PATH")
	return "", fmt.Errorf("workerdtest: %w (looked at %s): run `scripts/deps.sh test` (or `make test`) to install workerd %s",
		ErrNotInstalled, strings.Join(looked, ", "), Version)
}

// installedPath is where scripts/deps.sh puts the pinned workerd.
func installedPath() string {
	if runtime.GOOS != "linux" {
		return ""
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "upshot", "workerd-"+Version, "workerd")
}

func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}

// Config describes one Worker.
type Config struct {
	// Module is the ES module's source, the Worker's main module.
	Module []byte
	// ModuleName is the module's file name; default "worker.js".
	ModuleName string
	// CompatibilityDate defaults to DefaultCompatibilityDate.
	CompatibilityDate string
	// Text holds the text bindings: plain ones and secrets alike, as
	// workerd has no separate kind for secrets.
	Text map[string]string
	// Cache serves caches.default; nil gives the Worker a new empty one.
	// Workers given the same Cache share it.
	Cache *Cache
	// CacheOff, when Cache is nil, gives the Worker a cache that stores
	// nothing, so that every request goes to the origin, as when a zone's
	// cache is bypassed.
	CacheOff bool
}

// Worker is a running workerd. Its fields are read-only; Close may be
// called from any goroutine, more than once.
type Worker struct {
	URL   string // "http://127.0.0.1:PORT", no trailing slash
	Cache *Cache

	cmd       *exec.Cmd
	exited    chan struct{}
	out       *tailBuffer
	dir       string
	ownCache  bool
	closeOnce sync.Once
	closeErr  error
}

// Start runs module in workerd for the rest of the test with the plain
// bindings and the secrets as text bindings, and returns its base URL. To
// change a secret, call Start again: each call is a new Worker.
func Start(tb testing.TB, module []byte, plain, secrets map[string]string) string {
	tb.Helper()
	text := make(map[string]string, len(plain)+len(secrets))
	for k, v := range plain {
		text[k] = v
	}
	for k, v := range secrets {
		text[k] = v
	}
	return StartWorker(tb, Config{Module: module, Text: text}).URL
}

// StartWorker runs a Worker for the rest of the test (Close runs in
// tb.Cleanup). Without workerd it skips the test, or fails it when
// RequireEnv is 1; any other failure is fatal.
func StartWorker(tb testing.TB, cfg Config) *Worker {
	tb.Helper()
	w, err := StartProcess(tb.Context(), cfg)
	if err != nil {
		if errors.Is(err, ErrNotInstalled) && os.Getenv(RequireEnv) != "1" {
			tb.Skip(err)
		}
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := w.Close(); err != nil {
			tb.Error(err)
		}
	})
	return w
}

// StartProcess starts workerd and returns once it accepts connections.
// ctx bounds the start only; the caller must Close the Worker.
func StartProcess(ctx context.Context, cfg Config) (_ *Worker, err error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	if cfg.ModuleName == "" {
		cfg.ModuleName = "worker.js"
	}
	if cfg.CompatibilityDate == "" {
		cfg.CompatibilityDate = DefaultCompatibilityDate
	}
	if !moduleName.MatchString(cfg.ModuleName) {
		return nil, fmt.Errorf("workerdtest: module name %q: use a plain file name such as worker.js", cfg.ModuleName)
	}
	w := &Worker{Cache: cfg.Cache, exited: make(chan struct{}), out: &tailBuffer{max: outputTail}}
	defer func() {
		if err != nil {
			err = errors.Join(err, w.Close())
		}
	}()
	if w.Cache == nil {
		if w.Cache, err = newCache(cfg.CacheOff); err != nil {
			return nil, err
		}
		w.ownCache = true
	}
	if w.dir, err = os.MkdirTemp("", "upshot-workerd-"); err != nil {
		return nil, fmt.Errorf("workerdtest: make config dir: %w (is TMPDIR writable?)", err)
	}
	if err := os.WriteFile(filepath.Join(w.dir, cfg.ModuleName), cfg.Module, 0o600); err != nil {
		return nil, fmt.Errorf("workerdtest: write module: %w", err)
	}
	conf := filepath.Join(w.dir, "config.capnp")
	if err := os.WriteFile(conf, []byte(configText(cfg, w.Cache.addr)), 0o600); err != nil {
		return nil, fmt.Errorf("workerdtest: write config: %w", err)
	}

	// workerd reports the port it bound on the control descriptor (fd 3).
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("workerdtest: %w", err)
	}
	defer ctlR.Close()
	cmd := exec.Command(bin, "serve", conf, "--control-fd=3")
	cmd.Dir = w.dir
	cmd.Stdout, cmd.Stderr = w.out, w.out
	cmd.ExtraFiles = []*os.File{ctlW}
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = stopTimeout
	err = cmd.Start()
	ctlW.Close()
	if err != nil {
		return nil, fmt.Errorf("workerdtest: start %s: %w (reinstall with `scripts/deps.sh test`)", bin, err)
	}
	w.cmd = cmd
	go func() {
		_ = cmd.Wait()
		close(w.exited)
	}()

	port := make(chan int, 1)
	go func() { port <- listenPort(ctlR) }()
	select {
	case p := <-port:
		if p == 0 {
			<-w.exited
			return nil, fmt.Errorf("workerdtest: workerd stopped before listening (%v)%s", cmd.ProcessState, w.out.tail())
		}
		w.URL = "http://127.0.0.1:" + strconv.Itoa(p)
	case <-ctx.Done():
		return nil, fmt.Errorf("workerdtest: waiting for workerd to listen: %w%s", ctx.Err(), w.out.tail())
	case <-time.After(readyTimeout):
		return nil, fmt.Errorf("workerdtest: workerd did not listen within %v%s", readyTimeout, w.out.tail())
	}
	// The socket is bound; one connection proves it accepts.
	conn, err := (&net.Dialer{Timeout: readyTimeout}).DialContext(ctx, "tcp", strings.TrimPrefix(w.URL, "http://"))
	if err != nil {
		return nil, fmt.Errorf("workerdtest: workerd does not accept connections: %w%s", err, w.out.tail())
	}
	conn.Close()
	return w, nil
}

var moduleName = regexp.MustCompile(`^[A-Za-z0-9_.-]+\.m?js$`)

// listenPort reads control messages until the "http" socket reports its
// port; 0 when the descriptor closes first (workerd exited).
func listenPort(r *os.File) int {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var msg struct {
			Event  string `json:"event"`
			Socket string `json:"socket"`
			Port   int    `json:"port"`
		}
		if json.Unmarshal(sc.Bytes(), &msg) == nil && msg.Event == "listen" && msg.Socket == "http" && msg.Port > 0 {
			return msg.Port
		}
	}
	return 0
}

// configText is the workerd config: the Worker, a network service that may
// reach loopback and private addresses (the stand-ins tests run), the
// cache service, and one HTTP socket on a port the kernel picks.
func configText(cfg Config, cacheAddr string) string {
	var b strings.Builder
	b.WriteString(`using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "upshot", worker = .worker),
    (name = "network", network = (allow = ["public", "private", "local"])),
    (name = "cache", external = (address = ` + quote(cacheAddr) + `, http = ())),
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "upshot")],
);

const worker :Workerd.Worker = (
  modules = [(name = ` + quote(cfg.ModuleName) + `, esModule = embed ` + quote(cfg.ModuleName) + `)],
  compatibilityDate = ` + quote(cfg.CompatibilityDate) + `,
  globalOutbound = "network",
  cacheApiOutbound = "cache",
  bindings = [
`)
	names := make([]string, 0, len(cfg.Text))
	for k := range cfg.Text {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		fmt.Fprintf(&b, "    (name = %s, text = %s),\n", quote(k), quote(cfg.Text[k]))
	}
	b.WriteString("  ],\n);\n")
	return b.String()
}

// quote makes a Cap'n Proto text literal.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Output returns the last lines workerd wrote (the Worker's console output
// included).
func (w *Worker) Output() string { return w.out.String() }

// Close stops workerd and removes its files. A Cache that StartProcess made
// is closed too; one passed in Config is left to its owner.
func (w *Worker) Close() error {
	w.closeOnce.Do(func() {
		var errs []error
		if w.cmd != nil && w.cmd.Process != nil {
			select {
			case <-w.exited:
			default:
				_ = w.cmd.Process.Kill()
				select {
				case <-w.exited:
				case <-time.After(2 * stopTimeout):
					errs = append(errs, errors.New("workerdtest: workerd did not exit after SIGKILL"))
				}
			}
		}
		if w.ownCache && w.Cache != nil {
			errs = append(errs, w.Cache.Close())
		}
		if w.dir != "" {
			if err := os.RemoveAll(w.dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		w.closeErr = errors.Join(errs...)
	})
	return w.closeErr
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

func (t *tailBuffer) tail() string {
	if s := strings.TrimSpace(t.String()); s != "" {
		return "\nworkerd said:\n" + s
	}
	return ""
}
