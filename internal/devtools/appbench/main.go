// Command appbench measures Upshot's window against a bare Fyne window,
// both real binaries under a private Xvfb:
//
//   - start-up: from exec to the window being up (Fyne has started its
//     event loop with the window created: the bare window prints "shown",
//     Upshot's says it is ready to "upshot status");
//   - memory: resident set size once the window has been idle for a while,
//     with a history of -items uploads, as a ratio to the bare window's
//     (target ≤ 1.3×);
//   - start-up with a history of 10,000 uploads.
//
// The time to first paint of a 10,000-item history list is measured in
// process by BenchmarkHistoryFirstPaint in package app.
//
// Run it from the repository root:
//
//	go run ./internal/appbench [-runs 3] [-items 1000] [-idle 3s]
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"upshot/internal/core"
	"upshot/internal/devtools/xvfbtest"
	"upshot/internal/store"
)

func main() {
	runs := flag.Int("runs", 3, "runs of each measurement (the median is reported)")
	items := flag.Int("items", 1000, "history entries for the memory measurement")
	idle := flag.Duration("idle", 3*time.Second, "how long the window idles before its memory is read")
	flag.Parse()
	if err := run(*runs, *items, *idle); err != nil {
		fmt.Fprintln(os.Stderr, "appbench:", err)
		os.Exit(1)
	}
}

// result is one run of one binary.
type result struct {
	shown time.Duration // exec to "shown"
	rss   int64         // bytes, after idling
}

func run(runs, items int, idle time.Duration) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "appbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	upshot, bare := filepath.Join(dir, "upshot"), filepath.Join(dir, "bare")
	for bin, pkg := range map[string]string{upshot: "./cmd/upshot-desktop", bare: "./internal/devtools/appbench/bare"} {
		if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	display, stop, err := xvfbtest.StartServer(1280, 1024)
	if err != nil {
		return err
	}
	defer stop()

	small, err := seed(ctx, filepath.Join(dir, "small"), items)
	if err != nil {
		return err
	}
	big, err := seed(ctx, filepath.Join(dir, "big"), 10_000)
	if err != nil {
		return err
	}
	measure := func(name, bin, data string) ([]result, error) {
		var rs []result
		for i := range runs {
			r, err := launch(bin, display, dir, data, idle)
			if err != nil {
				return nil, fmt.Errorf("%s, run %d: %w", name, i+1, err)
			}
			rs = append(rs, r)
		}
		return rs, nil
	}
	bareRs, err := measure("bare window", bare, "")
	if err != nil {
		return err
	}
	smallRs, err := measure(fmt.Sprintf("upshot, %d items", items), upshot, small)
	if err != nil {
		return err
	}
	bigRs, err := measure("upshot, 10,000 items", upshot, big)
	if err != nil {
		return err
	}
	b, s, g := median(bareRs), median(smallRs), median(bigRs)
	fmt.Printf("Upshot window vs a bare Fyne window, Xvfb, median of %d runs, %v idle before reading RSS\n\n", runs, idle)
	fmt.Printf("| binary | start → window shown | RSS idle |\n|---|---|---|\n")
	fmt.Printf("| bare Fyne window | %v | %.1f MB |\n", b.shown.Round(time.Millisecond), mb(b.rss))
	fmt.Printf("| upshot, %d history items | %v | %.1f MB |\n", items, s.shown.Round(time.Millisecond), mb(s.rss))
	fmt.Printf("| upshot, 10,000 history items | %v | %.1f MB |\n", g.shown.Round(time.Millisecond), mb(g.rss))
	fmt.Printf("\nRSS ratio, upshot with %d items / bare: %.2f× (target ≤ 1.30×)\n", items, float64(s.rss)/float64(b.rss))
	return nil
}

func mb(n int64) float64 { return float64(n) / 1e6 }

// median picks the run with the median start-up, and the median RSS.
func median(rs []result) result {
	shown := make([]time.Duration, len(rs))
	rss := make([]int64, len(rs))
	for i, r := range rs {
		shown[i], rss[i] = r.shown, r.rss
	}
	slices.Sort(shown)
	slices.Sort(rss)
	return result{shown: shown[len(shown)/2], rss: rss[len(rss)/2]}
}

// seed makes a data dir with a config and n uploads in the history.
func seed(ctx context.Context, dir string, n int) (string, error) {
	data := filepath.Join(dir, "data")
	st, err := store.Open(ctx, filepath.Join(data, "upshot.db"))
	if err != nil {
		return "", err
	}
	defer st.Close()
	t0 := time.Now().Add(-time.Duration(n) * time.Minute)
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Minute)
		name := "Screenshot " + at.Format("2006-01-02 at 15.04.05") + ".png"
		j, err := st.Begin(ctx, filepath.Join(dir, name), int64(1000+i), at, store.SourceWatch)
		if err != nil {
			return "", err
		}
		_, err = st.Complete(ctx, j.ID, store.Entry{Key: "2026/11/" + name, URL: "https://img.example.com/2026/11/" + strings.ReplaceAll(name, " ", "%20"),
			SHA1: fmt.Sprintf("%040x", i+1), Size: int64(1000 + i), ContentType: "image/png", Time: at})
		if err != nil {
			return "", err
		}
	}
	// Nothing listens on port 9: the idle window makes no requests anyway.
	cfg := "[target]\nendpoint = \"http://127.0.0.1:9\"\nbucket = \"bench\"\nkey_id = \"bench\"\nkey = \"bench-secret\"\n"
	return data, os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg), 0o600)
}

// launch starts bin, waits for its window, lets it idle, and reads its RSS.
func launch(bin, display, dir, data string, idle time.Duration) (result, error) {
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "WAYLAND_DISPLAY=", "LANG=C.UTF-8",
		"XDG_CONFIG_HOME="+filepath.Join(dir, "xdg"), "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(dir, "no-bus"),
		"B2_APPLICATION_KEY_ID=", "B2_APPLICATION_KEY=")
	if data != "" {
		cmd.Env = append(cmd.Env, "UPSHOT_DATA_DIR="+data, "UPSHOT_CONFIG="+filepath.Join(filepath.Dir(data), "config.toml"))
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	// The bare window says "shown"; Upshot's says so to whoever asks
	// (upshot status) as soon as it is: one request, answered then.
	shown := make(chan time.Duration, 1)
	if data == "" {
		go func() {
			defer close(shown)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "shown ") {
					shown <- time.Since(start)
				}
			}
		}()
	} else {
		go func() {
			_, _ = io.Copy(io.Discard, out)
		}()
		go func() {
			defer close(shown)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			for ctx.Err() == nil {
				// Once the app listens, one request that it answers
				// when its window is up; before, nobody to ask yet.
				st, err := core.Reach(data).WaitReady(ctx)
				if err == nil && st.Ready {
					shown <- time.Since(start)
					return
				}
				if !errors.Is(err, core.ErrNotRunning) {
					return
				}
				time.Sleep(2 * time.Millisecond) // the app has not made its socket yet
			}
		}()
	}
	var r result
	select {
	case d, ok := <-shown:
		if !ok {
			return result{}, errors.New("exited before its window showed")
		}
		r.shown = d
	case <-time.After(60 * time.Second):
		return result{}, errors.New("no window within a minute")
	}
	time.Sleep(idle) // the measurement: memory after idling, not a synchronisation
	r.rss, err = rss(cmd.Process.Pid)
	return r, err
}

// rss reads a process's resident set size from /proc.
func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}
