package feeds

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

type metrics struct {
	polls        *prometheus.CounterVec
	pollDuration *prometheus.HistogramVec
	published    *prometheus.CounterVec
	duplicates   *prometheus.CounterVec
	failures     *prometheus.GaugeVec
	lastSuccess  *prometheus.GaugeVec
	lastNew      *prometheus.GaugeVec
	publishErrs  *prometheus.CounterVec
	itemErrs     *prometheus.CounterVec
	partial      *prometheus.CounterVec
	cadence      *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	return &metrics{
		polls: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_feed_polls_total",
			Help: "Feed polls by outcome: ok, not_modified, http_error, network_error, parse_error, refused.",
		}, []string{"feed", "result"}),
		pollDuration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "newswatch_feed_poll_duration_seconds",
			Help:    "Time from the start of a poll to its articles being stored.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 30, 60},
		}, []string{"feed"}),
		published: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_articles_published_total",
			Help: "New articles appended to the article stream.",
		}, []string{"feed"}),
		duplicates: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_articles_duplicate_total",
			Help: "Items skipped because their article was already in the stream (or repeated within a poll).",
		}, []string{"feed"}),
		failures: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "newswatch_feed_consecutive_failures",
			Help: "Failed polls in a row; 0 after a successful poll.",
		}, []string{"feed"}),
		lastSuccess: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "newswatch_feed_last_success_timestamp_seconds",
			Help: "Unix time of the feed's last successful (ok or not_modified) poll.",
		}, []string{"feed"}),
		lastNew: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "newswatch_feed_last_new_article_timestamp_seconds",
			Help: "Unix time of the last poll that brought a new article.",
		}, []string{"feed"}),
		publishErrs: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_feed_store_errors_total",
			Help: "Polls whose articles or outcome could not be appended to JetStream; the poll is retried.",
		}, []string{"feed"}),
		cadence: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "newswatch_feed_new_article_interval_seconds",
			Help: "The feed's usual cadence: moving average of the time between polls that brought new articles.",
		}, []string{"feed"}),
		partial: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_feed_partial_parses_total",
			Help: "Polls whose document was broken or over the item or nesting limit; its complete items were still used.",
		}, []string{"feed"}),
		itemErrs: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_feed_items_invalid_total",
			Help: "Feed items skipped because they had no link, no id and no title.",
		}, []string{"feed"}),
	}
}

// init makes every feed's series exist at zero, so rate() and absent() work from the start.
func (m *metrics) init(feedID string) {
	for _, r := range []string{"ok", "not_modified", "http_error", "network_error", "parse_error", "refused"} {
		m.polls.WithLabelValues(feedID, r)
	}
	m.published.WithLabelValues(feedID)
	m.duplicates.WithLabelValues(feedID)
	m.failures.WithLabelValues(feedID)
	m.publishErrs.WithLabelValues(feedID)
	m.itemErrs.WithLabelValues(feedID)
	m.partial.WithLabelValues(feedID)
}
