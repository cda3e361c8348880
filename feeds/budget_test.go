package feeds

import (
	"context"
	"testing"
	"testing/synctest"
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
