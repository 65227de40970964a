package watcher

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// latencyBench writes files one at a time, each finished by finish (a rename
// or a close), and reports how long each took from finish to its event.
func latencyBench(b *testing.B, finish func(b *testing.B, dir, outside, name string, data []byte) time.Time) {
	const files = 200
	h := start(b, Options{})
	data := content("bench", 100<<10)
	var lat []time.Duration
	n := 0
	for b.Loop() {
		for range files {
			n++
			name := fmt.Sprintf("f-%06d.png", n)
			path := filepath.Join(h.dir, name)
			t0 := finish(b, h.dir, h.outside, name, data)
			for {
				select {
				case ev := <-h.w.Events():
					if ev.Path != path {
						continue
					}
					lat = append(lat, time.Since(t0))
				case <-time.After(waitLimit):
					b.Fatalf("no event for %s", path)
				}
				break
			}
		}
	}
	slices.Sort(lat)
	ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / 1e6 }
	b.ReportMetric(ms(0.5), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkRenameToEmit: a hidden temp file renamed to its final name, as
// the macOS screenshot tool and sync tools do.
func BenchmarkRenameToEmit(b *testing.B) {
	latencyBench(b, func(b *testing.B, dir, _, name string, data []byte) time.Time {
		tmp := filepath.Join(dir, "."+name+".XYZ")
		must(b, os.WriteFile(tmp, data, 0o644))
		t0 := time.Now()
		must(b, os.Rename(tmp, filepath.Join(dir, name)))
		return t0
	})
}

// BenchmarkCloseToEmit: a file written in place; the clock starts at Close.
func BenchmarkCloseToEmit(b *testing.B) {
	latencyBench(b, func(b *testing.B, dir, _, name string, data []byte) time.Time {
		f, err := os.Create(filepath.Join(dir, name))
		must(b, err)
		_, err = f.Write(data)
		must(b, err)
		t0 := time.Now()
		must(b, f.Close())
		return t0
	})
}

// BenchmarkBurst writes 1,000 small files as fast as possible and reports
// how many files per second come out, all of them.
func BenchmarkBurst(b *testing.B) {
	const files = 1000
	h := start(b, Options{})
	round := 0
	for b.Loop() {
		round++
		paths := make([]string, files)
		want := make(map[string]bool, files)
		for i := range paths {
			paths[i] = filepath.Join(h.dir, fmt.Sprintf("r%d-%04d.png", round, i))
			want[paths[i]] = true
		}
		go func() {
			for _, p := range paths {
				if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
					b.Error(err)
					return
				}
			}
		}()
		for len(want) > 0 {
			select {
			case ev := <-h.w.Events():
				delete(want, ev.Path)
			case <-time.After(waitLimit):
				b.Fatalf("%d files missing", len(want))
			}
		}
	}
	b.ReportMetric(float64(files*b.N)/b.Elapsed().Seconds(), "files/s")
}
