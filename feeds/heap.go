package feeds

import (
	"runtime"
	rtmetrics "runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// Memory pressure (docs/architecture.md, "Memory pressure"): the budget counts the pipeline's
// own bytes, but what it writes stays in memory after it is stored, in the embedded server's
// block caches, for as long as a reader that follows the stream keeps touching those blocks
// and ten seconds more. At a fast ingest that is more than the whole memory limit. The memory
// gate holds polls back while the live heap is above ingest.max_live_heap, until the caches of
// what was written have expired.

const (
	// liveHeapMetric is the Go heap's live bytes as the last collection marked them: what the
	// process keeps, without the garbage it has made since.
	liveHeapMetric = "/gc/heap/live:bytes"
	// gcCyclesMetric counts completed collections: a new one means a new live heap figure.
	gcCyclesMetric = "/gc/cycles/total:gc-cycles"
	// cacheSettle is how long after the pipeline's last article write the embedded server may
	// still hold the written blocks cached: nats-server keeps a block's cache ten seconds
	// after its last read or write (defaultCacheBufferExpiration, not configurable), plus a
	// margin for its timer and the reader's last read.
	cacheSettle = 12 * time.Second
	// gateRecheck is how often a poll held at the gate looks at the heap again.
	gateRecheck = 250 * time.Millisecond
	// staleHeap is the age of the last collection past which a held poll asks for one: with
	// polls held back, little is allocated and the runtime may not collect for minutes, so
	// the live heap figure would stay as high as it was when the gate closed.
	staleHeap = time.Second
	// floorSlack, as a fraction of the bound, is how far above a measured floor the live heap
	// may go before the gate closes again.
	floorSlack = 8
)

// heapGauge reads the runtime's live heap and collection count. It reuses its samples, so it
// is not safe for concurrent use: the gate reads it under its lock.
type heapGauge struct{ s [2]rtmetrics.Sample }

func newHeapGauge() *heapGauge {
	g := &heapGauge{}
	g.s[0].Name, g.s[1].Name = liveHeapMetric, gcCyclesMetric
	return g
}

func (g *heapGauge) read() (live int64, cycles uint64) {
	rtmetrics.Read(g.s[:])
	if g.s[0].Value.Kind() != rtmetrics.KindUint64 || g.s[1].Value.Kind() != rtmetrics.KindUint64 {
		return 0, 0 // a runtime without the metrics: never short of memory
	}
	return int64(g.s[0].Value.Uint64()), g.s[1].Value.Uint64()
}

// memoryGate decides whether a poll may start (Hold.Admit). Closed is called with the budget's
// lock held; wrote by the writer, refresh by held polls, both without it.
//
// The gate is open while the live heap is at most the bound. Above it, a poll waits while
// others are in flight and until the pipeline's last write is cacheSettle old, so that what
// it wrote can leave the server's caches, and a collection since has measured the heap. If
// the heap is still above the bound then, the excess is not the pipeline's recent work (a
// store whose indexes outgrew the bound, say) and holding polls back would not shrink it:
// that live heap becomes the floor, and polls start again until the heap passes the floor by
// an eighth of the bound. So the gate never stops the pipeline, and above the floor it is a
// rate limit: about an eighth of the bound of articles each cacheSettle.
type memoryGate struct {
	bound, slack int64
	settle       time.Duration
	heap         func() (live int64, cycles uint64)
	collect      func() // runs a collection: runtime.GC
	now          func() time.Time

	mu        sync.Mutex
	lastWrite time.Time // the last commit that stored articles
	floor     int64     // the live heap found settled and still above the bound; 0: none
	cycles    uint64    // the collection count last seen
	cycleAt   time.Time // when that count was first seen
	// collecting is set while a held poll runs a collection.
	collecting atomic.Bool
}

// newMemoryGate returns the gate for bound (nil when bound is not positive: no gate). live,
// when set, replaces the runtime's reading; each of its readings counts as fresh.
func newMemoryGate(bound int64, live func() int64) *memoryGate {
	if bound <= 0 {
		return nil
	}
	g := &memoryGate{bound: bound, slack: bound / floorSlack, settle: cacheSettle, collect: runtime.GC, now: time.Now}
	if live != nil {
		var n uint64
		g.heap = func() (int64, uint64) { n++; return live(), n }
	} else {
		g.heap = newHeapGauge().read
	}
	return g
}

// observe reads the heap, noting when a new collection is first seen. g.mu is held.
func (g *memoryGate) observe(now time.Time) int64 {
	live, cycles := g.heap()
	if cycles != g.cycles {
		g.cycles, g.cycleAt = cycles, now
	}
	return live
}

// Closed reports whether a poll must wait; idle says no poll holds bytes of the budget.
func (g *memoryGate) Closed(idle bool) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	live := g.observe(now)
	if live <= g.bound {
		g.floor = 0
		return false
	}
	if g.floor > 0 && live <= g.floor+g.slack {
		return false
	}
	settled := g.lastWrite.Add(g.settle)
	if !idle || now.Before(settled) || !g.cycleAt.After(settled) {
		return true
	}
	g.floor = live
	return false
}

// wrote records a commit that stored articles.
func (g *memoryGate) wrote() {
	g.mu.Lock()
	g.lastWrite = g.now()
	g.mu.Unlock()
}

// refresh is called by a held poll every gateRecheck: when no collection has finished for
// staleHeap, it runs one, so that the gate sees the heap shrink as the caches expire. One
// held poll collects at a time.
func (g *memoryGate) refresh() {
	g.mu.Lock()
	g.observe(g.now())
	stale := g.now().Sub(g.cycleAt) >= staleHeap
	g.mu.Unlock()
	if stale && g.collecting.CompareAndSwap(false, true) {
		g.collect()
		g.collecting.Store(false)
	}
}

// countedGate is a poll's view of the memory gate: it notes whether the gate ever held the
// poll back (newswatch_ingest_memory_waits_total).
type countedGate struct {
	g    *memoryGate
	held *bool
}

func (c countedGate) Closed(idle bool) bool {
	closed := c.g.Closed(idle)
	*c.held = *c.held || closed
	return closed
}

func (c countedGate) refresh() { c.g.refresh() }
