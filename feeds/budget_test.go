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

// TestAdmitWaitsWhileShortOfMemory: while the process is short of memory, a poll starts only
// when no other holds bytes, so polls start one at a time and none waits for ever; once
// memory is back, admission is Grow again.
func TestAdmitWaitsWhileShortOfMemory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBudget(100)
		short := true
		isShort := func() bool { return short }
		first := b.Hold()
		if err := first.Admit(t.Context(), 10, isShort); err != nil {
			t.Fatalf("the first poll, with nothing in flight, was not admitted: %v", err)
		}
		second := b.Hold()
		done := make(chan error)
		go func() { done <- second.Admit(context.Background(), 10, isShort) }()
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("a second poll was admitted (%v) while short of memory and another held bytes", err)
		default:
		}
		if !b.Waiting() {
			t.Error("Waiting() = false while a poll waits for memory")
		}
		first.Advance(stageCommit) // any move re-checks; still short, still one in flight
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("a second poll was admitted while the first was in flight")
		default:
		}
		first.Release()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		// Memory is back: polls are admitted beside one another.
		short = false
		third := b.Hold()
		if err := third.Admit(t.Context(), 10, isShort); err != nil {
			t.Fatal(err)
		}
		if b.Used() != 20 {
			t.Errorf("used %d bytes, want 20 (two polls in flight)", b.Used())
		}
		// Short of memory again: a waiting admission fails when its context ends.
		short = true
		ctx, cancel := context.WithCancel(t.Context())
		go func() { done <- b.Hold().Admit(ctx, 10, isShort) }()
		synctest.Wait()
		cancel()
		if err := <-done; err == nil {
			t.Error("Admit returned nil after its context ended while it waited")
		}
	})
}
