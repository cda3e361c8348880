package stories

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
)

// foldDistinct folds n matches of one topic about n different events (no shared words), a
// minute apart, and returns them in the order they were folded.
func foldDistinct(t *testing.T, p *Projection, n int) []events.Match {
	t.Helper()
	t0 := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	var out []events.Match
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Minute)
		m := events.Match{Topic: "k", QueryVersion: "v1", ArticleID: fmt.Sprintf("a%03d", i),
			URL: fmt.Sprintf("https://o%d.example/%d", i%3, i), Source: fmt.Sprintf("o%d", i%3),
			Title: fmt.Sprintf("w%da w%db w%dc", i, i, i), PublishedAt: at, FirstSeenAt: at, MatchedAt: at}
		msg, err := events.MatchMessage(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Apply(msg.Data, uint64(i+1)); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// Paging lists every story once, newest first, and a story founded while paging does not
// shift the pages after it; a story lists all its articles, past MaxArticlesListed.
func TestPage(t *testing.T) {
	p := New()
	ms := foldDistinct(t, p, 23)
	var seen []string
	cursor := ""
	for pages := 1; ; pages++ {
		pg, err := p.Page("k", cursor, 5)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range pg.Stories {
			seen = append(seen, s.FirstReport.ID)
		}
		if pg.NextCursor == "" {
			if pages != 5 {
				t.Errorf("%d pages, want 5", pages)
			}
			break
		}
		if pages == 2 {
			at := ms[len(ms)-1].PublishedAt.Add(time.Hour)
			late := events.Match{Topic: "k", QueryVersion: "v1", ArticleID: "late", URL: "https://late.example/1", Source: "late",
				Title: "zz1 zz2 zz3", PublishedAt: at, FirstSeenAt: at, MatchedAt: at}
			msg, _ := events.MatchMessage(late)
			if err := p.Apply(msg.Data, 1000); err != nil {
				t.Fatal(err)
			}
		}
		cursor = pg.NextCursor
	}
	if len(seen) != len(ms) {
		t.Fatalf("listed %d stories, want %d: %v", len(seen), len(ms), seen)
	}
	for i, id := range seen {
		if want := ms[len(ms)-1-i].ArticleID; id != want {
			t.Fatalf("story %d is %s, want %s (newest first)", i, id, want)
		}
	}
	if pg, err := p.Page("nope", "", 0); err != nil || len(pg.Stories) != 0 || pg.NextCursor != "" {
		t.Errorf("unknown topic: %+v %v", pg, err)
	}
	if _, err := p.Page("k", "12.not-a-story", 5); !errors.Is(err, ErrCursor) {
		t.Errorf("bad cursor: %v", err)
	}

	// One story of more than MaxArticlesListed articles: copies of one report.
	q := New()
	t0 := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	for i := range MaxArticlesListed + 10 {
		at := t0.Add(time.Duration(i) * time.Second)
		m := events.Match{Topic: "k", QueryVersion: "v1", ArticleID: fmt.Sprintf("c%03d", i), URL: fmt.Sprintf("https://c.example/%d", i),
			Source: fmt.Sprintf("o%d", i), Title: "Storm floods the northern coast", Summary: "Rivers burst their banks after three days of rain, officials said.",
			PublishedAt: at, FirstSeenAt: at, MatchedAt: at}
		msg, _ := events.MatchMessage(m)
		if err := q.Apply(msg.Data, uint64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	pg, _ := q.Page("k", "", 0)
	if len(pg.Stories) != 1 || len(pg.Stories[0].Articles) != MaxArticlesListed+10 || pg.Stories[0].ArticleCount != MaxArticlesListed+10 {
		t.Fatalf("a big story: %d stories, %+v", len(pg.Stories), pg.Stories)
	}
	s, ok := q.Story("k", pg.Stories[0].ID)
	if !ok || len(s.Articles) != MaxArticlesListed+10 {
		t.Errorf("Story: %v %d articles", ok, len(s.Articles))
	}
	if sum := q.Stories("k", 0); len(sum[0].Articles) != MaxArticlesListed {
		t.Errorf("the summary lists %d articles, want %d", len(sum[0].Articles), MaxArticlesListed)
	}
	m, ok := q.Membership("k", "c001")
	if !ok || m.StoryID != s.ID || m.Matched != "c000" || !m.Copy || m.Similarity < 0.9 {
		t.Errorf("membership of a copy: %+v", m)
	}
	if m, _ := q.Membership("k", "c000"); m.Matched != "" || m.Copy {
		t.Errorf("membership of the founding article: %+v", m)
	}
}
