package feeds

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/feeds/fetch"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// memStore is a Store kept in memory: the poller's narrow interface, for the scheduling logic.
type memStore struct {
	mu    sync.Mutex
	polls map[string][]events.Poll
}

func (s *memStore) PublishArticleGroups(_ context.Context, groups []events.ArticleGroup) []events.GroupResult {
	out := make([]events.GroupResult, len(groups))
	for i, g := range groups {
		out[i].Published = g.Articles
	}
	return out
}

func (s *memStore) PublishPolls(_ context.Context, polls []events.Poll) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range polls {
		s.polls[p.FeedID] = append(s.polls[p.FeedID], p)
	}
	return nil
}

func (s *memStore) LastPoll(_ context.Context, id string) (*events.Poll, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ps := s.polls[id]; len(ps) > 0 {
		p := ps[len(ps)-1]
		return &p, nil
	}
	return nil, nil
}

func (s *memStore) count(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.polls[id])
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSetFeedsWhileRunning: feeds added at run time are polled at once and on schedule,
// removed ones stop (and lose their metric series), paused ones are skipped, a bad schedule
// changes nothing.
func TestSetFeedsWhileRunning(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, `<rss version="2.0"><channel><title>x</title><item><title>a</title><link>https://x.example/a</link></item></channel></rss>`)
	}))
	defer srv.Close()
	store := &memStore{polls: map[string][]events.Poll{}}
	reg := prometheus.NewRegistry()
	p, err := NewPoller(Options{
		Feeds:   []Feed{{ID: "a", URL: srv.URL + "/a", Schedule: "@every 1h"}},
		Fetcher: fetch.New(fetch.Config{AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}),
		Store:   store, Registerer: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxJitter: time.Nanosecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitUntil(t, "a's first poll", func() bool { return store.count("a") == 1 })

	if err := p.SetFeeds(ctx, []Feed{{ID: "a", URL: srv.URL + "/a", Schedule: "@every 1h"}, {ID: "b", URL: srv.URL + "/b", Schedule: "@every 1s"}}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "b to be polled at once and then on its 1s schedule", func() bool { return store.count("b") >= 2 })
	if store.count("a") != 1 {
		t.Errorf("unchanged feed a polled again (%d polls)", store.count("a"))
	}

	if err := p.SetFeeds(ctx, []Feed{{ID: "b", URL: srv.URL + "/b", Schedule: "@every 1s", Paused: true}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // a poll that had started finishes
	paused := store.count("b")
	time.Sleep(2500 * time.Millisecond)
	if got := store.count("b"); got != paused {
		t.Errorf("paused feed polled %d more times", got-paused)
	}
	if got := testutil.CollectAndCount(reg, "newswatch_feed_polls_total"); got != 6 {
		t.Errorf("%d poll series, want 6 (b's only: a was removed)", got)
	}
	if fs := p.Feeds(); len(fs) != 1 || fs[0].ID != "b" || !fs[0].Paused {
		t.Errorf("Feeds() = %+v", fs)
	}
	if err := p.SetFeeds(ctx, []Feed{{ID: "c", URL: srv.URL + "/c", Schedule: "every tuesday"}}); err == nil {
		t.Error("a bad schedule was accepted")
	}
	if fs := p.Feeds(); len(fs) != 1 || fs[0].ID != "b" {
		t.Errorf("a rejected SetFeeds changed the set: %+v", fs)
	}
	if _, err := p.PollNow(ctx, "a"); err == nil {
		t.Error("PollNow of a removed feed succeeded")
	}
}
