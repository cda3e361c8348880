package feeds

import (
	"fmt"
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
	"github.com/robfig/cron/v3"
)

func TestBackoffDoublesUpToTheCap(t *testing.T) {
	want := []time.Duration{0, 30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute}
	for n, w := range want {
		if got := backoff(n, time.Hour); got != w {
			t.Errorf("backoff(%d) = %v, want %v", n, got, w)
		}
	}
	if got := backoff(40, time.Hour); got != time.Hour {
		t.Errorf("backoff(40) = %v, want the 1h cap", got)
	}
}

func TestJitterIsStableBoundedAndSpread(t *testing.T) {
	s, err := cron.ParseStandard("@every 5m")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	seen := map[time.Duration]bool{}
	for _, id := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		j := jitterFor(id, s, 30*time.Second, now)
		if j < 0 || j >= 30*time.Second {
			t.Errorf("jitter(%s) = %v out of [0, 30s)", id, j)
		}
		if j != jitterFor(id, s, 30*time.Second, now.Add(time.Hour)) {
			t.Errorf("jitter(%s) not stable", id)
		}
		seen[j] = true
	}
	if len(seen) < 6 {
		t.Errorf("feeds sharing a schedule barely spread: %v", seen)
	}
	// A thousand feeds of a 30 s schedule still spread over its first tenth, on few instants.
	every30s, _ := cron.ParseStandard("@every 30s")
	instants := map[time.Duration]int{}
	for i := range 1000 {
		j := jitterFor(fmt.Sprintf("bench-%05d", i), every30s, 30*time.Second, now)
		if j%jitterStep != 0 || j < 0 || j >= 3*time.Second {
			t.Fatalf("jitter %v: want a multiple of %v in [0, 3s)", j, jitterStep)
		}
		instants[j]++
	}
	if len(instants) != 30 {
		t.Errorf("1,000 feeds on %d instants, want all 30 steps of the first 3 s used", len(instants))
	}
	for j, n := range instants {
		if n > 70 {
			t.Errorf("%d of 1,000 feeds at %v: not spread", n, j)
		}
	}
	fast, _ := cron.ParseStandard("@every 10s")
	if j := jitterFor("a", fast, 30*time.Second, now); j >= time.Second {
		t.Errorf("jitter for a 10s schedule = %v, want < 1s (a tenth of the interval)", j)
	}
}

func TestRestoreKeepsValidatorsAndBackoff(t *testing.T) {
	finished := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	st := feedState{Feed: Feed{ID: "x", URL: "https://x/feed"}}
	st.restore(&events.Poll{FeedID: "x", URL: "https://x/feed", ETag: `"e"`, LastModified: "lm", FinishedAt: finished,
		ConsecutiveFailures: 3, RetryAfter: 10 * time.Minute}, time.Hour)
	if st.etag != `"e"` || st.lastModified != "lm" || st.failures != 3 {
		t.Errorf("restored %+v", st)
	}
	if want := finished.Add(10 * time.Minute); !st.notBefore.Equal(want) {
		t.Errorf("notBefore = %v, want %v (Retry-After beats the 2m backoff)", st.notBefore, want)
	}
	// A feed whose URL changed starts afresh.
	moved := feedState{Feed: Feed{ID: "x", URL: "https://x/new-feed"}}
	moved.restore(&events.Poll{FeedID: "x", URL: "https://x/feed", ETag: `"e"`, ConsecutiveFailures: 3}, time.Hour)
	if moved.etag != "" || moved.failures != 0 {
		t.Errorf("moved feed restored old state: %+v", moved)
	}
}

func TestCadenceMovingAverage(t *testing.T) {
	var st feedState
	st.observeCadence(10 * time.Minute)
	if st.cadence != 10*time.Minute {
		t.Fatalf("first interval: %v", st.cadence)
	}
	st.observeCadence(20 * time.Minute)
	if st.cadence != 12*time.Minute {
		t.Errorf("after 20m: %v, want 12m", st.cadence)
	}
	st.restore(&events.Poll{FeedID: "x", NewArticleInterval: 7 * time.Minute}, time.Hour)
	if st.cadence != 7*time.Minute {
		t.Errorf("restored cadence %v", st.cadence)
	}
}
