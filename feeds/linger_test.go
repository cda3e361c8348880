package feeds

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/feeds/fetch"
	"github.com/prometheus/client_golang/prometheus"
)

// gatedFetcher fetches the feed "late" only after the feed "early" has been fetched and a
// pause has passed, so the two polls reach the commit queue one after the other.
type gatedFetcher struct {
	inner Fetcher
	early chan struct{}
	pause time.Duration
}

func (g *gatedFetcher) Fetch(ctx context.Context, req fetch.Request) (*fetch.Response, error) {
	if strings.HasSuffix(req.URL, "/late.xml") {
		<-g.early
		time.Sleep(g.pause)
		return g.inner.Fetch(ctx, req)
	}
	defer close(g.early)
	return g.inner.Fetch(ctx, req)
}

// commits returns how many group commits the poller made and how many polls they took.
func commits(t *testing.T, reg *prometheus.Registry) (groups, polls uint64) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "newswatch_ingest_commit_polls" {
			h := mf.GetMetric()[0].GetHistogram()
			return h.GetSampleCount(), uint64(h.GetSampleSum())
		}
	}
	t.Fatal("no newswatch_ingest_commit_polls")
	return 0, 0
}

// TestPollsArrivingApartShareACommit: two polls that reach the commit queue 100 ms apart are
// stored by one group commit (one atomic batch of articles, one of poll events), because the
// writer lingers for the first poll's companions.
func TestPollsArrivingApartShareACommit(t *testing.T) {
	c, store := testStore(t)
	fs := newFeedServer(t)
	fs.set("/early.xml", rssDoc(rssItem(1, "One")))
	fs.set("/late.xml", rssDoc(rssItem(2, "Two")))
	feeds := []Feed{
		{ID: "early", URL: fs.srv.URL + "/early.xml", Schedule: "@every 1h"},
		{ID: "late", URL: fs.srv.URL + "/late.xml", Schedule: "@every 1h"},
	}
	reg := prometheus.NewRegistry()
	fetcher := &gatedFetcher{inner: fetch.New(fetch.Config{AllowPrivateNetworks: true}), early: make(chan struct{}), pause: 100 * time.Millisecond}
	// A group of two is full, so the test does not wait out the hour.
	p := newTestPoller(t, store, reg, feeds, Options{Fetcher: fetcher, CommitLinger: time.Hour, MaxCommitPolls: 2})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	waitFor(t, func() bool {
		info, err := c.StreamInfo(t.Context(), events.PollStream)
		return err == nil && info.Msgs == 2
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if groups, polls := commits(t, reg); groups != 1 || polls != 2 {
		t.Errorf("%d group commits took %d polls, want 1 commit of 2", groups, polls)
	}
	info, err := c.StreamInfo(t.Context(), events.ArticleStream)
	if err != nil {
		t.Fatal(err)
	}
	if info.Msgs != 4 {
		t.Errorf("article stream holds %d messages, want 4 (two articles and their markers)", info.Msgs)
	}
}

// TestLingerIsBounded: a poll that no other joins is stored once the linger has passed, not
// before, and not held for longer than the group needs.
func TestLingerIsBounded(t *testing.T) {
	c, store := testStore(t)
	fs := newFeedServer(t)
	fs.set("/alone.xml", rssDoc(rssItem(1, "One")))
	feeds := []Feed{{ID: "alone", URL: fs.srv.URL + "/alone.xml", Schedule: "@every 1h"}}
	reg := prometheus.NewRegistry()
	const linger = 300 * time.Millisecond
	p := newTestPoller(t, store, reg, feeds, Options{CommitLinger: linger})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	start := time.Now()
	go func() { done <- p.Run(ctx) }()
	waitFor(t, func() bool {
		info, err := c.StreamInfo(t.Context(), events.PollStream)
		return err == nil && info.Msgs == 1
	})
	if took := time.Since(start); took < linger {
		t.Errorf("the poll was stored %v after the start, before the linger of %v passed", took, linger)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if groups, polls := commits(t, reg); groups != 1 || polls != 1 {
		t.Errorf("%d group commits took %d polls, want 1 of 1", groups, polls)
	}
}

// TestGatherStopsLingeringWhenMemoryIsShort: while a stage waits for bytes, the writer commits
// what it has at once; its group's bytes are what the stage waits for.
func TestGatherStopsLingeringWhenMemoryIsShort(t *testing.T) {
	b := NewBudget(100)
	p := &Poller{commitCh: make(chan *job, 4), maxCommit: 4, linger: time.Hour, budget: b}
	held := b.Hold()
	if err := held.Grow(t.Context(), 100); err != nil {
		t.Fatal(err)
	}
	held.Advance(stageCommit)
	waiting := make(chan error, 1)
	go func() { waiting <- b.Hold().Grow(t.Context(), 1) }() // a fetch: waits for the commit to free bytes
	waitFor(t, b.Waiting)

	got := make(chan int, 1)
	go func() {
		linger := time.NewTimer(time.Hour)
		linger.Stop()
		got <- len(p.gather([]*job{{hold: held, queued: time.Now()}}, linger))
	}()
	select {
	case n := <-got:
		if n != 1 {
			t.Errorf("gathered %d polls, want 1", n)
		}
	case <-time.After(time.Minute):
		t.Fatal("the writer lingered while a fetch waited for memory")
	}
	held.Release()
	if err := <-waiting; err != nil {
		t.Fatal(err)
	}
	if b.Waiting() {
		t.Error("the budget still counts a waiter after its step fitted")
	}
}

// TestGatherTakesWhatWaits: polls already waiting join the group without a wait, up to the
// group's limit; the rest stay queued for the next one.
func TestGatherTakesWhatWaits(t *testing.T) {
	p := &Poller{commitCh: make(chan *job, 8), maxCommit: 3, linger: time.Hour, budget: NewBudget(100)}
	for range 5 {
		p.commitCh <- &job{queued: time.Now()}
	}
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	first := <-p.commitCh
	if n := len(p.gather([]*job{first}, linger)); n != 3 {
		t.Errorf("gathered %d polls, want 3 (the limit)", n)
	}
	if n := len(p.commitCh); n != 2 {
		t.Errorf("%d polls left in the queue, want 2", n)
	}
	// A group whose first poll already waited the linger is committed with what waits.
	p.linger = time.Millisecond
	first = <-p.commitCh
	first.queued = time.Now().Add(-time.Second)
	if n := len(p.gather([]*job{first}, linger)); n != 2 {
		t.Errorf("gathered %d polls, want 2", n)
	}
}
