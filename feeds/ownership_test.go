package feeds

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"
)

func TestSlotIsTheSameOnEveryInstance(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct{ spec, now, want string }{
		{"*/10 * * * *", "2026-11-25T12:34:56Z", "2026-11-25T12:30:00Z"},
		{"*/10 * * * *", "2026-11-25T12:40:00Z", "2026-11-25T12:40:00Z"},
		{"0 8 * * *", "2026-11-25T07:59:00Z", "2026-11-24T08:00:00Z"},
		// @every counts from each process's start: slots are multiples of the interval instead.
		{"@every 5m", "2026-11-25T12:34:56Z", "2026-11-25T12:30:00Z"},
		{"@every 5m", "2026-11-25T12:35:01Z", "2026-11-25T12:35:00Z"},
	} {
		s, err := cron.ParseStandard(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := slotOf(s, at(tc.now)); !got.Equal(at(tc.want)) {
			t.Errorf("slotOf(%q, %s) = %s, want %s", tc.spec, tc.now, got, tc.want)
		}
	}
}

// lastPollStore is a Store whose last poll of every feed is given.
type lastPollStore struct{ last *events.Poll }

func (s lastPollStore) PublishArticleGroups(_ context.Context, g []events.ArticleGroup) []events.GroupResult {
	return make([]events.GroupResult, len(g))
}
func (s lastPollStore) PublishPolls(context.Context, []events.Poll) error { return nil }
func (s lastPollStore) LastPoll(context.Context, string) (*events.Poll, error) {
	return s.last, nil
}

func TestFeedTakenOverKeepsItsBackoff(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	owned := false
	// Another instance polled the feed last: it failed with Retry-After 10 minutes.
	store := lastPollStore{last: &events.Poll{FeedID: "x", URL: "https://x/feed", FinishedAt: now.Add(-time.Minute),
		Result: events.ResultHTTPError, ConsecutiveFailures: 1, RetryAfter: 10 * time.Minute, ETag: `"e"`}}
	p, err := NewPoller(Options{
		Feeds: []Feed{{ID: "x", URL: "https://x/feed", Schedule: "@every 1m"}}, Store: store,
		Registerer: prometheus.NewRegistry(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:  func() time.Time { return now },
		Owns: func(context.Context, string, time.Time) bool { return owned },
	})
	if err != nil {
		t.Fatal(err)
	}
	r := p.feeds["x"]
	if p.mayPoll(t.Context(), r, now) {
		t.Fatal("polled a feed another instance owns")
	}
	if _, counted := p.m.health.feeds["x"]; counted {
		t.Error("a feed another instance owns is counted in this instance's newswatch_feeds")
	}
	owned = true
	if !p.mayPoll(t.Context(), r, now) {
		t.Fatal("did not poll an owned feed")
	}
	if _, counted := p.m.health.feeds["x"]; !counted {
		t.Error("a feed taken over is not counted in newswatch_feeds")
	}
	if r.state.etag != `"e"` || r.state.failures != 1 || !r.state.notBefore.Equal(now.Add(9*time.Minute)) {
		t.Errorf("taken over with %+v; want the other instance's validators, failures and Retry-After", r.state)
	}
}
