package alerts_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newswatch/newswatch/alerts"
	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/alerts/spike"
	"github.com/newswatch/newswatch/events"
	"github.com/prometheus/client_golang/prometheus"
)

// clock is an injected clock that tests move by hand.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) now() time.Time   { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) set(t time.Time)  { c.ns.Store(t.UnixNano()) }

// words makes distinct headlines: random words, so that no two stories are near-duplicates.
type words struct{ rng *rand.Rand }

func (w words) title() string {
	parts := make([]string, 8)
	for i := range parts {
		b := make([]byte, 4+w.rng.IntN(5))
		for j := range b {
			b[j] = byte('a' + w.rng.IntN(26))
		}
		parts[i] = string(b)
	}
	return strings.Join(parts, " ")
}

func rngFor(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 2)) }

func storyMatch(topic, id, source, title string, at time.Time) events.Match {
	return events.Match{Topic: topic, QueryVersion: "v", ArticleID: id, URL: "https://" + source + ".example/" + id,
		Title: title, Source: source, PublishedAt: at, FirstSeenAt: at, MatchedAt: at,
		Matched: []events.MatchedTerm{{Term: "kursk", Field: "title"}}}
}

func publishAll(t *testing.T, c *events.Conn, ms []events.Match) {
	t.Helper()
	for len(ms) > 0 {
		n := min(len(ms), 100)
		publishMatches(t, c, ms[:n]...)
		ms = ms[n:]
	}
}

type bg struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func background(t *testing.T, run func(context.Context) error) *bg {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	b := &bg{cancel: cancel}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		if err := run(ctx); err != nil {
			t.Error(err)
		}
	}()
	return b
}

func (b *bg) stop() { b.cancel(); b.wg.Wait() }

func storedKind(t *testing.T, c *events.Conn, kind string) []notify.Alert {
	t.Helper()
	var out []notify.Alert
	for _, a := range stored(t, c) {
		if a.Kind == kind {
			out = append(out, a)
		}
	}
	return out
}

func waitKind(t *testing.T, c *events.Conn, kind string, n int) []notify.Alert {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := storedKind(t, c, kind)
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// The spike runner learns the baseline from the stored matches at its first start, fires one
// spike with its explanation when a topic surges, and neither a restart nor a lost state makes
// it fire again within the cooldown.
func TestSpikeRunnerAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	c := connect(t, dir)
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	clk := newClock(now)
	w := words{rand.New(rand.NewPCG(1, 2))}
	// Ten days of a story every hour or so from eight outlets, on topic k; topic q is
	// learnt but has no rule.
	var history []events.Match
	for i := range 240 {
		at := now.Add(-time.Duration(240-i)*time.Hour + time.Duration(w.rng.IntN(50))*time.Minute)
		history = append(history, storyMatch("k", fmt.Sprintf("h%d", i), fmt.Sprintf("outlet-%d", i%8), w.title(), at))
		history = append(history, storyMatch("q", fmt.Sprintf("q%d", i), "other", w.title(), at))
	}
	publishAll(t, c, history)
	rules := []spike.Rule{{Topic: "k", TopicName: "Kursk"}, {Topic: "q", LearnOnly: true}}
	start := func() (*alerts.SpikeRunner, *bg) {
		r, err := alerts.NewSpikeRunner(c, rules, nil, alerts.NewMetrics(prometheus.NewRegistry()), quiet(), clk.now)
		if err != nil {
			t.Fatal(err)
		}
		return r, background(t, r.Run)
	}
	r, b := start()
	waitCaughtUp := func(r *alerts.SpikeRunner) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for r.Lag() != 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond)
	}
	waitCaughtUp(r)
	if got := storedKind(t, c, notify.KindSpike); len(got) != 0 {
		t.Fatalf("spike on the usual volume: %+v", got)
	}

	// Forty minutes of twelve stories from five outlets: about twelve times the usual.
	var burst []events.Match
	for i := range 12 {
		at := now.Add(-40*time.Minute + time.Duration(i)*3*time.Minute)
		burst = append(burst, storyMatch("k", fmt.Sprintf("b%d", i), fmt.Sprintf("burst-%d", i%5), w.title(), at))
	}
	publishAll(t, c, burst)
	got := waitKind(t, c, notify.KindSpike, 1)
	if len(got) != 1 {
		t.Fatalf("%d spike alerts, want 1", len(got))
	}
	a := got[0]
	if a.Topic != "k" || a.TopicName != "Kursk" || a.Spike == nil || a.Spike.Count < a.Spike.Needed || a.Spike.Ratio < 3 ||
		len(a.Spike.Sources) < 3 || len(a.Spike.Terms) == 0 || a.Spike.Terms[0].Term != "kursk" || len(a.Articles) < a.Spike.Count ||
		!strings.HasPrefix(a.Summary, "Volume spike: ") {
		t.Fatalf("spike alert %+v, explanation %+v", a, a.Spike)
	}
	b.stop()

	// Restart ten minutes later with more of the surge: the cooldown holds.
	clk.set(now.Add(10 * time.Minute))
	publishAll(t, c, []events.Match{storyMatch("k", "b-late", "burst-9", w.title(), now.Add(5*time.Minute))})
	r, b = start()
	waitCaughtUp(r)
	b.stop()
	if data, err := c.GetState(t.Context(), "spikes"); err != nil || data == nil {
		t.Fatalf("spike state not saved: %v", err)
	}
	// Lose the state, as a crash right after publishing would: the spike read back from
	// the alert stream still starts the cooldown, and the baseline is learnt again.
	if err := c.PutState(t.Context(), "spikes", []byte("{")); err != nil {
		t.Fatal(err)
	}
	clk.set(now.Add(20 * time.Minute))
	r, b = start()
	waitCaughtUp(r)
	b.stop()
	if got := storedKind(t, c, notify.KindSpike); len(got) != 1 {
		t.Fatalf("%d spike alerts after restarts within the cooldown, want 1", len(got))
	}
	// Past the cooldown, a new surge fires again.
	later := now.Add(7 * time.Hour)
	clk.set(later)
	burst = burst[:0]
	for i := range 14 {
		burst = append(burst, storyMatch("k", fmt.Sprintf("c%d", i), fmt.Sprintf("burst-%d", i%5), w.title(), later.Add(-30*time.Minute+time.Duration(i)*2*time.Minute)))
	}
	r, b = start()
	defer b.stop()
	publishAll(t, c, burst)
	if got := waitKind(t, c, notify.KindSpike, 2); len(got) != 2 || got[1].ID == got[0].ID {
		t.Fatalf("second surge after the cooldown: %d spike alerts", len(got))
	}
}
