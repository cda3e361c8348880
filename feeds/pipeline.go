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
					p.commitCh <- j
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
		j.hold.Advance(stageCommit)
		p.commitCh <- j
	}
}

// endScheduled ends a scheduled poll of r.
func (p *Poller) endScheduled(r *feedRunner) {
	r.running.Store(false)
	p.inflight.Done()
}

// writer takes the polls that reach the commit stage and stores them in groups: whatever
// waits when it is free, up to MaxCommitPolls, in one commit.
func (p *Poller) writer(ctx context.Context, stop <-chan struct{}) {
	group := make([]*job, 0, p.maxCommit)
	flush := time.NewTimer(p.quietFlush)
	flush.Stop()
	defer flush.Stop()
	for {
		select {
		case <-p.quiet.added:
			flush.Reset(p.quietFlush)
		case <-flush.C:
			p.publishPolls(ctx, p.quiet.take())
		case j := <-p.commitCh:
			group = append(group[:0], j)
		drain:
			for len(group) < p.maxCommit {
				select {
				case j := <-p.commitCh:
					group = append(group, j)
				default:
					break drain
				}
			}
			p.commitGroup(ctx, group)
			clear(group)
		case <-stop:
			p.publishPolls(ctx, p.quiet.take())
			return
		}
	}
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
	if err := j.hold.Grow(ctx, credit); err != nil {
		j.hold.Release()
		j.poll.Result, j.poll.Error = events.ResultNetworkError, "waiting for memory to fetch: "+err.Error()
		return j
	}
	reserve := func(ctx context.Context, n int64) error {
		use := min(credit, n)
		credit -= use
		return j.hold.Grow(ctx, n-use)
	}
	resp, err := p.fetcher.Fetch(ctx, fetch.Request{URL: st.URL, ETag: st.etag, LastModified: st.lastModified, Reserve: reserve})
	st.bodySize = max(j.hold.Bytes()-credit, st.bodySize/2) // a feed that shrank holds less next time
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

// minPrepaid is what a fetch holds before its request when the feed's body size is unknown.
const minPrepaid = 64 << 10

// knownItem reports whether hash is among the item hashes of the feed's last stored poll.
func knownItem(hashes []uint64, hash uint64) bool {
	_, ok := slices.BinarySearch(hashes, hash)
	return ok
}
