package uploader

import (
	"fmt"
	"testing"
)

// BenchmarkUploadByEndpoint uploads 200 KB files, one at a time, on
// loopback to the two kinds of endpoint: one with conditional writes
// (versitygw behind a recording proxy: PUT with If-None-Match, then a
// confirming HEAD) and one that answers as B2 does (no conditional writes,
// versions kept: HEAD, PUT, a version listing and a confirming HEAD). It
// reports the requests each upload makes and the time per upload (ns/op).
//
//	go test -run '^$' -bench UploadByEndpoint -count 5 ./uploader/
func BenchmarkUploadByEndpoint(b *testing.B) {
	for _, bc := range []struct {
		name string
		o    envOptions
	}{
		{"conditional", envOptions{proxy: true}},
		{"b2-like", envOptions{b2: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := newEnv(b, bc.o)
			dir := b.TempDir()
			data := make([]byte, 200_000)
			// Learn the endpoint (the one-time probe) outside the timing.
			if r := e.up.Check(b.Context()); r.Failed() {
				b.Fatal(r.Findings)
			}
			paths := make([]string, 0, 64)
			for i := range cap(paths) {
				data[0], data[1] = byte(i), byte(i>>8)
				paths = append(paths, writeFile(b, dir, fmt.Sprintf("f%d.png", i), data))
			}
			e.proxy.Reset()
			n := 0
			for b.Loop() {
				// Each upload is new content under a new name.
				p := paths[n%len(paths)]
				if n >= len(paths) {
					data[0], data[1], data[2] = byte(n), byte(n>>8), byte(n>>16)
					p = writeFile(b, dir, fmt.Sprintf("f%d.png", n), data)
				}
				n++
				res, err := e.up.Upload(b.Context(), Request{Path: p})
				if err != nil || res.Deduplicated {
					b.Fatalf("upload %d: %+v, %v", n, res, err)
				}
			}
			b.ReportMetric(float64(len(e.proxy.Requests()))/float64(n), "requests/upload")
		})
	}
}
