package feeds

import (
	"context"
	"sync"
	"time"
)

// Pipeline stages, in the order a poll passes them. A hold's bytes count toward its stage.
const (
	stageFetch  = iota // the body is being read
	stageParse         // the body waits for a parse worker or is being parsed
	stageCommit        // the articles wait for the writer or are being stored
	stageCount
)

// Budget bounds the bytes in flight in the ingest pipeline: fetched bodies, the parse working
// set and normalized articles. A hold grows in steps; a step that would pass the limit waits
// until later stages free bytes. Later stages never wait for earlier ones, so they always
// drain. When nothing after a hold's stage holds bytes, waiting could never end: then one
// hold at a time may pass the limit (the forcer), which bounds the peak at the limit plus one
// poll's growth. Safe for concurrent use.
type Budget struct {
	limit int64

	mu     sync.Mutex
	held   [stageCount]int64
	used   int64
	peak   int64
	forcer *Hold
	wake   chan struct{}
	// waiters counts the Grow calls waiting for bytes.
	waiters int
}

// NewBudget returns a budget of limit bytes.
func NewBudget(limit int64) *Budget {
	return &Budget{limit: limit, wake: make(chan struct{})}
}

// Hold is the bytes one poll holds. Only the goroutine working on the poll uses it.
type Hold struct {
	b     *Budget
	n     int64
	stage int
}

// Hold starts an empty hold in the fetch stage.
func (b *Budget) Hold() *Hold { return &Hold{b: b} }

// Used returns the bytes held now; Peak the most held at once since the budget was made.
func (b *Budget) Used() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// Peak returns the most bytes held at once.
func (b *Budget) Peak() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.peak
}

// Limit returns the budget's limit in bytes.
func (b *Budget) Limit() int64 { return b.limit }

// Grow adds n bytes to the hold, waiting while they do not fit and a later stage will free
// bytes. It fails only when ctx ends.
func (h *Hold) Grow(ctx context.Context, n int64) error { return h.grow(ctx, n, nil) }

// A gate holds polls back at admission (Hold.Admit): the memory gate (heap.go).
type gate interface {
	// Closed reports whether a poll must wait; idle says no hold has bytes. It is called
	// with the budget's lock held.
	Closed(idle bool) bool
	// refresh is called without the lock every gateRecheck while a poll waits on the gate.
	refresh()
}

// Admit is Grow for a poll's first bytes, which also waits while g (when not nil) is closed.
// A closed gate is asked again whenever the budget's holds change and every gateRecheck.
func (h *Hold) Admit(ctx context.Context, n int64, g gate) error {
	return h.grow(ctx, n, g)
}

func (h *Hold) grow(ctx context.Context, n int64, g gate) error {
	if n <= 0 {
		return nil
	}
	b := h.b
	b.mu.Lock()
	for {
		held := g != nil && g.Closed(b.used == 0)
		if !held && (b.used+n <= b.limit || b.forcer == h || (b.forcer == nil && !b.laterHeld(h.stage))) {
			if b.used+n > b.limit {
				b.forcer = h
			}
			b.add(h, n)
			b.mu.Unlock()
			return nil
		}
		wake := b.wake
		b.waiters++
		b.mu.Unlock()
		var recheck *time.Timer
		var due <-chan time.Time
		if held {
			recheck = time.NewTimer(gateRecheck)
			due = recheck.C
		}
		select {
		case <-ctx.Done():
			if recheck != nil {
				recheck.Stop()
			}
			b.mu.Lock()
			b.waiters--
			b.mu.Unlock()
			return ctx.Err()
		case <-wake:
		case <-due:
			g.refresh()
		}
		if recheck != nil {
			recheck.Stop()
		}
		b.mu.Lock()
		b.waiters--
	}
}

// Waiting reports whether a step waits for bytes: then holding bytes longer than needed
// slows the pipeline.
func (b *Budget) Waiting() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.waiters > 0
}

// Resize sets the hold to n bytes: shrinking at once, growing as Grow does.
func (h *Hold) Resize(ctx context.Context, n int64) error {
	if n >= h.n {
		return h.Grow(ctx, n-h.n)
	}
	h.b.mu.Lock()
	h.b.add(h, n-h.n)
	h.b.broadcast()
	h.b.mu.Unlock()
	return nil
}

// Advance moves the hold to a later stage. A hold that passed the limit stops being the
// forcer: its bytes now wait on a stage that drains without the budget.
func (h *Hold) Advance(stage int) {
	b := h.b
	b.mu.Lock()
	defer b.mu.Unlock()
	b.held[h.stage] -= h.n
	h.stage = stage
	b.held[h.stage] += h.n
	if b.forcer == h {
		b.forcer = nil
	}
	b.broadcast()
}

// Release gives all of the hold's bytes back. The hold may be used again from the fetch stage.
func (h *Hold) Release() {
	b := h.b
	b.mu.Lock()
	defer b.mu.Unlock()
	b.add(h, -h.n)
	h.stage = stageFetch
	if b.forcer == h {
		b.forcer = nil
	}
	b.broadcast()
}

// Bytes returns what the hold holds.
func (h *Hold) Bytes() int64 { return h.n }

func (b *Budget) laterHeld(stage int) bool {
	for s := stage + 1; s < stageCount; s++ {
		if b.held[s] > 0 {
			return true
		}
	}
	return false
}

func (b *Budget) add(h *Hold, n int64) {
	h.n += n
	b.held[h.stage] += n
	b.used += n
	b.peak = max(b.peak, b.used)
}

// broadcast wakes every waiter; each checks again whether its step fits.
func (b *Budget) broadcast() {
	close(b.wake)
	b.wake = make(chan struct{})
}
