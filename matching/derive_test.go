package matching

import (
	"sync"
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
	d, err := NewDeriver([]topics.Topic{{ID: "dprk", Query: "pyongyang AND moscow"}, {ID: "cafe", Query: "cafe"}}, nil, reg, func() time.Time { return now })
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

// A tag: topic holds for an article whose feed has the tag at the moment it is matched: the
// lookup is asked per article, so a tag given to a feed later applies to later articles.
func TestDeriverFeedTags(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	tags := map[string][]string{"wire": {"world"}}
	lookup := func(feed string) []string {
		mu.Lock()
		defer mu.Unlock()
		return tags[feed]
	}
	d, err := NewDeriver([]topics.Topic{{ID: "world-korea", Query: "tag:world AND (korea OR dprk)"}, {ID: "no-sport", Query: "korea NOT tag:sport"}},
		lookup, prometheus.NewRegistry(), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	topicsOf := func(feed string, seq uint64) []string {
		t.Helper()
		a := events.Article{ID: "a" + feed, FeedID: feed, URL: "https://x/" + feed, Title: "Korea talks", PublishedAt: now, FirstSeenAt: now}
		outs, err := d.Handle(articleEvent(t, a), seq)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range outs {
			m, err := events.ParseMatch(o.Data)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, m.Topic)
		}
		return got
	}
	if got := topicsOf("wire", 1); len(got) != 2 || got[0] != "no-sport" || got[1] != "world-korea" {
		t.Errorf("tagged feed: %v, want [no-sport world-korea]", got)
	}
	if got := topicsOf("blog", 2); len(got) != 1 || got[0] != "no-sport" {
		t.Errorf("untagged feed: %v, want [no-sport]", got)
	}
	mu.Lock()
	tags["blog"] = []string{"world", "sport"}
	mu.Unlock()
	if got := topicsOf("blog", 3); len(got) != 1 || got[0] != "world-korea" {
		t.Errorf("after tagging the feed: %v, want [world-korea]", got)
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
