package matching

import (
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/topics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func articleEvent(t *testing.T, a events.Article) []byte {
	t.Helper()
	b, err := events.EncodeArticle(a)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDeriverMatchesAndReloads(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	reg := prometheus.NewRegistry()
	d, err := NewDeriver([]topics.Topic{{ID: "dprk", Query: "pyongyang AND moscow"}, {ID: "cafe", Query: "cafe"}}, reg, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	a := events.Article{ID: "a1", FeedID: "wire", URL: "https://x/a1", Title: "Pyongyang and Moscow talk",
		Summary: "Envoys met.", PublishedAt: now, FirstSeenAt: now}
	outs, err := d.Handle(articleEvent(t, a), 42)
	if err != nil || len(outs) != 1 {
		t.Fatalf("Handle = %+v, %v", outs, err)
	}
	m, err := events.ParseMatch(outs[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	if m.Topic != "dprk" || m.ArticleSeq != 42 || m.QueryVersion != topics.Version("pyongyang AND moscow") ||
		len(m.Matched) != 2 || m.Matched[0].Field != "title" || outs[0].Subject != "newswatch.matches.dprk" || outs[0].MsgID != m.ID() {
		t.Errorf("match = %+v, out = %+v", m, outs[0])
	}
	if got := testutil.ToFloat64(d.matches.WithLabelValues("dprk")); got != 1 {
		t.Errorf("topic_matches_total = %v", got)
	}
	// A broken reload keeps the old topics; a good one replaces them.
	if err := d.Update([]topics.Topic{{ID: "x", Query: "a AND ("}}); err == nil {
		t.Fatal("broken topics accepted")
	}
	if outs, _ := d.Handle(articleEvent(t, a), 43); len(outs) != 1 {
		t.Errorf("after a rejected reload: %d matches", len(outs))
	}
	if err := d.Update([]topics.Topic{{ID: "talks", Query: "talk*"}}); err != nil {
		t.Fatal(err)
	}
	outs, _ = d.Handle(articleEvent(t, a), 44)
	if len(outs) != 1 || outs[0].Subject != "newswatch.matches.talks" {
		t.Errorf("after reload: %+v", outs)
	}
	if _, err := d.Handle([]byte(`{"type":"newswatch.poll"}`), 45); err == nil {
		t.Error("Handle accepted a non-article event")
	}
}

func TestSnippet(t *testing.T) {
	if got := snippet("short text", 300); got != "short text" {
		t.Errorf("snippet = %q", got)
	}
	long := "alpha beta gamma delta epsilon"
	if got := snippet(long, 12); got != "alpha beta…" {
		t.Errorf("snippet = %q", got)
	}
}
