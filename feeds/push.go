package feeds

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/feeds/fetch"
	"github.com/newswatch/newswatch/feeds/parse"
)

// Pushed content (WebSub): a hub sends a feed's document to the callback, and the document
// takes the same way as a polled body: the parse stage's workers parse and normalize it, the
// writer stores its articles in a group commit with the polls', and the id markers make every
// known item a duplicate. A push is not a poll: it writes no poll event, leaves the feed's
// validators, backoff and item memory alone, and does not wait for a poll of the feed to end.

// ErrNotRunning is returned by Push while the poller's pipeline is not running.
var ErrNotRunning = errors.New("feeds: the ingest pipeline is not running")

// Push ingests a document pushed for a feed, as that feed's document (base resolves its
// relative links), and returns the outcome as a poll event would have it (Result ok,
// parse_error or store_error; New and Duplicates). It waits while the pipeline is full;
// ctx bounds that wait, not the storing once the document is in the pipeline.
func (p *Poller) Push(ctx context.Context, feedID string, body []byte, contentType, base string) (events.Poll, error) {
	r, ok := p.runner(feedID)
	if !ok {
		return events.Poll{}, fmt.Errorf("%w %q", ErrUnknownFeed, feedID)
	}
	if !p.startPush() {
		return events.Poll{}, ErrNotRunning
	}
	defer p.pushes.Done()
	j := &job{r: r, hold: p.budget.Hold(), push: true}
	j.poll = events.Poll{FeedID: feedID, URL: base, StartedAt: p.now().UTC(), Instance: p.instance, StatusCode: 200}
	if err := j.hold.Grow(ctx, int64(cap(body))); err != nil {
		j.hold.Release()
		return events.Poll{}, fmt.Errorf("push %s: waiting for memory: %w", feedID, err)
	}
	j.resp = &fetch.Response{StatusCode: 200, Body: body, ContentType: contentType, FinalURL: base}
	done := make(chan struct{})
	j.done = func() { close(done) }
	j.hold.Advance(stageParse)
	select {
	case p.parseCh <- j:
	case <-ctx.Done():
		j.hold.Release()
		return events.Poll{}, fmt.Errorf("push %s: waiting for a parse worker: %w", feedID, ctx.Err())
	}
	<-done // the pipeline always finishes a job: the writer ends it once stored or failed
	return j.poll, nil
}

// startPush counts a push in, unless the pipeline is stopping or stopped.
func (p *Poller) startPush() bool {
	p.pushMu.Lock()
	defer p.pushMu.Unlock()
	if !p.accepting {
		return false
	}
	p.pushes.Add(1)
	return true
}

// setAccepting opens or closes the pipeline to pushes; closing waits for those in flight.
func (p *Poller) setAccepting(on bool) {
	p.pushMu.Lock()
	p.accepting = on
	p.pushMu.Unlock()
	if !on {
		p.pushes.Wait()
	}
}

// processPush is the parse stage for a pushed document: parsed whole (a hub often sends only
// the new entries, so the last poll's item memory says nothing about it).
func (p *Poller) processPush(ctx context.Context, j *job) {
	id := j.r.state.ID
	if err := j.hold.Grow(ctx, parseFactor*int64(len(j.resp.Body))); err != nil {
		j.poll.Result, j.poll.Error = events.ResultNetworkError, "waiting for memory to parse: "+err.Error()
		return
	}
	parsed, err := parse.Parse(j.resp.Body, j.resp.ContentType, j.resp.FinalURL)
	if err != nil {
		j.poll.Result, j.poll.Error = events.ResultParseError, err.Error()
		_ = j.hold.Resize(ctx, 0)
		return
	}
	j.poll.Result, j.poll.Items = events.ResultOK, len(parsed.Items)
	if parsed.Partial != nil {
		j.poll.Error = "parsed partially: " + parsed.Partial.Error()
		p.log.Warn("pushed document parsed partially", "feed", id, "error", parsed.Partial)
	}
	j.arts = p.normalizeItems(id, parsed, j)
	var size int64
	for _, a := range j.arts {
		size += articleBytes(a)
	}
	_ = j.hold.Resize(ctx, size)
}

// settlePush completes a stored push: no poll event and no feed state, only the counters of
// what it brought.
func (p *Poller) settlePush(j *job) {
	id := j.r.state.ID
	j.poll.FinishedAt = p.now().UTC()
	p.m.published.WithLabelValues(id).Add(float64(j.poll.New))
	p.m.duplicates.WithLabelValues(id).Add(float64(j.poll.Duplicates))
}

// SetPushed tells the poller until when a feed's hub pushes its content (zero: it does not).
// Until then the feed's scheduled polls are a fallback, at most one per FallbackInterval.
func (p *Poller) SetPushed(feedID string, until time.Time) {
	r, ok := p.runner(feedID)
	if !ok {
		return
	}
	var n int64
	if !until.IsZero() {
		n = until.UnixNano()
	}
	r.pushedUntil.Store(n)
}

// fallbackSkip reports whether a scheduled slot of a pushed feed is skipped: while its hub
// pushes, a feed is polled once per fallback interval. The interval is measured from the
// last queued poll, with 5% slack so a schedule that divides it evenly is not pushed a slot
// later by a few milliseconds of timer drift.
func (p *Poller) fallbackSkip(r *feedRunner, now time.Time) bool {
	until := r.pushedUntil.Load()
	if until == 0 || now.UnixNano() >= until || p.fallback <= 0 {
		return false
	}
	last := r.lastQueued.Load()
	return last != 0 && now.Sub(time.Unix(0, last)) < p.fallback-p.fallback/20
}
