package alerts_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/newswatch/newswatch/alerts"
	"github.com/prometheus/client_golang/prometheus"
)

// TestRunnerTermAfterAnotherFiresOnce: a runner that lost its lease with a group pending, while
// another runner fired that group (with more matches), runs again later (it got the lease back)
// and must not fire the stale group a second time.
func TestRunnerTermAfterAnotherFiresOnce(t *testing.T) {
	c := connect(t, t.TempDir())
	rules := []alerts.Rule{{Topic: "k", TopicName: "K", GroupWait: 3 * time.Second}}
	newRunner := func() *alerts.Runner {
		return alerts.NewRunner(c, rules, nil, alerts.NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now)
	}
	term := func(r *alerts.Runner) func() {
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); _ = r.Run(ctx) }()
		return func() { cancel(); wg.Wait() }
	}
	a := newRunner()
	stopA := term(a)
	publishMatches(t, c, match("m1", "Alpha event in the capital today"))
	time.Sleep(time.Second) // a holds m1 in a pending group (group_wait 3s)
	stopA()
	publishMatches(t, c, match("m2", "Bravo development on the border"))
	stopB := term(newRunner()) // the standby takes over and fires m1 and m2 together
	if got := waitAlerts(t, c, 1); len(got) != 1 || len(got[0].Articles) != 2 {
		t.Fatalf("after the takeover: %+v", got)
	}
	stopB()
	stopA = term(a) // a holds the lease again
	defer stopA()
	publishMatches(t, c, match("m3", "Charlie storm over the northern coast"))
	got := waitAlerts(t, c, 2)
	time.Sleep(4 * time.Second) // past group_wait: a stale group would have fired by now
	got = stored(t, c)
	seen := map[string]int{}
	for _, al := range got {
		for _, art := range al.Articles {
			seen[art.ID]++
		}
	}
	if len(got) != 2 || seen["m1"] != 1 || seen["m2"] != 1 || seen["m3"] != 1 {
		t.Fatalf("alerts %d, articles alerted %v: want 2 alerts, each article once", len(got), seen)
	}
}
