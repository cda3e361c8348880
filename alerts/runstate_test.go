package alerts_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/newswatch/newswatch/alerts"
	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/projections/stories"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// started is a runner running on its own clock.
type started struct {
	r      *alerts.Runner
	reg    *prometheus.Registry
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startAt(t *testing.T, c *events.Conn, rules []alerts.Rule, s alerts.Silencer, now func() time.Time, idx ...alerts.StoryIndex) *started {
	t.Helper()
	reg := prometheus.NewRegistry()
	st := &started{reg: reg, r: alerts.NewRunner(c, rules, s, alerts.NewMetrics(reg), slog.New(slog.NewTextHandler(io.Discard, nil)), now)}
	for _, x := range idx {
		st.r.UseStories(x)
	}
	ctx, cancel := context.WithCancel(t.Context())
	st.cancel = cancel
	st.wg.Go(func() { _ = st.r.Run(ctx) })
	t.Cleanup(st.stop)
	return st
}

func (s *started) stop() { s.cancel(); s.wg.Wait() }

// waitState waits until the runner has saved a state document (it has restored).
func waitState(t *testing.T, c *events.Conn, key string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if data, err := c.GetState(t.Context(), key); err == nil && data != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("state %s never saved", key)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *started) waitSuppressed(t *testing.T, topic, article string) alerts.Suppression {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got := s.r.Suppressions().Of(topic, article); len(got) > 0 {
			return got[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no suppression recorded for %s", article)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A match stored before a downtime of three hours, not yet alerted (it waited in a group),
// fires after the restart, marked late with its age.
func TestMatchWaitingAcrossLongDowntimeFiresLate(t *testing.T) {
	dir := t.TempDir()
	c := connect(t, dir)
	first := startAt(t, c, []alerts.Rule{{Topic: "k", GroupWait: time.Hour}}, nil, time.Now)
	waitState(t, c, "alerts.rules")
	publishMatches(t, c, match("p", "Story waiting in its group when the daemon died"))
	time.Sleep(300 * time.Millisecond)
	first.stop()
	c.Close()

	c = connect(t, dir)
	defer c.Close()
	down := 3 * time.Hour
	startAt(t, c, []alerts.Rule{{Topic: "k"}}, nil, func() time.Time { return time.Now().Add(down) })
	got := waitAlerts(t, c, 1)
	if len(got) != 1 || got[0].Articles[0].ID != "p" {
		t.Fatalf("match stored before 3 h of downtime: alerts %+v", got)
	}
	if l := got[0].Late; l == nil || l.AgeSeconds < int64(down.Seconds()) || l.MatchedAt.IsZero() {
		t.Errorf("late = %+v, want an age of at least %v", l, down)
	}
}

// Matches made before a topic's rule existed are history: they do not fire, and say so.
func TestHistoryBeforeTheRuleIsSkippedWithItsReason(t *testing.T) {
	c := connect(t, t.TempDir())
	defer c.Close()
	old := match("h", "History matched before alerting was configured")
	old.MatchedAt = time.Now().Add(-10 * time.Minute)
	publishMatches(t, c, old)
	s := startAt(t, c, []alerts.Rule{{Topic: "k"}}, nil, time.Now)
	sup := s.waitSuppressed(t, "k", "h")
	if sup.Reason != alerts.ReasonBeforeRule || sup.RuleSince.IsZero() {
		t.Errorf("suppression = %+v", sup)
	}
	publishMatches(t, c, match("n", "New story after the rule"))
	if got := waitAlerts(t, c, 1); len(got) != 1 || got[0].Articles[0].ID != "n" {
		t.Fatalf("alerts = %+v", got)
	}
}

// Why a match did not alert survives a restart, and is counted.
func TestSuppressionsSurviveRestartAndAreCounted(t *testing.T) {
	dir := t.TempDir()
	c := connect(t, dir)
	idx := folded{stories.New()}
	first := startAt(t, c, []alerts.Rule{{Topic: "k"}}, nil, time.Now, idx)
	waitState(t, c, "alerts.rules")
	idx.publish(t, c, match("a", "Alpha event in the capital today"))
	waitAlerts(t, c, 1)
	cp := match("a2", "Alpha event in the capital today")
	cp.Source = "other-outlet"
	idx.publish(t, c, cp)
	sup := first.waitSuppressed(t, "k", "a2")
	if sup.Reason != alerts.ReasonFolded || sup.FoldedInto != "a" {
		t.Fatalf("suppression = %+v", sup)
	}
	if n := testutil.ToFloat64(mustCounter(t, first.reg, "folded")); n != 1 {
		t.Errorf("newswatch_alert_suppressed_total{reason=folded} = %v, want 1", n)
	}
	first.stop()
	c.Close()

	c = connect(t, dir)
	defer c.Close()
	second := startAt(t, c, []alerts.Rule{{Topic: "k"}}, nil, time.Now, idx)
	if got := second.waitSuppressed(t, "k", "a2"); got.Reason != alerts.ReasonFolded || got.FoldedInto != "a" || got.StreamSeq != sup.StreamSeq {
		t.Errorf("after restart: %+v, want %+v", got, sup)
	}
	if got := second.r.Suppressions().Of("k", "a2"); len(got) != 1 {
		t.Errorf("recorded %d times: %+v", len(got), got)
	}
}

func mustCounter(t *testing.T, reg *prometheus.Registry, reason string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "newswatch_alert_suppressed_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "x", Help: "x"}, func() float64 { return m.GetCounter().GetValue() })
				}
			}
		}
	}
	t.Fatalf("no series with reason %s", reason)
	return nil
}
