package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// BenchmarkPollToAlert measures the time from the end of a poll (its articles stored) to the
// alert being on NATS, with 100 topics configured and one new matching story per poll.
func BenchmarkPollToAlert(b *testing.B) {
	fs := newFeedServer(b)
	var y strings.Builder
	y.WriteString("topics:\n")
	for i := range 100 {
		fmt.Fprintf(&y, "  - {id: topic-%d, name: Topic %d, query: 'word%d AND (alpha OR beta) NOT gamma'}\n", i, i, i)
	}
	y.WriteString("  - {id: hot, name: Hot, query: 'pyongyang AND moscow'}\nalerts:\n  - {topic: hot, kind: match}\n")
	for i := range 100 {
		fmt.Fprintf(&y, "  - {topic: topic-%d, kind: match}\n", i)
	}
	cfg := testConfig(b, b.TempDir(), fs.srv.URL, y.String())
	r := startApp(b, cfg)
	nc := r.app.conn.NC
	got := make(chan time.Time, 16)
	sub, err := nc.Subscribe("newswatch.alerts.hot", func(*nats.Msg) { got <- time.Now() })
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Unsubscribe()
	var lat []time.Duration
	n := 0
	rng := rand.New(rand.NewPCG(1, 1))
	for b.Loop() {
		n++
		// A new, distinct story each poll: other words than the last ones, so that neither the
		// stories projection nor the copy detector folds it into an earlier story.
		fs.set("/wire.xml", rss("Wire", item{"Pyongyang and Moscow: " + headline(rng),
			fmt.Sprintf("https://news.example.com/s%d", n), headline(rng) + " " + headline(rng)}))
		p, err := r.app.poller.PollNow(b.Context(), "wire")
		if err != nil || p.New != 1 {
			b.Fatalf("poll: %+v %v", p, err)
		}
		end := time.Now()
		select {
		case at := <-got:
			lat = append(lat, at.Sub(end))
		case <-time.After(10 * time.Second):
			b.Fatal("no alert")
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
}
