package events_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
)

// slowSave is a projection whose snapshot takes at least snapshotTime and whose events take
// applyTime each to apply (none at first); it records how long each snapshot took and how
// long applying took since the one before.
type slowSave struct {
	applyTime atomic.Int64 // nanoseconds each Apply sleeps

	mu      sync.Mutex
	applied time.Duration // applying since the last snapshot, as measured here
	saves   []saved
}

type saved struct{ took, appliedBefore time.Duration }

const snapshotTime = 150 * time.Millisecond

func (s *slowSave) Name() string { return "slow-save" }

func (s *slowSave) Apply([]byte, uint64) error {
	start := time.Now()
	time.Sleep(time.Duration(s.applyTime.Load()))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applied += time.Since(start)
	return nil
}

func (s *slowSave) Snapshot() ([]byte, error) {
	start := time.Now()
	time.Sleep(snapshotTime)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saves = append(s.saves, saved{took: time.Since(start), appliedBefore: s.applied})
	s.applied = 0
	return []byte(`{}`), nil
}

func (s *slowSave) Restore([]byte) error { return nil }

var _ events.Projection = (*slowSave)(nil)

func (s *slowSave) snapshots() []saved {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]saved(nil), s.saves...)
}

// TestLiveSavesWaitUntilWorthIt: a live projection saves again only once applying the events
// since its last save took as long as that save: a state that is slow to save and quick to
// fold (feed health at 10,000 feeds: 22 ms to encode 2.6 MB, after every second of poll events)
// is not saved every second, and one whose events are slow to fold is saved soon.
func TestLiveSavesWaitUntilWorthIt(t *testing.T) {
	c := connect(t, t.TempDir())
	defer c.Close()
	s := &slowSave{}
	p, _ := runProjector(t, c, s, quietLog())
	trickle := func(n int) {
		for range n {
			last := publishPolls(t, c, 1)
			waitFor(t, "event applied", func() bool { return p.Applied() == last })
			time.Sleep(30 * time.Millisecond)
		}
	}
	// The first save comes after a second of live events; then six seconds of events that
	// take next to nothing to apply (far less than the 150 ms a save takes, with room for a
	// busy machine's pauses): no save, where saving every second saved again.
	waitFor(t, "the first save", func() bool { trickle(1); return len(s.snapshots()) == 1 })
	trickle(200)
	if n := len(s.snapshots()); n != 1 {
		t.Fatalf("%d saves while applying the events since the first took less than the first save: want 1", n)
	}
	// Events that take 5 ms each to apply: saved again once they add up to the save's cost.
	s.applyTime.Store(int64(5 * time.Millisecond))
	waitFor(t, "a save once applying took as long as saving", func() bool { trickle(1); return len(s.snapshots()) == 2 })
	saves := s.snapshots()
	if saves[1].appliedBefore < saves[0].took {
		t.Errorf("saved after %v of applying, less than the %v the save before took", saves[1].appliedBefore, saves[0].took)
	}
}
