package feeds

import (
	"runtime"

	"github.com/newswatch/newswatch/feeds/itemscan"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// pipelineMetrics describe the ingest pipeline as a whole; none has a per-feed label, so
// their number does not grow with the number of feeds.
type pipelineMetrics struct {
	commitPolls   prometheus.Histogram
	unchanged     prometheus.Counter
	knownItems    prometheus.Counter
	oversize      *prometheus.CounterVec
	pollEventErrs prometheus.Counter
	quietHeld     prometheus.Counter
	heapWaits     prometheus.Counter
}

func newPipelineMetrics(reg prometheus.Registerer, p *Poller) *pipelineMetrics {
	f := promauto.With(reg)
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "newswatch_ingest_bytes_in_flight",
		Help: "Bytes the ingest pipeline holds now: fetched bodies, the parse working set and articles waiting to be stored.",
	}, func() float64 { return float64(p.budget.Used()) })
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "newswatch_ingest_bytes_in_flight_limit",
		Help: "The ingest pipeline's memory budget (ingest.max_bytes_in_flight).",
	}, func() float64 { return float64(p.budget.Limit()) })
	queue := func(stage string, n func() int) {
		f.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "newswatch_ingest_queue_length",
			Help:        "Polls waiting for a stage of the ingest pipeline: due (for a fetcher), parse, commit.",
			ConstLabels: prometheus.Labels{"stage": stage},
		}, func() float64 { return float64(n()) })
	}
	queue("due", p.due.len)
	queue("parse", func() int { return len(p.parseCh) })
	queue("commit", func() int { return len(p.commitCh) })
	pm := &pipelineMetrics{
		commitPolls: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "newswatch_ingest_commit_polls",
			Help:    "Polls stored by one group commit.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512},
		}),
		unchanged: f.NewCounter(prometheus.CounterOpts{
			Name: "newswatch_ingest_unchanged_documents_total",
			Help: "Documents byte-identical to the feed's last stored one (a server that ignores conditional GET): not parsed.",
		}),
		knownItems: f.NewCounter(prometheus.CounterOpts{
			Name: "newswatch_ingest_known_items_skipped_total",
			Help: "Items byte-identical to one of the feed's last stored poll, cut out before parsing.",
		}),
		oversize: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_ingest_items_oversize_total",
			Help: "Items with a field over its cap (docs/config.md): truncated, or skipped when still over the server's max_payload.",
		}, []string{"action"}),
		pollEventErrs: f.NewCounter(prometheus.CounterOpts{
			Name: "newswatch_ingest_poll_events_unstored_total",
			Help: "Poll outcome events that could not be appended; the next poll of the feed is unconditional after a restart.",
		}),
		quietHeld: f.NewCounter(prometheus.CounterOpts{
			Name: "newswatch_ingest_quiet_poll_events_held_total",
			Help: "Outcome events of polls that changed nothing (304, unchanged body), held to share an atomic batch with later ones.",
		}),
	}
	pm.heapWaits = f.NewCounter(prometheus.CounterOpts{
		Name: "newswatch_ingest_memory_waits_total",
		Help: "Polls that waited at the memory gate to start: the Go heap's live bytes were above ingest.max_live_heap (docs/architecture.md, \"Memory pressure\").",
	})
	pm.oversize.WithLabelValues("truncated")
	pm.oversize.WithLabelValues("skipped")
	return pm
}

// initPipeline sizes the stages from the options.
func (p *Poller) initPipeline(o Options) {
	p.workers = o.Workers
	if p.workers <= 0 {
		p.workers = runtime.GOMAXPROCS(0)
	}
	p.fetchers = o.FetchConcurrency
	if p.fetchers <= 0 {
		p.fetchers = DefaultFetchConcurrency
	}
	limit := o.MaxBytesInFlight
	if limit <= 0 {
		limit = DefaultMaxBytesInFlight
	}
	p.maxCommit = o.MaxCommitPolls
	if p.maxCommit <= 0 {
		p.maxCommit = DefaultMaxCommitPolls
	}
	p.budget = NewBudget(limit)
	p.gate = newMemoryGate(o.MaxLiveHeap, o.LiveHeap)
	p.due = newDueQueue()
	p.parseCh = make(chan *job, p.workers)
	p.bodies = make(bodyBuffers, 2*p.workers)
	p.commitCh = make(chan *job, p.maxCommit)
	p.quiet = newQuietPolls(p.maxCommit)
	p.quietFlush = o.QuietFlush
	if p.quietFlush <= 0 {
		p.quietFlush = DefaultQuietFlush
	}
	p.linger = o.CommitLinger
	if p.linger == 0 {
		p.linger = DefaultCommitLinger
	}
	p.hasher = itemscan.NewHasher()
	p.pm = newPipelineMetrics(o.Registerer, p)
}
