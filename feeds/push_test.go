package feeds

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"
)

// A pushed document takes the poll's path: parsed, normalized, stored with the id markers,
// so what a poll stored is a duplicate and the push writes no poll event.
func TestPushIngestsThroughThePipeline(t *testing.T) {
	c, store := testStore(t)
	fs := newFeedServer(t)
	fs.set("/f.xml", rssDoc(rssItem(1, "Polled")))
	reg := prometheus.NewRegistry()
	p := newTestPoller(t, store, reg, []Feed{{ID: "f", URL: fs.srv.URL + "/f.xml", Schedule: "@every 1h"}}, Options{})

	if _, err := p.Push(t.Context(), "f", rssDoc(rssItem(2, "Pushed")), "application/rss+xml", fs.srv.URL+"/f.xml"); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("push before Run = %v, want ErrNotRunning", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	waitFor(t, func() bool {
		info, err := c.StreamInfo(t.Context(), events.PollStream)
		return err == nil && info.Msgs == 1
	})
	got, err := p.Push(t.Context(), "f", rssDoc(rssItem(1, "Polled"), rssItem(2, "Pushed")), "application/rss+xml", fs.srv.URL+"/f.xml")
	if err != nil || got.Result != events.ResultOK || got.New != 1 || got.Duplicates != 1 {
		t.Fatalf("push = %+v, %v; want ok, 1 new, 1 duplicate", got, err)
	}
	bad, err := p.Push(t.Context(), "f", []byte("not a feed"), "text/plain", "")
	if err != nil || bad.Result != events.ResultParseError {
		t.Errorf("push of junk = %+v, %v; want parse_error", bad, err)
	}
	if _, err := p.Push(t.Context(), "nope", rssDoc(), "", ""); !errors.Is(err, ErrUnknownFeed) {
		t.Errorf("push for an unknown feed = %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var titles []string
	err = c.Read(t.Context(), events.ArticleStream, []string{events.ArticleSubjectPrefix + "f"}, 0, func(data []byte, _ uint64) error {
		a, err := events.ParseArticle(data)
		titles = append(titles, a.Title)
		return err
	})
	if err != nil || len(titles) != 2 || titles[1] != "Pushed" {
		t.Errorf("stored %v (%v), want the polled and the pushed article once each", titles, err)
	}
	if info, _ := c.StreamInfo(t.Context(), events.PollStream); info.Msgs != 1 {
		t.Errorf("poll stream holds %d events, want 1: a push is not a poll", info.Msgs)
	}
	if used := p.budget.Used(); used != 0 {
		t.Errorf("budget holds %d bytes after every push ended", used)
	}
}

// While a feed is pushed, its scheduled slots are skipped until the fallback interval has
// passed since the last queued poll; once the lease is over, every slot polls again.
func TestFallbackSchedule(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	p := &Poller{fallback: time.Hour, now: func() time.Time { return now }}
	r := &feedRunner{schedule: cron.Every(5 * time.Minute)}
	if p.fallbackSkip(r, now) {
		t.Fatal("a feed that is not pushed skipped a slot")
	}
	r.pushedUntil.Store(now.Add(24 * time.Hour).UnixNano())
	if p.fallbackSkip(r, now) {
		t.Fatal("a pushed feed never polled skipped its first slot")
	}
	r.lastQueued.Store(now.UnixNano())
	var polled []int
	for m := 5; m <= 125; m += 5 {
		at := now.Add(time.Duration(m) * time.Minute)
		if !p.fallbackSkip(r, at) {
			polled = append(polled, m)
			r.lastQueued.Store(at.UnixNano())
		}
	}
	if len(polled) != 2 || polled[0] != 60 || polled[1] != 120 {
		t.Errorf("polled at minutes %v, want [60 120]", polled)
	}
	r.pushedUntil.Store(now.Add(130 * time.Minute).UnixNano())
	if p.fallbackSkip(r, now.Add(130*time.Minute)) {
		t.Error("a slot after the lease's end was skipped")
	}
}
