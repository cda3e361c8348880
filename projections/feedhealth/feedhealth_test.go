package feedhealth

import (
	"reflect"
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
)

func apply(t *testing.T, p *Projection, poll events.Poll) {
	t.Helper()
	data, err := events.EncodePoll(poll)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Apply(data, 1); err != nil {
		t.Fatal(err)
	}
}

func TestFeedHealthFold(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	p := New()
	apply(t, p, events.Poll{FeedID: "a", URL: "u", StartedAt: t0, FinishedAt: t0, Result: events.ResultOK, New: 3})
	apply(t, p, events.Poll{FeedID: "a", URL: "u", StartedAt: t0.Add(time.Minute), FinishedAt: t0.Add(time.Minute),
		Result: events.ResultHTTPError, Error: "HTTP 503", ConsecutiveFailures: 1})
	f, ok := p.Get("a")
	if !ok || f.ArticlesTotal != 3 || f.LastStatus != "http_error" || f.ConsecutiveFailures != 1 || f.Polls != 2 ||
		!f.LastSuccessAt.Equal(t0) || f.LastError != "HTTP 503" {
		t.Fatalf("health = %+v", f)
	}
	list := p.List([]Feed{{ID: "a", URL: "u2"}, {ID: "never", URL: "n"}})
	if len(list) != 2 || list[0].URL != "u2" || list[1].LastStatus != "pending" || list[1].LastPollAt != nil {
		t.Errorf("list = %+v", list)
	}
	snap, err := p.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	q := New()
	if err := q.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if g, _ := q.Get("a"); !reflect.DeepEqual(f, g) {
		t.Errorf("restored %+v, want %+v", g, f)
	}
}
