package uploader

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"io"
	"testing"
)

// Benchmarks for the CPU-bound parts of an upload: the one-pass hashing of a
// file and the key and URL work done per file. None of them needs a server;
// cmd/upshot's benchmarks measure the end-to-end path against versitygw.
//
// Run them with: go test -run '^$' -bench . -benchmem ./uploader/

// benchSize is the size of the in-memory file hashed by the benchmarks.
const benchSize = 64 << 20

// benchData returns benchSize random bytes, made once per benchmark.
func benchData(b *testing.B) []byte {
	b.Helper()
	buf := make([]byte, benchSize)
	if _, err := rand.Read(buf); err != nil {
		b.Fatal(err)
	}
	return buf
}

// BenchmarkHashFile measures hashFile, the single read pass that computes
// SHA1 and MD5 on two goroutines: whole-file SHA1+MD5 for a single PUT, and
// whole SHA1 plus per-part SHA1/MD5 for multipart, over 64 MiB; and a
// 200 KB file, the size of a screenshot, where the per-call set-up (its
// B/op) matters more than the hashing.
func BenchmarkHashFile(b *testing.B) {
	data := benchData(b)
	for _, bc := range []struct {
		name     string
		size     int64
		partSize int64
	}{
		{"single", benchSize, 0},
		{"multipart16MiB", benchSize, 16 << 20},
		{"small200KB", 200_000, 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := bytes.NewReader(data[:bc.size])
			b.SetBytes(bc.size)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := hashFile(b.Context(), r, bc.size, bc.partSize); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHashSequentialBaseline is the straightforward one-goroutine pass
// (io.Copy into io.MultiWriter(sha1, md5)) that hashFile is measured
// against: its time is the sum of both hashes.
func BenchmarkHashSequentialBaseline(b *testing.B) {
	data := benchData(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		s, m := sha1.New(), md5.New()
		if _, err := io.Copy(io.MultiWriter(s, m), bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
		s.Sum(nil)
		m.Sum(nil)
	}
}

// BenchmarkSHA1Only is the lower bound for any pass that needs SHA1.
func BenchmarkSHA1Only(b *testing.B) {
	benchOneHash(b, func() io.Writer { return sha1.New() })
}

// BenchmarkMD5Only is the MD5 half of the pass, for comparison.
func BenchmarkMD5Only(b *testing.B) {
	benchOneHash(b, func() io.Writer { return md5.New() })
}

func benchOneHash(b *testing.B, newHash func() io.Writer) {
	data := benchData(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := io.Copy(newHash(), bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderKey measures making one object key, per template shape.
func BenchmarkRenderKey(b *testing.B) {
	for _, bc := range []struct{ name, tmpl, file string }{
		{"default", DefaultPathTemplate, "Screenshot 2026-11-22 at 10.15.00.png"},
		{"sha1", "blog/{sha1:8}{ext}", "shot.png"},
		{"random", "{year}/{month}/{day}/{random:6}-{name}{ext}", "shot.png"},
		{"unicode", DefaultPathTemplate, "e\u0301t\u00e9 \u05e9\u05dc\u05d5\u05dd \U0001F469\u200D\U0001F4BB.png"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			t, err := ParseKeyTemplate(bc.tmpl)
			if err != nil {
				b.Fatal(err)
			}
			in := KeyInput{FileName: bc.file, Time: sampleTime, SHA1: sha1.Sum([]byte(bc.file))}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := t.Render(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEscapeKey measures the per-segment URL escaping of a key.
func BenchmarkEscapeKey(b *testing.B) {
	for _, bc := range []struct{ name, key string }{
		{"plain", "2026/11/screenshot-2026-11-22.png"},
		{"escaped", "2026/11/Screenshot 2026-11-22 at 10.15.00 (1)+é.png"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.key)))
			b.ReportAllocs()
			for b.Loop() {
				_ = EscapeKey(bc.key)
			}
		})
	}
}
