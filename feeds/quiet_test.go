package feeds

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestQuietPollsShareABatch: the outcome event of a poll that changed nothing (here an
// unchanged 200: the server ignores conditional GET) is held, not stored in a batch of its own;
// it is stored, before any later event of its feed, with the next poll that changes something,
// and the held ones are stored when the poller stops, so every poll is recorded once.
func TestQuietPollsShareABatch(t *testing.T) {
	c, store := testStore(t)
	fs := newFeedServer(t)
	var feeds []Feed
	for f := range 3 {
		path := fmt.Sprintf("/q%d.xml", f)
		fs.set(path, rssDoc(rssItem(f*100, "First"), rssItem(f*100+1, "Second")))
		feeds = append(feeds, Feed{ID: fmt.Sprintf("q%d", f), URL: fs.srv.URL + path, Schedule: "@every 1s"})
	}
	p := newTestPoller(t, store, prometheus.NewRegistry(), feeds, Options{QuietFlush: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	polls := func() uint64 {
		info, err := c.StreamInfo(t.Context(), events.PollStream)
		if err != nil {
			t.Fatal(err)
		}
		return info.Msgs
	}
	held := func() int { return int(testutil.ToFloat64(p.pm.quietHeld)) }

	// ok polls of all feeds (the counter has no feed label): each feed polled again, unchanged, four times.
	settled := func() int { return int(testutil.ToFloat64(p.m.polls.WithLabelValues("", events.ResultOK))) }
	waitFor(t, func() bool { return settled() >= 15 })
	if n, h := polls(), held(); n != 3 || h < 6 {
		t.Fatalf("poll stream holds %d events and %d are held, want 3 (the first polls) and at least 6", n, h)
	}

	fs.set("/q0.xml", rssDoc(rssItem(0, "First"), rssItem(1, "Second"), rssItem(2, "Third")))
	waitFor(t, func() bool {
		last, err := store.LastPoll(t.Context(), "q0")
		return err == nil && last != nil && last.New == 1
	})
	if n := polls(); n < 3+6+1 {
		t.Errorf("poll stream holds %d events after a poll with news, want at least %d: the held ones go with it", n, 3+6+1)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n, want := polls(), uint64(3+held()+1); n != want {
		t.Errorf("after stop the poll stream holds %d events, want %d (3 first polls, %d held, 1 with news)", n, want, held())
	}
	// A feed's events are in the order of its polls.
	for _, f := range feeds {
		var prev time.Time
		err := c.Read(t.Context(), events.PollStream, []string{events.PollSubjectPrefix + f.ID}, 0, func(data []byte, _ uint64) error {
			p, err := events.ParsePoll(data)
			if err != nil {
				return err
			}
			if p.StartedAt.Before(prev) {
				t.Errorf("feed %s: a poll of %v stored after one of %v", f.ID, p.StartedAt, prev)
			}
			prev = p.StartedAt
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// With a short flush delay, held events are stored without waiting for news.
func TestQuietPollsAreFlushed(t *testing.T) {
	c, store := testStore(t)
	fs := newFeedServer(t)
	fs.set("/q.xml", rssDoc(rssItem(1, "First")))
	p := newTestPoller(t, store, prometheus.NewRegistry(), []Feed{{ID: "q", URL: fs.srv.URL + "/q.xml", Schedule: "@every 1s"}},
		Options{QuietFlush: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	waitFor(t, func() bool {
		info, err := c.StreamInfo(t.Context(), events.PollStream)
		return err == nil && info.Msgs >= 3 && testutil.ToFloat64(p.pm.quietHeld) >= 2
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestQuietPollsSkipTheWriter: a poll that changes nothing (a 304, or an unchanged body from
// a server that ignores conditional GET) is settled in the stage that found it so and its
// event held, without a group commit of its own; the held events are stored, in the order of
// the feed's polls, when the poller stops.
func TestQuietPollsSkipTheWriter(t *testing.T) {
	for _, tt := range []struct {
		name        string
		conditional bool
		result      string
	}{
		{"304", true, events.ResultNotModified},
		{"unchanged 200", false, events.ResultOK},
	} {
		t.Run(tt.name, func(t *testing.T) { testQuietPollsSkipTheWriter(t, tt.conditional, tt.result) })
	}
}

func testQuietPollsSkipTheWriter(t *testing.T, conditional bool, result string) {
	c, store := testStore(t)
	doc := rssDoc(rssItem(1, "First"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		if conditional && r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write(doc)
	}))
	t.Cleanup(srv.Close)
	reg := prometheus.NewRegistry()
	p := newTestPoller(t, store, reg, []Feed{{ID: "n", URL: srv.URL + "/n.xml", Schedule: "@every 1s"}}, Options{QuietFlush: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	quiet := func() int { return int(testutil.ToFloat64(p.pm.quietHeld)) }
	waitFor(t, func() bool { return quiet() >= 3 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if groups, polls := commits(t, reg); groups != 1 || polls != 1 {
		t.Errorf("%d group commits took %d polls, want 1 of 1 (the first poll; the quiet ones skip the writer)", groups, polls)
	}
	polled := int(testutil.ToFloat64(p.m.polls.WithLabelValues("", events.ResultNotModified)) + testutil.ToFloat64(p.m.polls.WithLabelValues("", events.ResultOK)))
	if held := quiet(); held != polled-1 {
		t.Errorf("%d events held, want one per poll after the first (%d)", held, polled-1)
	}
	var results []string
	var prev time.Time
	err := c.Read(t.Context(), events.PollStream, []string{events.PollSubjectPrefix + "n"}, 0, func(data []byte, _ uint64) error {
		poll, err := events.ParsePoll(data)
		if err != nil {
			return err
		}
		if poll.StartedAt.Before(prev) || poll.FinishedAt.IsZero() || poll.ETag != `"v1"` {
			t.Errorf("poll event %+v out of order or not settled", poll)
		}
		prev = poll.StartedAt
		results = append(results, poll.Result)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != polled || results[0] != events.ResultOK || results[len(results)-1] != result {
		t.Errorf("poll stream holds %v, want one ok and %d %s", results, polled-1, result)
	}
}
