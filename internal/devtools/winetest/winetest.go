// Package winetest runs Upshot's Windows programs under Wine, for tests on
// Linux: a throwaway Wine prefix (with the ProcessPrng shim that Go
// programs need and Wine 8.0 lacks), cross-builds of the project's
// commands, and the Windows paths of host files.
package winetest

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// RequireEnv, set to 1 (as make test does), turns a missing Wine or
// mingw-w64 into a test failure instead of a skip.
const RequireEnv = "UPSHOT_REQUIRE_WINE"

// CC is the C compiler for Windows programs (cgo and the shim).
const CC = "x86_64-w64-mingw32-gcc"

var (
	//go:embed shim/prng.c
	shimC []byte
	//go:embed shim/prng.def
	shimDef []byte
)

// Wine is one Wine prefix: a Windows user profile and registry of its own,
// removed with its test.
type Wine struct {
	// Prefix is the WINEPREFIX folder.
	Prefix string
	// User is the Windows user name (C:\users\<User>).
	User string
	env  []string
}

// Start makes a fresh Wine prefix for the rest of the test, for programs
// without a display. Without Wine or mingw-w64 it skips the test, or
// fails it when RequireEnv is 1.
func Start(tb testing.TB) *Wine { return StartDisplay(tb, "") }

// StartDisplay is Start for windowed programs on the X display given
// (":N"): Wine's desktop belongs to the first program of a wineserver, so
// the prefix's wineserver starts with that display and every program run
// in it gets the display.
//
// The wineserver stays up until the test ends (by default it stops 3 s
// after the last program, and the next program would start it and the
// prefix's services again, slowly), and the services start here, with no
// output: they keep the output pipes of the program that starts them,
// which would hold a test's pipes open past the program's exit.
func StartDisplay(tb testing.TB, display string) *Wine {
	tb.Helper()
	wine, err := exec.LookPath("wine")
	if err == nil {
		_, err = exec.LookPath(CC)
	}
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			tb.Fatalf("Wine and mingw-w64 are needed (Debian's wine, wine64 and gcc-mingw-w64-x86-64; make test installs them): %v", err)
		}
		tb.Skipf("Wine or mingw-w64 is not installed: %v", err)
	}
	dll := shim(tb)
	w := &Wine{Prefix: filepath.Join(tb.TempDir(), "prefix")}
	w.env = append(hostEnv(),
		"WINEPREFIX="+w.Prefix,
		"WINEDEBUG=-all",
		// No Mono or Gecko installer prompts while the prefix is made, and
		// no menu builder, which writes menus and file types into the
		// host's home folder.
		"WINEDLLOVERRIDES=mscoree,mshtml=;winemenubuilder.exe=d",
		"WINEARCH=win64",
	)
	tb.Cleanup(func() {
		kill := exec.Command("wineserver", "-k")
		kill.Env = w.env
		_ = kill.Run()
		wait := exec.Command("wineserver", "-w")
		wait.Env = w.env
		_ = wait.Run()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a hang guard
	defer cancel()
	boot := exec.CommandContext(ctx, filepath.Join(filepath.Dir(wine), "wineboot"), "--init")
	boot.Env = w.env
	if out, err := boot.CombinedOutput(); err != nil {
		tb.Fatalf("make a Wine prefix: %v\n%s", err, out)
	}
	users, _ := os.ReadDir(filepath.Join(w.Prefix, "drive_c", "users"))
	for _, u := range users {
		if u.IsDir() && u.Name() != "Public" {
			w.User = u.Name()
		}
	}
	if w.User == "" {
		tb.Fatal("the new Wine prefix has no user profile under drive_c/users")
	}
	if err := os.WriteFile(filepath.Join(w.Prefix, "drive_c", "windows", "system32", "bcryptprimitives.dll"), dll, 0o644); err != nil {
		tb.Fatal(err)
	}
	if display != "" {
		w.env = append(w.env, "DISPLAY="+display)
	}
	// The prefix's first wineserver stops by itself once wineboot is done.
	for _, step := range [][]string{{"wineserver", "-w"}, {"wineserver", "-p"}, {"wine", "wineboot"}} {
		cmd := exec.CommandContext(ctx, step[0], step[1:]...)
		cmd.Env = w.env // no output: the services that wineboot starts keep it
		if err := cmd.Run(); err != nil {
			tb.Fatalf("%s: %v", strings.Join(step, " "), err)
		}
	}
	return w
}

// hostEnv is this process's environment without what would leak the
// host's Upshot set-up into a Windows program, and without a display:
// Command gives one only when asked.
func hostEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "UPSHOT_") || strings.HasPrefix(name, "B2_") || strings.HasPrefix(name, "AWS_") ||
			strings.HasPrefix(name, "XDG_") || strings.HasPrefix(name, "WINE") ||
			name == "DISPLAY" || name == "WAYLAND_DISPLAY" || name == "DBUS_SESSION_BUS_ADDRESS" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// Command runs a Windows program (a host path, or a Windows one) in the
// prefix with the given extra environment ("NAME=value"; DISPLAY=:N gives
// it a display).
func (w *Wine) Command(ctx context.Context, env []string, exe string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "wine", append([]string{exe}, args...)...)
	cmd.Env = append(append([]string(nil), w.env...), env...)
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// Run runs a Windows program to its end and returns its stdout, stderr and
// exit code. Only a program that could not be run at all fails the test.
func (w *Wine) Run(tb testing.TB, env []string, exe string, args ...string) (stdout, stderr string, code int) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 3*time.Minute) // a hang guard
	defer cancel()
	var out, errb bytes.Buffer
	cmd := w.Command(ctx, env, exe, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee) && ctx.Err() == nil:
		code = ee.ExitCode()
	case err != nil:
		tb.Fatalf("wine %s %q: %v\n%s", filepath.Base(exe), args, err, errb.String())
	}
	return out.String(), errb.String(), code
}

