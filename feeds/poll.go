// Package feeds gets articles off the web: it schedules polls, fetches, parses and normalizes
// feeds, and hands new articles to the event store.
package feeds

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/feeds/fetch"
)

// Store is where polls put what they learn. events.Store implements it.
type Store interface {
	PublishArticleGroups(ctx context.Context, groups []events.ArticleGroup) []events.GroupResult
	PublishPolls(ctx context.Context, polls []events.Poll) error
	LastPoll(ctx context.Context, feedID string) (*events.Poll, error)
}

// Fetcher gets a feed document. fetch.Fetcher implements it.
type Fetcher interface {
	Fetch(ctx context.Context, req fetch.Request) (*fetch.Response, error)
}

// Feed is one configured feed. A paused feed keeps its state but is not polled on schedule.
type Feed struct {
	ID, URL, Schedule string
	Paused            bool
}

// feedState is what the poller remembers between polls of one feed. Only the goroutine that
// holds the feed's running flag touches it.
type feedState struct {
	Feed
	etag, lastModified string
	failures           int
	notBefore          time.Time
	lastSuccess        *time.Time
	lastNew            *time.Time
	cadence            time.Duration
	// bodyHash and itemHashes describe the document of the last stored poll: its hash, and
	// the sorted hashes of its items' bytes. In memory only; a restart parses once in full.
	bodyHash   uint64
	itemHashes []uint64
	items      int
	// bodySize is about the size of the feed's last body: what a fetch holds up front.
	bodySize int64
	slot     time.Time // the scheduled slot of the poll under way (zero: PollNow)
}

// backoff is the wait after n consecutive failures: 30s doubling up to max.
func backoff(n int, maxWait time.Duration) time.Duration {
	if n <= 0 {
		return 0
	}
	d := 30 * time.Second
	for i := 1; i < n && d < maxWait; i++ {
		d *= 2
	}
	return min(d, maxWait)
}

// observeCadence folds one interval between new articles into the moving average.
func (st *feedState) observeCadence(d time.Duration) {
	if st.cadence == 0 {
		st.cadence = d
		return
	}
	st.cadence = time.Duration(0.8*float64(st.cadence) + 0.2*float64(d))
}

// restore seeds a feed's validators and failure count from its last poll event, so a restart
// stays conditional and keeps backing off a failing feed.
func (st *feedState) restore(last *events.Poll, maxWait time.Duration) {
	if last == nil || last.URL != st.URL {
		return
	}
	st.etag, st.lastModified = last.ETag, last.LastModified
	st.failures = last.ConsecutiveFailures
	st.lastSuccess, st.lastNew = last.LastSuccessAt, last.LastNewArticleAt
	st.cadence = last.NewArticleInterval
	if st.lastSuccess == nil && !last.Failed() {
		at := last.FinishedAt
		st.lastSuccess = &at
	}
	if st.failures > 0 {
		st.notBefore = last.FinishedAt.Add(max(backoff(st.failures, maxWait), last.RetryAfter))
	}
}

// commitGroup is the commit stage: it stores the new articles of a group of polls with one id
// lookup and as few atomic batches as the server allows, then their poll events in one more,
// so a poll's validators only advance once its articles are stored.
func (p *Poller) commitGroup(ctx context.Context, group []*job) {
	var groups []events.ArticleGroup
	var owners []*job
	for _, j := range group {
		if len(j.arts) > 0 {
			groups = append(groups, events.ArticleGroup{FeedID: j.r.state.ID, Articles: j.arts})
			owners = append(owners, j)
		}
	}
	p.pm.commitPolls.Observe(float64(len(group)))
	if len(groups) > 0 {
		for i, res := range p.store.PublishArticleGroups(ctx, groups) {
			owners[i].stored(res)
			p.pm.oversize.WithLabelValues("skipped").Add(float64(res.TooLarge))
		}
		if p.gate != nil {
			p.gate.wrote()
		}
	}
	polls := make([]events.Poll, 0, len(group))
	full := false
	for _, j := range group {
		if j.push {
			p.settlePush(j)
			continue
		}
		if ctx.Err() != nil && j.poll.Failed() {
			// Cancelled by shutdown: not the feed's fault, nothing to record.
			continue
		}
		quiet := changesNothing(j)
		p.settle(j)
		if quiet && !full && p.quiet.hold(j.poll, nil) {
			p.pm.quietHeld.Inc()
			continue
		}
		full = full || quiet
		polls = append(polls, j.poll)
	}
	if len(polls) > 0 {
		// The held events go first: a feed's events are stored in the order of its polls.
		p.publishPolls(ctx, append(p.quiet.take(), polls...))
	}
	for _, j := range group {
		if p.onArticles != nil && j.poll.New > 0 {
			p.onArticles(j.arts)
		}
		j.arts = nil
		j.hold.Release()
		if j.done != nil {
			j.done()
		}
	}
}

// publishPolls stores poll outcome events; a failure is counted and logged, and the polls'
// state stays as settled (the next poll of each feed stores its own event).
func (p *Poller) publishPolls(ctx context.Context, polls []events.Poll) {
	if len(polls) == 0 {
		return
	}
	if err := p.store.PublishPolls(context.WithoutCancel(ctx), polls); err != nil {
		p.pm.pollEventErrs.Add(float64(len(polls)))
		p.log.Error("poll outcomes not stored", "polls", len(polls), "error", err)
	}
}

