package alerts_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/newswatch/newswatch/alerts"
	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/projections/stories"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/synadia-io/orbit.go/jetstreamext"
)

func connect(t *testing.T, dir string) *events.Conn {
	t.Helper()
	c, err := events.Connect(t.Context(), events.ConnConfig{DataDir: dir}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureStreams(t.Context()); err != nil {
		t.Fatal(err)
	}
	return c
}

func publishMatches(t *testing.T, c *events.Conn, ms ...events.Match) {
	t.Helper()
	var msgs []*nats.Msg
	for _, m := range ms {
		out, err := events.MatchMessage(m)
		if err != nil {
			t.Fatal(err)
		}
		msg := nats.NewMsg(out.Subject)
		msg.Data = out.Data
		msgs = append(msgs, msg)
	}
	if _, err := jetstreamext.PublishMsgBatch(t.Context(), c.JS, msgs); err != nil {
		t.Fatal(err)
	}
}

func stored(t *testing.T, c *events.Conn) []notify.Alert {
	t.Helper()
	var out []notify.Alert
	err := c.ReadAlerts(t.Context(), time.Time{}, func(data []byte, _, _ uint64) error {
		var a notify.Alert
		err := json.Unmarshal(data, &a)
		out = append(out, a)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func match(id, title string) events.Match {
	now := time.Now().UTC()
	return events.Match{Topic: "k", QueryVersion: "v", ArticleID: id, URL: "https://x.example/" + id, Title: title,
		Source: "s", PublishedAt: now, FirstSeenAt: now, MatchedAt: now, Matched: []events.MatchedTerm{{Term: "t", Field: "title"}}}
}

type runner struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func run(t *testing.T, c *events.Conn, rules []alerts.Rule, idx ...alerts.StoryIndex) *runner {
	t.Helper()
	r := alerts.NewRunner(c, rules, nil, alerts.NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now)
	for _, x := range idx {
		r.UseStories(x)
	}
	ctx, cancel := context.WithCancel(t.Context())
	rr := &runner{cancel: cancel}
	rr.wg.Add(1)
	go func() { defer rr.wg.Done(); _ = r.Run(ctx) }()
	return rr
}

func (r *runner) stop() { r.cancel(); r.wg.Wait() }

func waitAlerts(t *testing.T, c *events.Conn, n int) []notify.Alert {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := stored(t, c)
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// folded is a stories projection as the engine's story index, folding each match before it
// is published: by the time the engine sees a match, the projection has it, as the daemon's
// runner waits for its stories projector to.
type folded struct{ *stories.Projection }

func (f folded) publish(t *testing.T, c *events.Conn, ms ...events.Match) {
	t.Helper()
	for _, m := range ms {
		out, err := events.MatchMessage(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Apply(out.Data, 0); err != nil {
			t.Fatal(err)
		}
	}
	publishMatches(t, c, ms...)
}

func TestRunnerFiresOnceAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	c := connect(t, dir)
	rules := []alerts.Rule{{Topic: "k", TopicName: "K"}}
	idx := folded{stories.New()}
	r := run(t, c, rules, idx)
	idx.publish(t, c, match("a", "Alpha event in the capital today"), match("b", "Bravo development on the border"))
	got := waitAlerts(t, c, 1)
	if len(got) != 1 || len(got[0].Articles) != 2 {
		t.Fatalf("first alert = %+v", got)
	}
	r.stop()
	c.Close()

	// Restart: the same matches are not alerted again; a copy of an alerted story neither.
	c = connect(t, dir)
	defer c.Close()
	r = run(t, c, rules, idx)
	defer r.stop()
	idx.publish(t, c, match("a2", "Alpha event in the capital today"))
	time.Sleep(500 * time.Millisecond)
	if got := stored(t, c); len(got) != 1 {
		t.Fatalf("after restart %d alerts, want 1: %+v", len(got), got)
	}
	idx.publish(t, c, match("c", "Charlie report from the northern coast"))
	if got := waitAlerts(t, c, 2); len(got) != 2 || got[1].Articles[0].ID != "c" {
		t.Fatalf("new story after restart: %+v", got)
	}
}

func TestRunnerKeepsPendingGroupAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	c := connect(t, dir)
	rules := []alerts.Rule{{Topic: "k", GroupWait: time.Hour}}
	r := run(t, c, rules)
	publishMatches(t, c, match("p", "Pending story held by group wait"))
	time.Sleep(300 * time.Millisecond)
	r.stop()
	c.Close()
	// After the restart the group_wait is short: the held match must still fire.
	c = connect(t, dir)
	defer c.Close()
	r = run(t, c, []alerts.Rule{{Topic: "k"}})
	defer r.stop()
	if got := waitAlerts(t, c, 1); len(got) != 1 || got[0].Articles[0].ID != "p" {
		t.Fatalf("pending match lost across restart: %+v", got)
	}
}
