package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/feeds/fetch"
	"github.com/newswatch/newswatch/feeds/fulltext"
	"github.com/newswatch/newswatch/feeds/robots"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// fullTextMaxAge: articles first seen longer ago than this are not fetched (a first start, or a
// feed switched to full_text, does not crawl the archive).
const fullTextMaxAge = 48 * time.Hour

// fullTexter is the handler of the "fulltext" processor: for each new article of a full_text
// feed it fetches the article's page through the poller's fetcher (SSRF guard, per-host limit,
// timeout, size cap), unless the site's robots.txt forbids it, and, when the page's main text is
// longer than what the feed carried, appends a full-text event (events.FullTextMessage). The
// matcher reads those too.
type fullTexter struct {
	fetcher *fetch.Fetcher
	robots  *robots.Checker
	feeds   atomic.Pointer[map[string]bool]
	changed chan struct{} // a send (never blocking) after each setFeeds
	now     func() time.Time
	log     *slog.Logger
	results *prometheus.CounterVec
}

func newFullTexter(f *fetch.Fetcher, reg prometheus.Registerer, now func() time.Time, log *slog.Logger) *fullTexter {
	ft := &fullTexter{fetcher: f, now: now, log: log.With("component", "fulltext"), changed: make(chan struct{}, 1),
		robots: robots.New(f, robots.Config{Agent: robots.ProductToken(f.UserAgent()), Now: now}),
		results: promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_fulltext_extractions_total",
			Help: "Article pages fetched for full_text feeds, by result: extracted, not_longer, no_text, fetch_error, too_old, robots_disallowed, robots_unavailable.",
		}, []string{"result"}),
	}
	for _, r := range []string{"extracted", "not_longer", "no_text", "fetch_error", "too_old", "robots_disallowed", "robots_unavailable"} {
		ft.results.WithLabelValues(r)
	}
	ft.setFeeds(map[string]bool{})
	return ft
}

// setFeeds takes the ids of the feeds with full_text (fullTextIDs).
func (ft *fullTexter) setFeeds(ids map[string]bool) {
	ft.feeds.Store(&ids)
	select {
	case ft.changed <- struct{}{}:
	default:
	}
}

// active reports whether some feed has full_text.
func (ft *fullTexter) active() bool { return len(*ft.feeds.Load()) > 0 }

// fullTextIdleCheck is how often the idle full-text processor moves its checkpoint to the end
// of the article stream.
const fullTextIdleCheck = 30 * time.Second

// runFullText runs the full-text processor p while some feed has full_text, and only then: it
// reads every article event, and each reader of the article stream costs the embedded server a
// block cache of up to 8 MiB. While no feed has full_text it keeps p's checkpoint at the end of
// the stream (at start, then every fullTextIdleCheck, and when a feed turns full_text on), so a
// feed switched on later, or a restart, never fetches the pages of articles stored while
// nothing wanted them.
func (ft *fullTexter) runFullText(ctx context.Context, p *events.Processor) error {
	tick := time.NewTicker(fullTextIdleCheck)
	defer tick.Stop()
	wasIdle := false
	for {
		if ft.active() {
			if wasIdle {
				// Articles stored until now were stored while no feed had full_text.
				if err := p.Skip(ctx); err != nil && ctx.Err() == nil {
					ft.log.Warn("full-text checkpoint not moved", "error", err)
				}
			}
			rctx, cancel := context.WithCancel(ctx)
			stopped := make(chan struct{})
			go func() { // ends with this run: stops it when the last full_text feed goes
				defer close(stopped)
				for {
					select {
					case <-rctx.Done():
						return
					case <-ft.changed:
						if !ft.active() {
							cancel()
							return
						}
					}
				}
			}()
			err := p.Run(rctx)
			cancel()
			<-stopped
			if err != nil || ctx.Err() != nil {
				return err
			}
			wasIdle = true
			continue
		}
		if err := p.Skip(ctx); err != nil && ctx.Err() == nil {
			ft.log.Warn("full-text checkpoint not moved", "error", err)
		}
		wasIdle = true
		select {
		case <-ctx.Done():
			return nil
		case <-ft.changed:
		case <-tick.C:
		}
	}
}

// Handle is an events.Handler over article events.
func (ft *fullTexter) Handle(data []byte, _ uint64) ([]events.Outgoing, error) {
	a, err := events.ParseArticle(data)
	if err != nil {
		return nil, err
	}
	if !(*ft.feeds.Load())[a.FeedID] || a.URL == "" {
		return nil, nil
	}
	if ft.now().Sub(a.FirstSeenAt) > fullTextMaxAge {
		ft.results.WithLabelValues("too_old").Inc()
		return nil, nil
	}
	// The fetcher's own timeout bounds the request; this bounds a stalled shutdown.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	log := ft.log.With("feed", a.FeedID, "article", a.ID)
	if !ft.robotsAllow(ctx, a.URL, log) {
		return nil, nil
	}
	resp, err := ft.fetcher.Fetch(ctx, fetch.Request{URL: a.URL})
	if err != nil {
		ft.results.WithLabelValues("fetch_error").Inc()
		log.Warn("article page not fetched; matching uses the feed's text", "error", err)
		return nil, nil
	}
	ext, err := fulltext.Extract(resp.Body, firstNonEmpty(resp.FinalURL, a.URL))
	if err != nil {
		ft.results.WithLabelValues("no_text").Inc()
		log.Info("no article text in the page", "error", err)
		return nil, nil
	}
	if len(strings.Fields(ext.Text)) <= len(strings.Fields(a.Content))+len(strings.Fields(a.Summary)) {
		ft.results.WithLabelValues("not_longer").Inc()
		return nil, nil
	}
	a.Content = ext.Text
	out, err := events.FullTextMessage(a)
	if err != nil {
		return nil, err
	}
	ft.results.WithLabelValues("extracted").Inc()
	return []events.Outgoing{out}, nil
}

// robotsAllow reports whether the site's robots.txt lets the page be fetched, counting and
// logging a page that is not. An unreadable robots.txt (5xx, network error) keeps the page
// unfetched; with one attempt per article, that article is matched on the feed's text.
func (ft *fullTexter) robotsAllow(ctx context.Context, pageURL string, log *slog.Logger) bool {
	ok, err := ft.robots.Allowed(ctx, pageURL)
	switch {
	case errors.Is(err, robots.ErrUnavailable):
		ft.results.WithLabelValues("robots_unavailable").Inc()
		log.Info("article page not fetched: the site's robots.txt is unavailable", "error", err)
	case err != nil:
		ft.results.WithLabelValues("fetch_error").Inc()
		log.Warn("article page not fetched; matching uses the feed's text", "error", err)
	case !ok:
		ft.results.WithLabelValues("robots_disallowed").Inc()
		log.Debug("article page not fetched: disallowed by the site's robots.txt")
	}
	return ok && err == nil
}
