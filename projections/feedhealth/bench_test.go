package feedhealth

import (
	"fmt"
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
)

// pollEvents returns one encoded 304 poll event for each of n feeds.
func pollEvents(b *testing.B, n int) [][]byte {
	b.Helper()
	out := make([][]byte, n)
	for i := range out {
		d, err := events.EncodePoll(events.Poll{
			FeedID: fmt.Sprintf("feed-%05d", i), URL: fmt.Sprintf("http://127.0.1.%d:8080/feeds/%05d.xml", i%100, i),
			Result: events.ResultNotModified, FinishedAt: time.Now(), ETag: `"v1"`, LastModified: "Thu, 03 Dec 2026 19:00:00 GMT",
		})
		if err != nil {
			b.Fatal(err)
		}
		out[i] = d
	}
	return out
}

// BenchmarkApply folds poll events of 10,000 feeds: what a restart re-applies per event after
// the last snapshot (docs/architecture.md, "Projections").
func BenchmarkApply(b *testing.B) {
	polls := pollEvents(b, 10_000)
	p := New()
	i := 0
	for b.Loop() {
		if err := p.Apply(polls[i%len(polls)], uint64(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSnapshot encodes the health of 10,000 feeds, what each save of the projection costs
// before it is written.
func BenchmarkSnapshot(b *testing.B) {
	p := New()
	for i, d := range pollEvents(b, 10_000) {
		if err := p.Apply(d, uint64(i)); err != nil {
			b.Fatal(err)
		}
	}
	var size int
	for b.Loop() {
		s, err := p.Snapshot()
		if err != nil {
			b.Fatal(err)
		}
		size = len(s)
	}
	b.ReportMetric(float64(size), "bytes/snapshot")
}
