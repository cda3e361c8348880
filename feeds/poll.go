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
	"github.com/newswatch/newswatch/feeds/normalize"
	"github.com/newswatch/newswatch/feeds/parse"
)

// Store is where polls put what they learn. events.Store implements it.
type Store interface {
	PublishArticles(ctx context.Context, feedID string, arts []events.Article) (events.PublishResult, error)
	PublishPoll(ctx context.Context, p events.Poll) error
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

// pollOnce fetches, parses and stores one feed and returns the poll outcome, already stored.
func (p *Poller) pollOnce(ctx context.Context, st *feedState) events.Poll {
	start := p.now()
	poll := events.Poll{FeedID: st.ID, URL: st.URL, StartedAt: start.UTC()}
	log := p.log.With("feed", st.ID)
	resp, err := p.fetcher.Fetch(ctx, fetch.Request{URL: st.URL, ETag: st.etag, LastModified: st.lastModified})
	switch {
	case err != nil:
		poll.Result, poll.StatusCode, poll.RetryAfter = classify(err)
		poll.Error = err.Error()
	case resp.NotModified:
		poll.Result = events.ResultNotModified
		poll.StatusCode = resp.StatusCode
		poll.ETag, poll.LastModified = firstNonEmpty(resp.ETag, st.etag), firstNonEmpty(resp.LastModified, st.lastModified)
	default:
		poll.StatusCode = resp.StatusCode
		if err := p.ingest(ctx, st, resp, &poll); err != nil {
			if ctx.Err() != nil {
				return poll
			}
			p.m.publishErrs.WithLabelValues(st.ID).Inc()
			log.Error("poll not stored; will retry", "error", err)
			poll.Error = err.Error()
			return poll
		}
	}
	if ctx.Err() != nil && poll.Result != events.ResultOK && poll.Result != events.ResultNotModified {
		// Cancelled by shutdown: not the feed's fault, nothing to record.
		return poll
	}
	p.finish(ctx, st, &poll, log)
	return poll
}

// ingest parses and normalizes a fetched document and stores its new articles.
func (p *Poller) ingest(ctx context.Context, st *feedState, resp *fetch.Response, poll *events.Poll) error {
	base := firstNonEmpty(resp.FinalURL, st.URL)
	doc, err := parse.Parse(resp.Body, resp.ContentType, base)
	if err != nil {
		poll.Result = events.ResultParseError
		poll.Error = err.Error()
		return nil
	}
	poll.Result = events.ResultOK
	poll.Items = len(doc.Items)
	if doc.Partial != nil {
		// A broken or oversized document still yields its complete items; say what was lost.
		poll.Error = "parsed partially: " + doc.Partial.Error()
		p.m.partial.WithLabelValues(st.ID).Inc()
		p.log.Warn("feed parsed partially", "feed", st.ID, "error", doc.Partial)
	}
	arts := make([]events.Article, 0, len(doc.Items))
	for _, it := range doc.Items {
		a, err := normalize.Article(st.ID, doc.Language, it, poll.StartedAt)
		if err != nil {
			p.m.itemErrs.WithLabelValues(st.ID).Inc()
			continue
		}
		arts = append(arts, a)
	}
	res, err := p.store.PublishArticles(ctx, st.ID, arts)
	if err != nil {
		return err
	}
	poll.New, poll.Duplicates = len(res.Published), res.Duplicates
	poll.ETag, poll.LastModified = resp.ETag, resp.LastModified
	if p.onArticles != nil && len(res.Published) > 0 {
		p.onArticles(res.Published)
	}
	return nil
}

// finish updates the feed's state and metrics and appends the poll event.
func (p *Poller) finish(ctx context.Context, st *feedState, poll *events.Poll, log *slog.Logger) {
	now := p.now()
	poll.FinishedAt = now.UTC()
	if poll.Failed() {
		st.failures++
		wait := max(backoff(st.failures, p.maxBackoff), poll.RetryAfter)
		st.notBefore = now.Add(wait)
		log.Warn("poll failed", "result", poll.Result, "error", poll.Error, "consecutive_failures", st.failures, "retry_in", wait.String())
	} else {
		st.failures = 0
		st.notBefore = time.Time{}
		st.etag, st.lastModified = poll.ETag, poll.LastModified
		at := now.UTC()
		st.lastSuccess = &at
		p.m.lastSuccess.WithLabelValues(st.ID).Set(float64(now.Unix()))
		log.Debug("poll done", "result", poll.Result, "items", poll.Items, "new", poll.New, "duplicates", poll.Duplicates)
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
	if err := p.store.PublishPoll(context.WithoutCancel(ctx), *poll); err != nil {
		p.m.publishErrs.WithLabelValues(st.ID).Inc()
		log.Error("poll outcome not stored", "error", err)
	}
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

// PollNow polls one feed at once, unless a poll of it is already running, and returns the
// outcome. It ignores backoff: it is for operators and tests.
func (p *Poller) PollNow(ctx context.Context, feedID string) (events.Poll, error) {
	r, ok := p.runner(feedID)
	if !ok {
		return events.Poll{}, fmt.Errorf("%w %q", ErrUnknownFeed, feedID)
	}
	if !r.running.CompareAndSwap(false, true) {
		return events.Poll{}, fmt.Errorf("poll %s: already running", feedID)
	}
	defer r.running.Store(false)
	return p.pollOnce(ctx, &r.state), nil
}