// stored applies a group commit's result to the job: on success its articles are the new
// ones; on failure the poll fails, so its validators and item memory stay where they were.
func (j *job) stored(res events.GroupResult) {
	j.arts = res.Published
	j.poll.New = len(res.Published)
	j.poll.Duplicates += res.Duplicates
	if res.TooLarge > 0 {
		j.poll.Error = joinErr(j.poll.Error, fmt.Sprintf("%d item(s) over the server's max_payload, skipped", res.TooLarge))
	}
	if res.Err != nil {
		j.poll.Result = events.ResultStoreError
		j.poll.Error = joinErr(j.poll.Error, "articles not stored: "+res.Err.Error())
	}
}

func joinErr(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// settle updates the feed's state and metrics from a finished poll and completes the poll
// event with the feed's history.
func (p *Poller) settle(j *job) {
	st, poll := &j.r.state, &j.poll
	if j.oversize > 0 {
		poll.Error = joinErr(poll.Error, fmt.Sprintf("%d item(s) over a field cap, cut (see docs/config.md, field caps)", j.oversize))
	}
	now := p.now()
	poll.FinishedAt = now.UTC()
	if poll.Failed() {
		st.failures++
		wait := max(backoff(st.failures, p.maxBackoff), poll.RetryAfter)
		st.notBefore = now.Add(wait)
		if poll.Result == events.ResultStoreError {
			p.m.publishErrs.WithLabelValues(st.ID).Inc()
			// The last stored validators stay, so a restart asks for the document again.
			poll.ETag, poll.LastModified = st.etag, st.lastModified
		}
		p.log.Warn("poll failed", "feed", st.ID, "result", poll.Result, "error", poll.Error, "consecutive_failures", st.failures, "retry_in", wait.String())
	} else {
		st.failures = 0
		st.notBefore = time.Time{}
		st.etag, st.lastModified = poll.ETag, poll.LastModified
		if poll.Result == events.ResultOK {
			st.bodyHash, st.itemHashes, st.items = j.bodyHash, j.itemHashes, poll.Items
		}
		at := now.UTC()
		st.lastSuccess = &at
		p.m.lastSuccess.WithLabelValues(st.ID).Set(float64(now.Unix()))
		if p.log.Enabled(context.Background(), slog.LevelDebug) { // a 304 should not pay for a log it does not write
			p.log.Debug("poll done", "feed", st.ID, "result", poll.Result, "items", poll.Items, "new", poll.New, "duplicates", poll.Duplicates)
		}
	}
	poll.ConsecutiveFailures = st.failures
	p.m.polls.WithLabelValues(st.ID, poll.Result).Inc()
	p.m.pollDuration.WithLabelValues(st.ID).Observe(now.Sub(poll.StartedAt).Seconds())
	p.m.failures.WithLabelValues(st.ID).Set(float64(st.failures))
	p.m.published.WithLabelValues(st.ID).Add(float64(poll.New))
	p.m.duplicates.WithLabelValues(st.ID).Add(float64(poll.Duplicates))
	if poll.New > 0 {
		at := now.UTC()
		if st.lastNew != nil {
			st.observeCadence(at.Sub(*st.lastNew))
			p.m.cadence.WithLabelValues(st.ID).Set(st.cadence.Seconds())
		}
		st.lastNew = &at
		p.m.lastNew.WithLabelValues(st.ID).Set(float64(now.Unix()))
	}
	poll.LastSuccessAt, poll.LastNewArticleAt, poll.NewArticleInterval = st.lastSuccess, st.lastNew, st.cadence
}

// classify maps a fetch error to a poll result label, status code and server-requested wait.
func classify(err error) (string, int, time.Duration) {
	var fe *fetch.Error
	if errors.As(err, &fe) {
		return fe.Kind.Result(), fe.StatusCode, fe.RetryAfter
	}
	return events.ResultNetworkError, 0, 0
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ErrUnknownFeed is returned by PollNow for a feed id that is not configured.
var ErrUnknownFeed = errors.New("feeds: unknown feed")

// PollNow polls one feed at once and returns the outcome; when a poll of the feed is running
// (a scheduled one still in the pipeline), it waits for that one to end first, so two polls
// of one feed never overlap. It ignores backoff: it is for operators and tests.
func (p *Poller) PollNow(ctx context.Context, feedID string) (events.Poll, error) {
	r, ok := p.runner(feedID)
	if !ok {
		return events.Poll{}, fmt.Errorf("%w %q", ErrUnknownFeed, feedID)
	}
	for !r.running.CompareAndSwap(false, true) {
		select {
		case <-ctx.Done():
			return events.Poll{}, fmt.Errorf("poll %s: waiting for the running poll: %w", feedID, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	defer r.running.Store(false)
	r.state.slot = time.Time{}
	j := p.fetchJob(ctx, r)
	if j.resp != nil && !j.resp.NotModified {
		j.hold.Advance(stageParse)
		p.process(ctx, j)
	}
	p.commitGroup(ctx, []*job{j})
	return j.poll, nil
}
