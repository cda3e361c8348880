package summaries

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func match(topic, id, source string, published time.Time) events.Match {
	return events.Match{
		Topic: topic, QueryVersion: "v1", ArticleID: id, URL: "https://example.org/" + id, Title: "T " + id,
		Source: source, PublishedAt: published, FirstSeenAt: published, MatchedAt: published,
		Matched: []events.MatchedTerm{{Term: "x", Field: "title"}},
	}
}

func envelope(t testing.TB, m events.Match) []byte {
	t.Helper()
	out, err := events.MatchMessage(m)
	if err != nil {
		t.Fatal(err)
	}
	return out.Data
}

func TestSummaryCountsWindowsAndSources(t *testing.T) {
	p := New()
	for i, age := range []time.Duration{10 * time.Minute, 2 * time.Hour, 30 * time.Hour, 10 * 24 * time.Hour} {
		src := "a"
		if i%2 == 1 {
			src = "b"
		}
		if err := p.Apply(envelope(t, match("k", fmt.Sprint(i), src, t0.Add(-age))), uint64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	// The same article again (another query version) is not counted twice.
	again := match("k", "0", "a", t0.Add(-10*time.Minute))
	again.QueryVersion = "v2"
	if err := p.Apply(envelope(t, again), 9); err != nil {
		t.Fatal(err)
	}
	s := p.Get("k", "Topic K", t0)
	if s.ArticleCount != 4 {
		t.Errorf("article_count = %d, want 4", s.ArticleCount)
	}
	if (s.Counts != Counts{Hour: 1, Day: 2, Week: 3}) {
		t.Errorf("counts = %+v, want 1/2/3", s.Counts)
	}
	if len(s.Sources) != 2 || s.Sources[0] != (SourceCount{"a", 2}) || s.Sources[1] != (SourceCount{"b", 2}) {
		t.Errorf("sources = %+v", s.Sources)
	}
	if len(s.Latest) != 4 || s.Latest[0].ID != "0" || s.Latest[3].ID != "3" {
		t.Errorf("latest = %+v", s.Latest)
	}
	if empty := p.Get("none", "None", t0); empty.ArticleCount != 0 || empty.Latest == nil || empty.Sources == nil {
		t.Errorf("empty summary = %+v", empty)
	}
}

func TestLatestKeepsNewestTwenty(t *testing.T) {
	p := New()
	for i := range 50 {
		p.add(match("k", fmt.Sprintf("%02d", i), "a", t0.Add(time.Duration(i*7%50)*time.Minute)))
	}
	s := p.Get("k", "", t0)
	if len(s.Latest) != latestKept {
		t.Fatalf("latest has %d, want %d", len(s.Latest), latestKept)
	}
	for i := 1; i < len(s.Latest); i++ {
		if s.Latest[i].PublishedAt.After(s.Latest[i-1].PublishedAt) {
			t.Fatalf("latest not newest first at %d: %+v", i, s.Latest)
		}
	}
	if want := t0.Add(49 * time.Minute); !s.Latest[0].PublishedAt.Equal(want) {
		t.Errorf("newest = %v, want %v", s.Latest[0].PublishedAt, want)
	}
}

func TestPostDatedArticleCountsWhenSeen(t *testing.T) {
	p := New()
	m := match("k", "future", "a", t0.Add(48*time.Hour))
	m.FirstSeenAt = t0.Add(-time.Minute)
	p.add(m)
	if s := p.Get("k", "", t0); s.Counts.Hour != 1 || !s.Latest[0].PublishedAt.Equal(m.FirstSeenAt) {
		t.Errorf("post-dated article: %+v", s)
	}
}

func TestSnapshotRestoreIsExact(t *testing.T) {
	p := New()
	for i := range 100 {
		p.add(match(fmt.Sprintf("t%d", i%3), fmt.Sprint(i), fmt.Sprintf("s%d", i%7), t0.Add(-time.Duration(i)*time.Hour)))
	}
	snap, err := p.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	q := New()
	if err := q.Restore(snap); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"t0", "t1", "t2"} {
		if a, b := p.Get(id, "", t0), q.Get(id, "", t0); !reflect.DeepEqual(a, b) {
			t.Errorf("%s differs after restore:\n%+v\n%+v", id, a, b)
		}
	}
	// Continuing after a restore gives the same state as never stopping.
	next := match("t1", "new", "s1", t0)
	p.add(next)
	q.add(next)
	a, _ := p.Snapshot()
	b, _ := q.Snapshot()
	var ma, mb map[string]any
	_ = json.Unmarshal(a, &ma)
	_ = json.Unmarshal(b, &mb)
	if !reflect.DeepEqual(ma, mb) {
		t.Error("state after restore+apply differs from uninterrupted state")
	}
	if err := q.Restore([]byte("{broken")); err == nil {
		t.Error("Restore accepted a broken snapshot")
	}
}

func TestApplyRejectsOtherEvents(t *testing.T) {
	p := events.Poll{FeedID: "k", StartedAt: t0, FinishedAt: t0, Result: "ok"}
	data, err := events.EncodePoll(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := New().Apply(data, 1); err == nil {
		t.Error("Apply accepted a poll event")
	}
}
