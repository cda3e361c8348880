package feeds

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// pollResults are the values of newswatch_feed_polls_total's result label.
var pollResults = []string{"ok", "not_modified", "http_error", "network_error", "parse_error", "refused", "store_error"}

// metrics are the poller's metrics. Call sites always name the feed; the metrics decide what
// becomes a series. Counters and the poll duration histogram are aggregated over all feeds;
// the per-feed gauges feed a health table that exports a feed's own series only while it needs
// attention (failing, stale or silent), for at most maxFeedSeries feeds, so /metrics does not
// grow with the number of healthy feeds (see health.go).
type metrics struct {
	polls        feedCounterVec
	pollDuration feedHistogram
	published    feedCounterVec
	duplicates   feedCounterVec
	failures     feedGauge
	lastSuccess  feedGauge
	lastNew      feedGauge
	publishErrs  feedCounterVec
	itemErrs     feedCounterVec
	partial      feedCounterVec
	cadence      feedGauge
	health       *healthTable
}

func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	counter := func(name, help string, labels ...string) feedCounterVec {
		return feedCounterVec{f.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)}
	}
	h := newHealthTable()
	reg.MustRegister(h)
	return &metrics{
		polls: counter("newswatch_feed_polls_total",
			"Feed polls by outcome: ok, not_modified, http_error, network_error, parse_error, refused, store_error.", "result"),
		pollDuration: feedHistogram{f.NewHistogram(prometheus.HistogramOpts{
			Name:    "newswatch_feed_poll_duration_seconds",
			Help:    "Time from the start of a poll to its articles being stored, all feeds.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 30, 60},
		})},
		published: counter("newswatch_articles_published_total",
			"New articles appended to the article stream."),
		duplicates: counter("newswatch_articles_duplicate_total",
			"Items skipped because their article was already in the stream (or repeated within a poll)."),
		publishErrs: counter("newswatch_feed_store_errors_total",
			"Polls whose articles or outcome could not be appended to JetStream; the poll is retried."),
		partial: counter("newswatch_feed_partial_parses_total",
			"Polls whose document was broken or over the item or nesting limit; its complete items were still used."),
		itemErrs: counter("newswatch_feed_items_invalid_total",
			"Feed items skipped because they had no link, no id and no title."),
		failures:    feedGauge{h, fieldFailures},
		lastSuccess: feedGauge{h, fieldLastSuccess},
		lastNew:     feedGauge{h, fieldLastNew},
		cadence:     feedGauge{h, fieldCadence},
		health:      h,
	}
}

// init makes the aggregate series exist at zero, so rate() and absent() work from the start,
// and counts the feed as configured (never polled until its first outcome).
func (m *metrics) init(feedID string) {
	for _, r := range pollResults {
		m.polls.vec.WithLabelValues(r)
	}
	for _, c := range []feedCounterVec{m.published, m.duplicates, m.publishErrs, m.itemErrs, m.partial} {
		c.vec.WithLabelValues()
	}
	m.health.add(feedID)
}

// feedCounterVec is a counter aggregated over feeds: the feed named at the call site is not a
// label. lvs are the remaining label values (the poll result).
type feedCounterVec struct{ vec *prometheus.CounterVec }

// WithLabelValues returns the counter for the given label values, all feeds together.
func (c feedCounterVec) WithLabelValues(_ string, lvs ...string) prometheus.Counter {
	return c.vec.WithLabelValues(lvs...)
}

// feedHistogram is a histogram aggregated over feeds.
type feedHistogram struct{ h prometheus.Histogram }

// WithLabelValues returns the histogram of all feeds.
func (h feedHistogram) WithLabelValues(string) prometheus.Observer { return h.h }

// feedGauge is one per-feed value kept in the health table.
type feedGauge struct {
	t     *healthTable
	field healthField
}

// WithLabelValues returns the setter of the feed's value.
func (g feedGauge) WithLabelValues(feedID string) feedGaugeSetter {
	return feedGaugeSetter{g.t, g.field, feedID}
}

// feedGaugeSetter sets one value of one feed in the health table.
type feedGaugeSetter struct {
	t      *healthTable
	field  healthField
	feedID string
}

// Set records the value; it becomes a series only while the feed needs attention.
func (s feedGaugeSetter) Set(v float64) { s.t.set(s.feedID, s.field, v) }
