package feeds

import (
	"context"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/feeds/itemscan"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"
)

// Options configure a Poller.
type Options struct {
	Feeds      []Feed
	Fetcher    Fetcher
	Store      Store
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// MaxBackoff caps the wait between polls of a failing feed (default 1h).
	MaxBackoff time.Duration
	// MaxJitter caps the random-looking delay before a scheduled poll (default 30s). Each feed
	// gets a fixed offset, at most a tenth of its interval, so feeds that share a schedule
	// spread out instead of firing together.
	MaxJitter time.Duration
	// ShutdownGrace is how long in-flight polls may run after Run's context ends before they
	// are cancelled (default 10s).
	ShutdownGrace time.Duration
	// OnArticles, when set, is called with each poll's newly stored articles.
	OnArticles func([]events.Article)
	// Workers is the number of parse + normalize workers (default GOMAXPROCS).
	Workers int
	// FetchConcurrency caps fetches in flight across all hosts (default
	// DefaultFetchConcurrency); the fetcher's per-host limit applies within it.
	FetchConcurrency int
	// MaxBytesInFlight is the pipeline's memory budget (default DefaultMaxBytesInFlight).
	MaxBytesInFlight int64
	// MaxCommitPolls caps the polls one group commit takes (default DefaultMaxCommitPolls).
	MaxCommitPolls int
	// MaxLiveHeap, when positive, holds polls back at the memory gate while the Go heap's
	// live bytes (as the last collection marked them) are above it: memory the pipeline's
	// work keeps outside its budget, above all the embedded server's caches of recently
	// written blocks, grows with the rate of ingest, and this bounds it (heap.go;
	// docs/architecture.md, "Memory pressure"). 0: no such bound.
	MaxLiveHeap int64
	// LiveHeap reads the live heap for MaxLiveHeap, each reading as fresh as a collection's;
	// nil reads the runtime's.
	LiveHeap func() int64
	// CommitLinger is how long the first poll of a group commit may wait for others to join
	// it (default DefaultCommitLinger; negative: no wait).
	CommitLinger time.Duration
	// QuietFlush is how long the outcome event of a poll that changed nothing (a 304, an
	// unchanged body) may wait to share a batch with others (default DefaultQuietFlush).
	QuietFlush time.Duration
	// Owns, when set, is asked before each scheduled poll (cluster mode); Instance names this
	// instance in the poll events.
	Owns     OwnsFunc
	Instance string
	// OnDocument, when set, is called by the parse stage with every changed document a poll
	// fetched, its Link headers and the URL that served it (WebSub hub discovery).
	OnDocument func(feedID string, body []byte, linkHeaders []string, base string)
	// FallbackInterval is the least time between scheduled polls of a feed whose content a
	// WebSub hub pushes (SetPushed); 0 polls pushed feeds on their schedule.
	FallbackInterval time.Duration
}

type feedRunner struct {
	state    feedState
	schedule cron.Schedule
	jitter   time.Duration
	running  atomic.Bool
	// timer queues the feed once its jitter has passed; one per feed, reused.
	timer  *time.Timer
	owned  bool         // the last slot asked about was this instance's (only fire touches it)
	paused atomic.Bool  // set by SetFeeds; a paused feed's scheduled polls are skipped
	entry  cron.EntryID // its cron entry while Run is running (runtime.go)
	// pushedUntil (unix ns, 0: not pushed) and lastQueued (unix ns of the last scheduled poll
	// queued) make a pushed feed's schedule a fallback (push.go).
	pushedUntil, lastQueued atomic.Int64
}

// Poller polls every configured feed on its cron schedule, never two polls of one feed at once.
type Poller struct {
	mu          sync.Mutex // guards feeds, order and sched: SetFeeds changes them at run time
	feeds       map[string]*feedRunner
	order       []string
	sched       *scheduling // nil unless Run is running
	maxJitter   time.Duration
	fetcher     Fetcher
	store       Store
	log         *slog.Logger
	m           *metrics
	now         func() time.Time
	maxBackoff  time.Duration
	grace       time.Duration
	onArticles  func([]events.Article)
	owns        OwnsFunc
	instance    string
	inflight    sync.WaitGroup
	initialized atomic.Bool
	onDocument  func(feedID string, body []byte, linkHeaders []string, base string)
	fallback    time.Duration

	// Pushed documents (push.go) enter the parse stage only while accepting is set.
	pushMu    sync.Mutex
	accepting bool
	pushes    sync.WaitGroup

	// The pipeline: due feeds → fetchers → parseCh → workers → commitCh → one writer.
	fetchers, workers, maxCommit int
	due                          *dueQueue
	parseCh, commitCh            chan *job
	quiet                        *quietPolls // outcome events of polls that changed nothing, held
	quietFlush                   time.Duration
	linger                       time.Duration // CommitLinger
	bodies                       bodyBuffers
	budget                       *Budget
	gate                         *memoryGate // MaxLiveHeap; nil: none
	hasher                       itemscan.Hasher
	pm                           *pipelineMetrics
}

