package events_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
)

// A quiet projector waits for events without a timeout of its own (an idle daemon's wake-ups
// are most of its CPU), so a rebuilt version must wake it: with the tail's looks an hour
// apart, the rebuild is adopted at once, not at the next look.
func TestQuietProjectorAdoptsARebuildAtOnce(t *testing.T) {
	defer events.SetStallAfter(time.Hour)()
	c := connect(t, t.TempDir())
	defer c.Close()
	last := publishPolls(t, c, 3)
	p, _ := runProjector(t, c, newBulky(16, 1), quietLog())
	waitFor(t, "events applied", func() bool { return p.Applied() == last })
	// The snapshot saved after the quiet second: from then on the projector waits for events.
	kv, err := c.JS.KeyValue(t.Context(), events.ProjectionBucket)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "snapshot saved", func() bool { _, err := kv.Get(t.Context(), "bulky"); return err == nil })

	if _, err := c.Rebuild(t.Context(), newBulky(16, 2), events.PollStream, []string{bulkySubject}, events.Range{}, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second) // an hour without the wake
	for p.Version() == "" {
		if time.Now().After(deadline) {
			t.Fatal("the rebuilt version was not adopted while the projector was quiet")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// And it still applies new events at once.
	last = publishPolls(t, c, 1)
	waitFor(t, "event applied after the adoption", func() bool { return p.Applied() == last })
}

// Follow ticks at the shared look instants while wake says zero, and only at wake's time
// otherwise: a spike runner that checks once a minute is not woken every five seconds.
func TestFollowTicksOnlyWhenDue(t *testing.T) {
	defer events.SetStallAfter(50 * time.Millisecond)()
	c := connect(t, t.TempDir())
	defer c.Close()
	publishPolls(t, c, 1)
	var idle, far atomic.Int64
	follow := func(tick func(), wake func() time.Time) {
		go func() {
			_ = c.Follow(t.Context(), events.PollStream, []string{bulkySubject}, 0,
				func([]byte, uint64, uint64) {}, tick, wake)
		}()
	}
	follow(func() { idle.Add(1) }, func() time.Time { return time.Time{} })
	later := time.Now().Add(time.Hour)
	follow(func() { far.Add(1) }, func() time.Time { return later })
	waitFor(t, "ten ticks of the follower without a wake time", func() bool { return idle.Load() >= 10 })
	if n := far.Load(); n != 0 {
		t.Errorf("the follower due in an hour ticked %d times", n)
	}
}
