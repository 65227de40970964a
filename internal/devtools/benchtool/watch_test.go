package main

import (
	"bytes"
	"io"
	"testing"

	"upshot/internal/metastrip"
)

// The burst and rename files must look like clean screenshots to Upshot's
// metadata stripping: parsed without error, nothing removed.
func TestPNGLikeParsesAsCleanPNG(t *testing.T) {
	for _, size := range []int64{58, 2000, 1_000_000} {
		data := pngLike(size, uint64(size))
		if int64(len(data)) != size {
			t.Fatalf("pngLike(%d) made %d bytes", size, len(data))
		}
		if got := metastrip.Detect(data[:16]); got == "" {
			t.Fatalf("pngLike(%d) is not detected as an image", size)
		}
		res, err := metastrip.Strip(io.Discard, bytes.NewReader(data))
		if err != nil {
			t.Fatalf("pngLike(%d): %v", size, err)
		}
		if res.Changed {
			t.Fatalf("pngLike(%d): stripping changed it: %+v", size, res)
		}
	}
	if bytes.Equal(pngLike(2000, 1), pngLike(2000, 2)) {
		t.Fatal("different seeds gave the same content")
	}
}

func TestPercentile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3}
	for _, c := range []struct{ p, want float64 }{{0, 1}, {50, 3}, {100, 5}, {25, 2}, {90, 4.6}} {
		if got := percentile(xs, c.p); got < c.want-1e-9 || got > c.want+1e-9 {
			t.Errorf("percentile(%v) = %v, want %v", c.p, got, c.want)
		}
	}
	if percentile(nil, 50) != 0 {
		t.Error("percentile of nothing is not 0")
	}
}

func TestOnlySkipsTheOtherGroups(t *testing.T) {
	o, err := parseFlags([]string{"-only", "watch"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		if o.skip[g] == (g == "watch") {
			t.Errorf("group %s: skip = %v", g, o.skip[g])
		}
	}
	if _, err := parseFlags([]string{"-only", "wach"}, io.Discard); err == nil {
		t.Error("-only with an unknown group was accepted")
	}
}
