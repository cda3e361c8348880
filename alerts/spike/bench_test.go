package spike

import (
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
)

func TestObservationOf(t *testing.T) {
	pub := t0.Add(time.Hour)
	o := ObservationOf(events.Match{
		Topic: "t", ArticleID: "a", Source: "s", URL: "u", Title: "T", Summary: "S",
		PublishedAt: pub, FirstSeenAt: t0, // post-dated by the feed: first seen counts
		Matched: []events.MatchedTerm{{Term: "kursk", Field: "title"}, {Term: "kursk", Field: "summary"}, {Term: "troops", Field: "title"}},
	})
	if !o.At.Equal(t0) || len(o.Terms) != 2 || o.Title != "T" || o.Summary != "S" || o.URL != "u" {
		t.Errorf("%+v", o)
	}
}

// BenchmarkObserveCheck measures a busy topic (30 stories an hour, a month of history):
// one match observed and the topic checked, as the daemon does after every match.
func BenchmarkObserveCheck(b *testing.B) {
	s := newSeries(1, 20)
	end := t0.Add(30 * 24 * time.Hour)
	d := detector(b)
	for _, o := range s.poisson(t0, end, 30, flat(30)) {
		d.Observe(o)
	}
	d.Check(end)
	now := end
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(2 * time.Minute)
		d.Observe(s.story(now, s.sources[s.n%len(s.sources)]))
		d.Check(now)
	}
	if snap, err := d.Snapshot(); err == nil {
		// What the daemon saves per busy topic (over 512 KiB, to the snapshot object store).
		b.ReportMetric(float64(len(snap)), "snapshot_bytes")
	}
}