// Path is the Windows name of a host path: Wine's Z: drive is the host's /.
func Path(host string) string {
	return `Z:` + strings.ReplaceAll(host, "/", `\`)
}

// Host is the host path of a Windows path on the prefix's C: drive.
func (w *Wine) Host(win string) string {
	if len(win) < 2 || !strings.EqualFold(win[:2], "C:") {
		panic("winetest: not a C: path: " + win)
	}
	return filepath.Join(w.Prefix, "drive_c", filepath.FromSlash(strings.ReplaceAll(win[2:], `\`, "/")))
}

// Profile is the Windows path of the user's profile folder.
func (w *Wine) Profile() string { return `C:\users\` + w.User }

// AppData and LocalAppData are the Windows paths of %APPDATA% and
// %LOCALAPPDATA%.
func (w *Wine) AppData() string      { return w.Profile() + `\AppData\Roaming` }
func (w *Wine) LocalAppData() string { return w.Profile() + `\AppData\Local` }

var shimOnce struct {
	sync.Once
	dll []byte
	err error
}

// shim builds the ProcessPrng DLL once per test process.
func shim(tb testing.TB) []byte {
	tb.Helper()
	shimOnce.Do(func() {
		dir, err := os.MkdirTemp("", "upshot-wine-shim-")
		if err != nil {
			shimOnce.err = err
			return
		}
		defer os.RemoveAll(dir)
		c, def, dll := filepath.Join(dir, "prng.c"), filepath.Join(dir, "prng.def"), filepath.Join(dir, "bcryptprimitives.dll")
		if err := errors.Join(os.WriteFile(c, shimC, 0o600), os.WriteFile(def, shimDef, 0o600)); err != nil {
			shimOnce.err = err
			return
		}
		if out, err := exec.Command(CC, "-O2", "-shared", "-s", "-o", dll, c, def, "-ladvapi32").CombinedOutput(); err != nil {
			shimOnce.err = fmt.Errorf("build the ProcessPrng shim: %v\n%s", err, out)
			return
		}
		shimOnce.dll, shimOnce.err = os.ReadFile(dll)
	})
	if shimOnce.err != nil {
		tb.Fatal(shimOnce.err)
	}
	return shimOnce.dll
}

// releaseCFLAGS are the C flags that fyne package --release (fyne.io/tools
// v1.7.4) builds the window's cgo packages with for Windows, as
// scripts/package.sh runs it: its release flags, and no hardening flags,
// which it adds only for compilers it recognises, and mingw-w64's gcc
// ("12-win32") is not one. The same flags let the builds share the cache.
const releaseCFLAGS = "-O3 -pipe"

// goEnv is the environment of a Go build for windows/amd64, without cgo.
func goEnv() []string {
	return append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
}

// Build cross-builds the main package pkg (an import path such as
// "upshot/cmd/upshot") for windows/amd64 into the test's temporary folder
// and returns the .exe's host path. cgo builds use mingw-w64 and are
// release builds, as shipped. All are built with -trimpath, and cgo ones
// with releaseCFLAGS, as make crossbuild and scripts/package.sh build, so
// they come from the cache.
func Build(tb testing.TB, pkg string, cgo bool, ldflags ...string) string {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), filepath.Base(pkg)+".exe")
	args := []string{"build", "-trimpath", "-o", out}
	if cgo {
		args = append(args, "-tags", "release")
	}
	if len(ldflags) > 0 {
		args = append(args, "-ldflags", strings.Join(ldflags, " "))
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Env = goEnv()
	if cgo {
		cmd.Env = append(cmd.Env, "CGO_ENABLED=1", "CC="+CC, "CGO_CFLAGS="+releaseCFLAGS)
	}
	if msg, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build %s for windows/amd64: %v\n%s", pkg, err, msg)
	}
	return out
}

// RunTests cross-compiles the tests of the package in dir (as go test -c
// does) for windows/amd64, runs them under Wine in that folder with the
// given extra environment and -test.v, and fails tb with their output if
// they fail. It returns the output.
func (w *Wine) RunTests(tb testing.TB, dir string, env []string, args ...string) string {
	tb.Helper()
	exe := filepath.Join(tb.TempDir(), "windows.test.exe")
	build := exec.Command("go", "test", "-c", "-o", exe, ".")
	build.Dir = dir
	build.Env = goEnv()
	if msg, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("go test -c for windows/amd64 in %s: %v\n%s", dir, err, msg)
	}
	ctx, cancel := context.WithTimeout(tb.Context(), 10*time.Minute) // a hang guard
	defer cancel()
	cmd := w.Command(ctx, env, exe, append([]string{"-test.v", "-test.timeout", "9m"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("the Windows tests of %s under Wine: %v\n%s", dir, err, out)
	}
	return string(out)
}

// Expect fails tb unless the Windows tests' output out (from RunTests)
// reports every test in pass as passed and every test in skip as skipped:
// a gap of Wine's, said by the test's name.
func Expect(tb testing.TB, out string, pass, skip []string) {
	tb.Helper()
	for _, name := range pass {
		if !strings.Contains(out, "--- PASS: "+name+" ") {
			tb.Errorf("%s did not pass under Wine:\n%s", name, out)
		}
	}
	for _, name := range skip {
		if !strings.Contains(out, "--- SKIP: "+name+" ") {
			tb.Errorf("%s did not report Wine's gap:\n%s", name, out)
		}
	}
}
