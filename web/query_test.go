package web

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/newswatch/newswatch/alerts/spike"
	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/projections/alertlog"
	"github.com/newswatch/newswatch/projections/stories"
	"github.com/newswatch/newswatch/projections/summaries"
)

// articleLog is an article stream in memory, in the order stored.
type articleLog struct{ events [][]byte }

func (l *articleLog) SeqBefore(_ context.Context, _ string, _ []string, _ time.Time) (uint64, error) {
	return 0, nil
}

func (l *articleLog) Read(_ context.Context, _ string, _ []string, from uint64, fn func([]byte, uint64) error) error {
	for i := max(from, 1); i <= uint64(len(l.events)); i++ {
		if err := fn(l.events[i-1], i); err != nil {
			return err
		}
	}
	return nil
}

func (l *articleLog) add(t *testing.T, a events.Article) {
	t.Helper()
	b, err := events.EncodeArticle(a)
	if err != nil {
		t.Fatal(err)
	}
	l.events = append(l.events, b)
}

// The query tester counts what the edited and the current query match among the articles of
// the chosen days, lists the newly caught and lost ones with the terms and fields that
// matched, and offers the YAML; articles older than the window do not count.
func TestQueryTester(t *testing.T) {
	log := &articleLog{}
	log.add(t, events.Article{ID: "old", FeedID: "wire", Title: "Pyongyang troops old news", FirstSeenAt: now.Add(-5 * 24 * time.Hour), PublishedAt: now.Add(-5 * 24 * time.Hour)})
	for i, a := range []struct{ title, summary string }{
		{"Pyongyang sends troops to Moscow", ""},
		{"Troops drill near the border", "Pyongyang says"},
		{"Storm closes ports", ""},
		{"Kremlin hosts envoy", "Talks on troops"},
	} {
		log.add(t, events.Article{ID: fmt.Sprint("a", i), FeedID: "wire", URL: fmt.Sprint("https://x.example/", i), Title: a.title, Summary: a.summary,
			PublishedAt: now.Add(-time.Hour), FirstSeenAt: now.Add(-time.Duration(i) * time.Hour)})
	}
	// Polled concurrently, a feed's article may be stored after a later-seen one.
	log.add(t, events.Article{ID: "late", FeedID: "wire", Title: "Storm late entry", FirstSeenAt: now.Add(-2 * 24 * time.Hour), PublishedAt: now.Add(-2 * 24 * time.Hour)})
	cfg := &config.Config{Topics: []config.Topic{{ID: "dprk", Name: "DPRK", Query: "Pyongyang AND troops"}}}
	det, _ := spike.NewDetector(nil)
	h, err := New(Options{Config: func() *config.Config { return cfg }, Summaries: summaries.New(), Stories: stories.New(),
		Volume: detectorVolume{det}, Alerts: alertlog.New(), Feeds: noFeeds{}, Silences: silenceList{}, Articles: log,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	rec, body := get(t, h, "/query?topic=dprk&days=3&partial=1&q=troops+AND+NOT+storm", false)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	for _, want := range []string{`id="match-count">3<`, `id="current-count">2<`, `id="caught-count">+1<`, `id="lost-count">−0<`,
		`Kremlin hosts envoy`, `<mark>troops</mark> in summary`, "query: troops AND NOT storm", "of 5 stored articles"} {
		if !strings.Contains(body, want) {
			t.Errorf("query tester answer lacks %q:\n%s", want, body)
		}
	}
	_, body = get(t, h, "/query?topic=dprk&days=7&partial=1&q=storm", false)
	if !regexp.MustCompile(`id="match-count">2<[\s\S]*id="current-count">3<[\s\S]*−3<`).MatchString(body) {
		t.Errorf("with 7 days, the old article counts for the current query and is lost:\n%s", body)
	}
	_, body = get(t, h, "/query?topic=dprk&partial=1&q=%28troops", false)
	if !strings.Contains(body, "does not parse") || !strings.Contains(body, "column") {
		t.Errorf("a syntax error is not explained:\n%s", body)
	}
	_, body = get(t, h, "/search?q=storm&days=1", false)
	if !strings.Contains(body, `id="match-count">1<`) || !strings.Contains(body, "of 4 stored") || !strings.Contains(body, "<mark>Storm</mark> closes ports") {
		t.Errorf("search within one day does not find and highlight just the storm article of today:\n%s", body)
	}
	_, body = get(t, h, "/search?q=storm&days=3", false)
	if !strings.Contains(body, `id="match-count">2<`) || !strings.Contains(body, "<mark>Storm</mark> late entry") {
		t.Errorf("search over three days does not find the article stored out of order:\n%s", body)
	}
}

// The query tester reads tag: with the feeds' tags as the matcher does, and marks no word of
// the text for a tag.
func TestQueryTesterTags(t *testing.T) {
	log := &articleLog{}
	for i, feed := range []string{"wire", "blog", "wire"} {
		log.add(t, events.Article{ID: fmt.Sprint("a", i), FeedID: feed, URL: fmt.Sprint("https://x.example/", i), Title: fmt.Sprint("World storm ", i),
			PublishedAt: now.Add(-time.Hour), FirstSeenAt: now.Add(-time.Hour)})
	}
	cfg := &config.Config{Topics: []config.Topic{{ID: "storms", Name: "Storms", Query: "storm"}}}
	det, _ := spike.NewDetector(nil)
	h, err := New(Options{Config: func() *config.Config { return cfg }, Summaries: summaries.New(), Stories: stories.New(),
		Volume: detectorVolume{det}, Alerts: alertlog.New(), Feeds: noFeeds{}, Silences: silenceList{}, Articles: log,
		FeedTags: func(feed string) []string {
			if feed == "wire" {
				return []string{"world"}
			}
			return nil
		},
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	_, body := get(t, h, "/query?topic=storms&days=1&partial=1&q=tag%3Aworld+AND+storm", false)
	if !strings.Contains(body, `id="match-count">2<`) || !strings.Contains(body, "World <mark>storm</mark> 2") || strings.Contains(body, "<mark>World</mark>") {
		t.Errorf("tag:world AND storm should match the wire's two articles, marking storm only:\n%s", body)
	}
	_, body = get(t, h, "/query?topic=storms&days=1&partial=1&q=tag%3AWorld", false)
	if !strings.Contains(body, "does not parse") || !strings.Contains(body, "invalid tag") {
		t.Errorf("a malformed tag is not explained:\n%s", body)
	}
}
