package events_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
)

// counting is a projection that counts what it applies.
type counting struct{ n atomic.Int64 }

func (c *counting) Name() string                      { return "counting" }
func (c *counting) Apply(data []byte, _ uint64) error { c.n.Add(1); return nil }
func (c *counting) Snapshot() ([]byte, error)         { return []byte("{}"), nil }
func (c *counting) Restore(data []byte) error         { return nil }

// A consumer that stops delivering without an error (seen on a 3-node cluster: a projection
// stalled events behind, with nothing in the log) is noticed and replaced: every event is
// applied once, and the stall is counted.
func TestProjectorRecoversFromStalledConsumer(t *testing.T) {
	defer events.SetStallAfter(300 * time.Millisecond)()
	c := connect(t, t.TempDir())
	defer c.Close()
	proj := &counting{}
	p, _ := runProjector(t, c, proj, quietLog())
	last := publishPolls(t, c, 5)
	waitFor(t, "the first events applied", func() bool { return p.Applied() >= last })

	// Pause every consumer of the stream for an hour: the server keeps it alive, and it sends
	// nothing more.
	st, err := c.JS.Stream(t.Context(), events.PollStream)
	if err != nil {
		t.Fatal(err)
	}
	paused := 0
	for name := range st.ConsumerNames(t.Context()).Name() {
		if _, err := c.JS.PauseConsumer(t.Context(), events.PollStream, name, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		paused++
	}
	if paused == 0 {
		t.Fatal("no consumer to pause")
	}
	last = publishPolls(t, c, 5)
	waitFor(t, "the events stored after the stall applied", func() bool { return p.Applied() >= last })
	if n := proj.n.Load(); n != 10 {
		t.Errorf("applied %d events, want 10", n)
	}
	if c.ConsumerStalls() == 0 {
		t.Error("the stall was not counted")
	}
}
