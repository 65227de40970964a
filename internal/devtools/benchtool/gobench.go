package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// goBench is one Go benchmark's results over its -count runs.
type goBench struct {
	name    string
	metrics map[string][]float64 // unit ("ns/op", "MB/s", "B/op", …) → one value per run
}

// goBenchSet keeps benchmarks in the order they first appear.
type goBenchSet struct {
	benches []*goBench
}

// get finds a benchmark by name (without the -GOMAXPROCS suffix).
func (s *goBenchSet) get(name string) *goBench {
	if s == nil {
		return nil
	}
	for _, b := range s.benches {
		if b.name == name {
			return b
		}
	}
	return nil
}

// median of one unit, and whether the benchmark reported it.
func (b *goBench) median(unit string) (float64, bool) {
	if b == nil || len(b.metrics[unit]) == 0 {
		return 0, false
	}
	return summarize(b.metrics[unit]).med, true
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// readGoBench parses the text output of `go test -bench`.
func readGoBench(path string) (*goBenchSet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read Go benchmark output: %w (run `go test -bench . ./uploader/ | tee FILE` first)", err)
	}
	defer f.Close()
	set := &goBenchSet{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, metrics, ok := parseBenchLine(sc.Text())
		if !ok {
			continue
		}
		b := set.get(name)
		if b == nil {
			b = &goBench{name: name, metrics: map[string][]float64{}}
			set.benches = append(set.benches, b)
		}
		for unit, v := range metrics {
			b.metrics[unit] = append(b.metrics[unit], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(set.benches) == 0 {
		return nil, fmt.Errorf("%s holds no benchmark results", path)
	}
	return set, nil
}

// parseBenchLine reads "BenchmarkX/y-2  10  123 ns/op  45.6 MB/s …".
func parseBenchLine(line string) (name string, metrics map[string]float64, ok bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
		return "", nil, false
	}
	if _, err := strconv.Atoi(f[1]); err != nil {
		return "", nil, false
	}
	metrics = map[string]float64{}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return "", nil, false
		}
		metrics[f[i+1]] = v
	}
	return procsSuffix.ReplaceAllString(f[0], ""), metrics, true
}