// NewPoller validates the feeds' schedules and returns a Poller.
func NewPoller(o Options) (*Poller, error) {
	p := &Poller{
		feeds: map[string]*feedRunner{}, fetcher: o.Fetcher, store: o.Store,
		log: o.Logger.With("component", "poller"), m: newMetrics(o.Registerer),
		now: o.Now, maxBackoff: o.MaxBackoff, grace: o.ShutdownGrace, onArticles: o.OnArticles,
		owns: o.Owns, instance: o.Instance, onDocument: o.OnDocument, fallback: o.FallbackInterval,
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.maxBackoff <= 0 {
		p.maxBackoff = time.Hour
	}
	if p.grace <= 0 {
		p.grace = 10 * time.Second
	}
	p.initPipeline(o)
	p.maxJitter = o.MaxJitter
	if p.maxJitter == 0 {
		p.maxJitter = 30 * time.Second
	}
	for _, f := range o.Feeds {
		r, err := p.newRunner(f)
		if err != nil {
			return nil, err
		}
		p.feeds[f.ID] = r
		p.order = append(p.order, f.ID)
		p.m.init(f.ID)
	}
	return p, nil
}

// jitterStep is the grain of the feeds' offsets. The feeds whose offsets fall in one step are
// queued at one instant, so the thousand feeds of a 30 s schedule wake the process 30 times a
// cycle instead of a thousand: each wake of an otherwise idle process costs the Go scheduler
// and the kernel about a tenth of a millisecond of CPU on a small VM, as much as a 304 itself
// (docs/benchmarks.md, "The idle floor").
const jitterStep = 100 * time.Millisecond

// jitterFor gives each feed a stable offset in [0, min(maxJitter, interval/10)), a multiple of
// jitterStep.
func jitterFor(id string, s cron.Schedule, maxJitter time.Duration, now time.Time) time.Duration {
	next := s.Next(now)
	interval := s.Next(next).Sub(next)
	limit := min(maxJitter, interval/10)
	if limit <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	j := time.Duration(h.Sum64() % uint64(limit))
	return j - j%jitterStep
}

// Restore loads every feed's last poll outcome so validators and backoff survive restarts.
func (p *Poller) Restore(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range p.order {
		if err := p.restoreRunner(ctx, p.feeds[id]); err != nil {
			return err
		}
	}
	p.initialized.Store(true)
	return nil
}

// restoreRunner seeds one feed's state from its last poll event.
func (p *Poller) restoreRunner(ctx context.Context, r *feedRunner) error {
	id := r.state.ID
	last, err := p.store.LastPoll(ctx, id)
	if err != nil {
		return err
	}
	r.state.restore(last, p.maxBackoff)
	// Gauges reflect the history from the start, so staleness alerts survive restarts.
	p.m.failures.WithLabelValues(id).Set(float64(r.state.failures))
	if t := r.state.lastSuccess; t != nil {
		p.m.lastSuccess.WithLabelValues(id).Set(float64(t.Unix()))
	}
	if t := r.state.lastNew; t != nil {
		p.m.lastNew.WithLabelValues(id).Set(float64(t.Unix()))
	}
	if r.state.cadence > 0 {
		p.m.cadence.WithLabelValues(id).Set(r.state.cadence.Seconds())
	}
	return nil
}

// Run polls each feed once at start (after its jitter), then on its schedule, until ctx ends;
// then it lets in-flight polls finish for the shutdown grace period and cancels the rest.
func (p *Poller) Run(ctx context.Context) error {
	if !p.initialized.Load() {
		if err := p.Restore(ctx); err != nil {
			return err
		}
	}
	pollCtx, cancelPolls := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelPolls()
	stop := make(chan struct{})
	stages := p.runStages(ctx, pollCtx, stop)
	defer func() { close(stop); stages.Wait() }()
	p.setAccepting(true)
	defer p.setAccepting(false) // before the stages stop: pushes in flight finish first
	c := cron.New()
	p.mu.Lock()
	p.sched = &scheduling{cron: c, runCtx: ctx, pollCtx: pollCtx}
	for _, id := range p.order {
		p.schedule(p.feeds[id])
	}
	p.mu.Unlock()
	c.Start()
	<-ctx.Done()
	p.mu.Lock()
	p.sched = nil
	p.mu.Unlock()
	<-c.Stop().Done()
	p.mu.Lock()
	for _, id := range p.order {
		// A poll still waiting out its jitter ends here; one already due drains as skipped.
		if r := p.feeds[id]; r.timer.Stop() {
			p.endScheduled(r)
		}
	}
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { p.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(p.grace):
		p.log.Warn("cancelling polls still running at shutdown", "grace", p.grace.String())
		cancelPolls()
		<-done
	}
	return nil
}

// fire queues one scheduled poll of a feed after its jitter, unless one is running. A feed
// that is backing off is dropped when a fetcher takes it.
func (p *Poller) fire(runCtx context.Context, r *feedRunner) {
	if runCtx.Err() != nil || r.paused.Load() {
		return
	}
	now := p.now()
	if p.fallbackSkip(r, now) {
		p.log.Debug("poll skipped: the feed's hub pushes; polled as a fallback only", "feed", r.state.ID)
		return
	}
	if !r.running.CompareAndSwap(false, true) {
		p.log.Debug("poll skipped: previous poll still running", "feed", r.state.ID)
		return
	}
	r.lastQueued.Store(now.UnixNano())
	r.state.slot = slotOf(r.schedule, now)
	// Add happens here, before Run's Wait can observe the group.
	p.inflight.Add(1)
	if r.jitter <= 0 {
		p.due.push(r)
		return
	}
	r.timer.Reset(r.jitter)
}
