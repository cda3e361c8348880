package feeds

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestBudgetWaitsForLaterStages: a step that does not fit waits while a later stage holds
// bytes, and goes on once they are released; with nothing later held, one hold passes the
// limit instead of waiting forever.
func TestBudgetWaitsForLaterStages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBudget(100)
		stored := b.Hold()
		if err := stored.Grow(t.Context(), 80); err != nil {
			t.Fatal(err)
		}
		stored.Advance(stageCommit)
		fetching := b.Hold()
		done := make(chan error)
		go func() { done <- fetching.Grow(context.Background(), 50) }()
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("Grow past the limit returned (%v) while the commit stage held 80 bytes", err)
		default:
		}
		stored.Release()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		// Nothing after the fetch stage holds bytes now: a big body passes the limit alone.
		big := b.Hold()
		if err := big.Grow(t.Context(), 200); err != nil {
			t.Fatal(err)
		}
		if b.Used() != 250 || b.Peak() != 250 {
			t.Errorf("used %d, peak %d; want 250, 250", b.Used(), b.Peak())
		}
		// While it is the forcer, no other hold passes the limit.
		other := b.Hold()
		go func() { done <- other.Grow(context.Background(), 1) }()
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("a second hold passed the limit while another one was over it")
		default:
		}
		big.Release()
		fetching.Release()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// fakeGate is a gate a test opens and closes: shut, it is closed, unless openWhenIdle and no
// hold has bytes.
type fakeGate struct {
	shut, openWhenIdle atomic.Bool
	refreshes          atomic.Int32
}

func (g *fakeGate) Closed(idle bool) bool { return g.shut.Load() && !(idle && g.openWhenIdle.Load()) }
func (g *fakeGate) refresh()              { g.refreshes.Add(1) }

// TestAdmitWaitsAtAClosedGate: a poll waits while the gate is closed; the gate is asked again
// whenever holds change and every gateRecheck (refresh is called then), so a gate that opens
// by itself lets the poll through; a waiting admission fails when its context ends.
func TestAdmitWaitsAtAClosedGate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBudget(100)
		g := &fakeGate{}
		g.shut.Store(true)
		g.openWhenIdle.Store(true)
		first := b.Hold()
		if err := first.Admit(t.Context(), 10, g); err != nil {
			t.Fatalf("the first poll was not admitted by a gate open to it: %v", err)
		}
		second := b.Hold()
		done := make(chan error)
		go func() { done <- second.Admit(context.Background(), 10, g) }()
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("a poll was admitted (%v) at a closed gate", err)
		default:
		}
		if !b.Waiting() {
			t.Error("Waiting() = false while a poll waits at the gate")
		}
		first.Release() // the holds changed: the gate, asked again, is open to an idle budget
		if err := <-done; err != nil {
			t.Fatal(err)
		}

		// A gate that opens without any hold changing is found open by the timed recheck.
		g.openWhenIdle.Store(false)
		before := g.refreshes.Load()
		go func() { done <- b.Hold().Admit(context.Background(), 10, g) }()
		time.Sleep(4*gateRecheck + gateRecheck/2)
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("admitted at a closed gate")
		default:
		}
		if n := g.refreshes.Load() - before; n != 4 {
			t.Errorf("the gate was refreshed %d times in 4.5 rechecks, want 4", n)
		}
		g.shut.Store(false)
		time.Sleep(gateRecheck)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if b.Used() != 20 {
			t.Errorf("used %d bytes, want 20 (two polls in flight)", b.Used())
		}

		g.shut.Store(true)
		ctx, cancel := context.WithCancel(t.Context())
		go func() { done <- b.Hold().Admit(ctx, 10, g) }()
		synctest.Wait()
		cancel()
		if err := <-done; err == nil {
			t.Error("Admit returned nil after its context ended while it waited")
		}
	})
}
