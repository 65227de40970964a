package store

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkEnqueueClaimComplete runs one job through its whole life per
// iteration: three write transactions.
func BenchmarkEnqueueClaimComplete(b *testing.B) {
	s, _ := openTest(b)
	ctx := b.Context()
	n := 0
	for b.Loop() {
		j, err := s.Enqueue(ctx, fmt.Sprintf("/shots/%08d.png", n), int64(n), time.Unix(int64(n), 0), SourceWatch)
		if err != nil {
			b.Fatal(err)
		}
		if _, ok, err := s.Claim(ctx, time.Now()); !ok || err != nil {
			b.Fatalf("Claim: %v, %v", ok, err)
		}
		if _, err := s.Complete(ctx, j.ID, entryFor(n)); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "jobs/s")
}

// BenchmarkHistoryFirstPage reads the first page of 50 over 10,000 entries.
func BenchmarkHistoryFirstPage(b *testing.B) {
	s, _ := openTest(b)
	fillHistory(b, s, 10_000)
	for _, search := range []string{"", "screenshot", "receipt", "no such file"} {
		b.Run(fmt.Sprintf("search=%q", search), func(b *testing.B) {
			ctx := b.Context()
			for b.Loop() {
				if _, err := s.History(ctx, Query{Search: search, Limit: 50}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHistorySearch10k runs the history searches of the window's
// search box over 10,000 uploads, one page of 50.
//
//	go test -run '^$' -bench HistorySearch10k ./internal/store/
func BenchmarkHistorySearch10k(b *testing.B) {
	s, _ := openTest(b)
	fillHistory(b, s, 10_000)
	for _, tc := range historySearches {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.History(b.Context(), Query{Search: tc.search, Limit: 50}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
