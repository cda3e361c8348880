package events_test

import (
	"sync/atomic"
	"testing"
	"time"
)

// slowSaves is a projection whose snapshot takes a while to make, as a busy topic's stories do.
type slowSaves struct {
	*bulky
	snapshots atomic.Int32
}

func (s *slowSaves) Snapshot() ([]byte, error) {
	s.snapshots.Add(1)
	time.Sleep(300 * time.Millisecond)
	return s.bulky.Snapshot()
}

// A live projection whose saves are costly saves less often (every ten saves' time), so that
// keeping a large state saved costs a small share of a core.
func TestCostlySavesAreSpaced(t *testing.T) {
	c := connect(t, t.TempDir())
	defer c.Close()
	proj := &slowSaves{bulky: newBulky(16, 1)}
	_, stop := runProjector(t, c, proj, quietLog())
	// Four seconds of live events, one every 100 ms.
	for range 40 {
		publishPolls(t, c, 1)
		time.Sleep(100 * time.Millisecond)
	}
	n := proj.snapshots.Load()
	stop()
	// At most once a second would be 3-4 saves; spaced by ten times 300 ms, at most 2.
	if n > 2 || n < 1 {
		t.Errorf("%d saves in four seconds of live events with 300 ms saves, want 1 or 2", n)
	}
}

// WaitApplied returns as soon as the projection has applied an event, and gives up after its
// timeout on one that never comes.
func TestWaitApplied(t *testing.T) {
	c := connect(t, t.TempDir())
	defer c.Close()
	p, _ := runProjector(t, c, newBulky(16, 2), quietLog())
	seq := publishPolls(t, c, 3)
	if !p.WaitApplied(seq, 10*time.Second) || p.Applied() < seq {
		t.Fatalf("WaitApplied(%d) returned with %d applied", seq, p.Applied())
	}
	done := make(chan bool)
	go func() { done <- p.WaitApplied(seq+1, 10*time.Second) }()
	time.Sleep(50 * time.Millisecond)
	next := publishPolls(t, c, 1)
	select {
	case ok := <-done:
		if !ok || p.Applied() < next {
			t.Errorf("WaitApplied(%d) = %v with %d applied", seq+1, ok, p.Applied())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WaitApplied did not wake up when the event was applied")
	}
	start := time.Now()
	if p.WaitApplied(next+100, 100*time.Millisecond) {
		t.Error("WaitApplied for an event that never comes returned true")
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Errorf("WaitApplied timed out after %v, want 100ms", d)
	}
}
