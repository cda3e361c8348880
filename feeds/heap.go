package feeds

import rtmetrics "runtime/metrics"

// liveHeapMetric is the Go heap's live bytes as the last collection marked them: what the
// process keeps, without the garbage it has made since.
const liveHeapMetric = "/gc/heap/live:bytes"

// heapGauge reads the live heap. It reuses its sample, so it is not safe for concurrent use:
// the pipeline reads it under the budget's lock.
type heapGauge struct{ s [1]rtmetrics.Sample }

func newHeapGauge() *heapGauge {
	g := &heapGauge{}
	g.s[0].Name = liveHeapMetric
	return g
}

func (g *heapGauge) live() int64 {
	rtmetrics.Read(g.s[:])
	if g.s[0].Value.Kind() != rtmetrics.KindUint64 {
		return 0 // a runtime without the metric: never short of memory
	}
	return int64(g.s[0].Value.Uint64())
}

// shortOfMemory returns the check Hold.Admit makes for a poll when MaxLiveHeap is set (nil
// otherwise): whether the live heap is above it. The check runs with the budget's lock held;
// waited says whether it ever found the heap above.
func (p *Poller) shortOfMemory(waited *bool) func() bool {
	if p.maxLiveHeap <= 0 {
		return nil
	}
	return func() bool {
		if p.liveHeap() <= p.maxLiveHeap {
			return false
		}
		*waited = true
		return true
	}
}
