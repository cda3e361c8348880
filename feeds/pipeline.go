package feeds

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/feeds/fetch"
)

// Pipeline defaults; Options fields of zero take them.
const (
	// DefaultFetchConcurrency caps fetches in flight across all hosts.
	DefaultFetchConcurrency = 16
	// DefaultMaxBytesInFlight is the memory budget for fetched bodies, the parse working set
	// and normalized articles waiting to be stored.
	DefaultMaxBytesInFlight = 32 << 20
	// DefaultMaxCommitPolls caps the polls one group commit takes.
	DefaultMaxCommitPolls = 256
	// DefaultCommitLinger is how long the first poll of a group commit may wait in the commit
	// queue for others to join it (docs/architecture.md, "Group commit").
	DefaultCommitLinger = 200 * time.Millisecond
)

// parseFactor is the parse working set, in bytes per byte of document, held while a worker
// parses: gofeed's tree and strings plus the converted items.
const parseFactor = 2

// job is one poll on its way through the pipeline: fetch → parse → commit. Exactly one stage
// works on it at a time, handing it on through a channel, so it needs no lock.
type job struct {
	r    *feedRunner
	hold *Hold
	poll events.Poll
	resp *fetch.Response
	arts []events.Article
	// Found by the parse stage; the feed's state takes them once the poll is stored.
	bodyHash   uint64
	itemHashes []uint64
	// oversize counts items cut to the field caps.
	oversize int
	// done ends a scheduled poll: it clears the feed's running flag.
	done func()
	// push marks pushed content (push.go): no poll event, no feed state.
	push bool
	// queued is when the job entered the commit queue: the writer's linger counts from it.
	queued time.Time
}

// dueQueue holds the feeds whose poll is due, at most once each (the running flag), so its
// size is bounded by the number of feeds and costs a pointer per waiting feed.
type dueQueue struct {
	mu     sync.Mutex
	q      []*feedRunner
	signal chan struct{}
}

func newDueQueue() *dueQueue { return &dueQueue{signal: make(chan struct{}, 1)} }

func (d *dueQueue) push(r *feedRunner) {
	d.mu.Lock()
	d.q = append(d.q, r)
	d.mu.Unlock()
	d.wake()
}

func (d *dueQueue) wake() {
	select {
	case d.signal <- struct{}{}:
	default:
	}
}

// pop takes the oldest due feed. When more wait, it passes the signal on so that an idle
// worker takes the next one.
func (d *dueQueue) pop() (*feedRunner, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.q) == 0 {
		return nil, false
	}
	r := d.q[0]
	d.q[0] = nil
	d.q = d.q[1:]
	if len(d.q) > 0 {
		d.wake()
	}
	return r, true
}

func (d *dueQueue) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.q)
}

// runStages starts the fetch workers, the parse workers and the writer; they stop when stop
// is closed, which Run does only once no poll is in flight.
func (p *Poller) runStages(runCtx, pollCtx context.Context, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	for range p.fetchers {
		wg.Go(func() { p.fetchWorker(runCtx, pollCtx, stop) })
	}
	for range p.workers {
		wg.Go(func() {
			for {
				select {
				case j := <-p.parseCh:
					p.process(pollCtx, j)
					if p.settleQuiet(j) {
						continue
					}
					p.toCommit(j)
				case <-stop:
					return
				}
			}
		})
	}
	wg.Go(func() { p.writer(pollCtx, stop) })
	return &wg
}

func (p *Poller) fetchWorker(runCtx, pollCtx context.Context, stop <-chan struct{}) {
	for {
		r, ok := p.due.pop()
		if !ok {
			select {
			case <-stop:
				return
			case <-p.due.signal:
				continue
			}
		}
		if runCtx.Err() != nil || r.paused.Load() || !p.mayPoll(pollCtx, r, r.state.slot) || p.now().Before(r.state.notBefore) {
			p.endScheduled(r)
			continue
		}
		j := p.fetchJob(pollCtx, r)
		j.done = func() { p.endScheduled(r) }
		if j.resp != nil && !j.resp.NotModified {
			j.hold.Advance(stageParse)
			p.parseCh <- j
			continue
		}
		if p.settleQuiet(j) {
			continue
		}
		j.hold.Advance(stageCommit)
		p.toCommit(j)
	}
}

// settleQuiet ends a scheduled poll that changes nothing (a 304, an unchanged body) in the
// stage that found it so: it has no articles to store and its event is held (quiet.go), so
// passing it to the writer would only cost a hand-off. It reports false, leaving the poll to
// the writer, when the poll says something new or the held events are at their limit.
func (p *Poller) settleQuiet(j *job) bool {
	if j.push || len(j.arts) > 0 || !changesNothing(j) || !p.quiet.hold(j.poll, func(poll *events.Poll) {
		p.settle(j)
		*poll = j.poll
	}) {
		return false
	}
	p.pm.quietHeld.Inc()
	j.hold.Release()
	j.done()
	return true
}

// toCommit queues a job for the writer.
func (p *Poller) toCommit(j *job) {
	j.queued = time.Now()
	p.commitCh <- j
}

// endScheduled ends a scheduled poll of r.
func (p *Poller) endScheduled(r *feedRunner) {
	r.running.Store(false)
	p.inflight.Done()
}

