package events_test

import (
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