// writer takes the polls that reach the commit stage and stores them in groups: whatever
// waits when it is free, up to MaxCommitPolls, in one commit. When fewer wait, it lingers
// until the group's first poll has waited CommitLinger, so that polls arriving one by one
// (a steady state spread by jitter) share an atomic batch instead of paying one each.
func (p *Poller) writer(ctx context.Context, stop <-chan struct{}) {
	group := make([]*job, 0, p.maxCommit)
	flush := time.NewTimer(p.quietFlush)
	flush.Stop()
	defer flush.Stop()
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	defer linger.Stop()
	for {
		select {
		case <-p.quiet.added:
			flush.Reset(p.quietFlush)
		case <-flush.C:
			p.publishPolls(ctx, p.quiet.take())
		case j := <-p.commitCh:
			group = p.gather(append(group[:0], j), linger)
			p.commitGroup(ctx, group)
			clear(group)
		case <-stop:
			p.publishPolls(ctx, p.quiet.take())
			return
		}
	}
}

// gather adds to group the polls waiting in the commit queue and, while the group is not
// full, those that arrive before its first poll has waited the linger. It does not linger
// while a stage waits for memory: the group's bytes are freed only once it is committed.
func (p *Poller) gather(group []*job, linger *time.Timer) []*job {
	var deadline <-chan time.Time
	for len(group) < p.maxCommit {
		select {
		case j := <-p.commitCh:
			group = append(group, j)
			continue
		default:
		}
		if deadline == nil {
			wait := p.linger - time.Since(group[0].queued)
			if wait <= 0 || p.budget.Waiting() {
				return group
			}
			linger.Reset(wait)
			defer linger.Stop()
			deadline = linger.C
		}
		select {
		case j := <-p.commitCh:
			group = append(group, j)
		case <-deadline:
			return group
		}
		if p.budget.Waiting() {
			return group
		}
	}
	return group
}

// fetchJob fetches a feed, holding the body's bytes to the budget. It holds the size of the
// feed's last body (at least minPrepaid) before sending the request, so waiting for memory
// happens before the request and its deadline start; only a body larger than last time
// waits while it is read.
func (p *Poller) fetchJob(ctx context.Context, r *feedRunner) *job {
	st := &r.state
	j := &job{r: r, hold: p.budget.Hold()}
	j.poll = events.Poll{FeedID: st.ID, URL: st.URL, StartedAt: p.now().UTC(), Instance: p.instance, Slot: slotField(st.slot)}
	credit := max(st.bodySize, minPrepaid)
	heldBack := false
	var g gate
	if p.gate != nil {
		g = countedGate{p.gate, &heldBack}
	}
	err := j.hold.Admit(ctx, credit, g)
	if heldBack {
		p.pm.heapWaits.Inc()
	}
	if err != nil {
		j.hold.Release()
		j.poll.Result, j.poll.Error = events.ResultNetworkError, "waiting for memory to fetch: "+err.Error()
		return j
	}
	reserve := func(ctx context.Context, n int64) error {
		use := min(credit, n)
		credit -= use
		return j.hold.Grow(ctx, n-use)
	}
	resp, err := p.fetcher.Fetch(ctx, fetch.Request{URL: st.URL, ETag: st.etag, LastModified: st.lastModified, Reserve: reserve, Buffer: p.bodies.get})
	read := j.hold.Bytes() - credit
	if err == nil && !resp.NotModified {
		// A reused buffer holds its capacity; the body, not that buffer, is what the feed's
		// next fetch needs, else the prepaid size creeps up to the largest buffer reused.
		read = min(read, int64(len(resp.Body))+1)
	}
	st.bodySize = max(read, st.bodySize/2) // a feed that shrank holds less next time
	switch {
	case err != nil:
		j.hold.Release()
		j.poll.Result, j.poll.StatusCode, j.poll.RetryAfter = classify(err)
		j.poll.Error = err.Error()
	case resp.NotModified:
		j.hold.Release()
		j.poll.Result = events.ResultNotModified
		j.poll.StatusCode = resp.StatusCode
		j.poll.ETag, j.poll.LastModified = firstNonEmpty(resp.ETag, st.etag), firstNonEmpty(resp.LastModified, st.lastModified)
		j.resp = resp
	default:
		j.poll.StatusCode = resp.StatusCode
		j.resp = resp
		// What the body holds, whether or not the fetcher asked the budget (a test double).
		_ = j.hold.Resize(context.WithoutCancel(ctx), int64(cap(resp.Body)))
	}
	return j
}

// maxReusedBody is the largest body buffer kept for reuse.
const maxReusedBody = 1 << 20

// bodyBuffers keeps the buffers of bodies the parse stage is done with, for the next fetches
// to read into: in a steady state of changed documents, reading every document into new
// memory was 40 % of what the daemon allocated, and the collector paid for it. It keeps at
// most its capacity (2 × the parse workers) of buffers of at most maxReusedBody each; they
// are outside the budget while kept, inside it again once a fetch reads into one.
type bodyBuffers chan []byte

// get returns a kept buffer of at least n bytes of capacity, or nil.
func (b bodyBuffers) get(n int64) []byte {
	select {
	case buf := <-b:
		if int64(cap(buf)) >= n {
			return buf
		}
	default:
	}
	return nil
}

// put keeps buf for a later fetch, unless it is too large or enough are kept. The caller must
// not use buf afterwards.
func (b bodyBuffers) put(buf []byte) {
	if cap(buf) == 0 || cap(buf) > maxReusedBody {
		return
	}
	select {
	case b <- buf[:0]:
	default:
	}
}

// minPrepaid is what a fetch holds before its request when the feed's body size is unknown.
const minPrepaid = 64 << 10

// knownItem reports whether hash is among the item hashes of the feed's last stored poll.
func knownItem(hashes []uint64, hash uint64) bool {
	_, ok := slices.BinarySearch(hashes, hash)
	return ok
}
