package feeds

import (
	"container/heap"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Per-feed series are exported only for the feeds that need attention, and for at most
// maxFeedSeries of them: at 10,000 feeds a series per feed per value is a Prometheus problem,
// and a healthy feed's own series say nothing the aggregates do not.
const (
	// maxFeedSeries caps the feeds with their own series; failing feeds come first (most
	// failures in a row first), then stale, then silent ones (longest first).
	maxFeedSeries = 100
	// staleAfter is how long without an ok or not_modified poll makes a feed stale. It is below
	// the NewswatchFeedStale rule's threshold, so the series exist before the rule needs them.
	staleAfter = 2 * time.Hour
	// silentAfter is how long without a new article makes an answering feed silent; below the
	// NewswatchFeedSilent rule's threshold.
	silentAfter = 24 * time.Hour
)

// Feed statuses, the values of newswatch_feeds' status label. Each feed has exactly one.
const (
	statusOK          = "ok"
	statusFailing     = "failing"
	statusStale       = "stale"
	statusSilent      = "silent"
	statusNeverPolled = "never_polled"
)

var feedStatuses = []string{statusOK, statusFailing, statusStale, statusSilent, statusNeverPolled}

type healthField int

const (
	fieldFailures healthField = iota
	fieldLastSuccess
	fieldLastNew
	fieldCadence
	numHealthFields
)

// feedHealth is what the metrics know of one feed: consecutive failures, the Unix times of the
// last success and the last new article (0: never), and the cadence in seconds (0: unknown).
type feedHealth [numHealthFields]float64

// healthTable holds every configured feed's health and exports it at scrape time: a count of
// feeds per status, and the per-feed gauges of the feeds that need attention.
type healthTable struct {
	now func() time.Time

	mu    sync.Mutex
	feeds map[string]*feedHealth

	count, failures, lastSuccess, lastNew, cadence *prometheus.Desc
}

func newHealthTable() *healthTable {
	return &healthTable{
		now:   time.Now,
		feeds: map[string]*feedHealth{},
		count: prometheus.NewDesc("newswatch_feeds",
			"Configured feeds by status: ok, failing (last poll failed), stale (no ok or not_modified poll for 2h), silent (nothing new for 24h), never_polled.",
			[]string{"status"}, nil),
		failures: prometheus.NewDesc("newswatch_feed_consecutive_failures",
			"Failed polls in a row; only for feeds that need attention (failing, stale or silent), at most 100.",
			[]string{"feed"}, nil),
		lastSuccess: prometheus.NewDesc("newswatch_feed_last_success_timestamp_seconds",
			"Unix time of the feed's last successful (ok or not_modified) poll; only for feeds that need attention.",
			[]string{"feed"}, nil),
		lastNew: prometheus.NewDesc("newswatch_feed_last_new_article_timestamp_seconds",
			"Unix time of the last poll that brought a new article; only for feeds that need attention.",
			[]string{"feed"}, nil),
		cadence: prometheus.NewDesc("newswatch_feed_new_article_interval_seconds",
			"The feed's usual cadence: moving average of the time between polls that brought new articles; only for feeds that need attention.",
			[]string{"feed"}, nil),
	}
}

func (t *healthTable) add(feedID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.feeds[feedID] == nil {
		t.feeds[feedID] = &feedHealth{}
	}
}

// remove forgets a feed that is no longer polled (removed at run time).
func (t *healthTable) remove(feedID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.feeds, feedID)
}

func (t *healthTable) set(feedID string, f healthField, v float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	h := t.feeds[feedID]
	if h == nil {
		h = &feedHealth{}
		t.feeds[feedID] = h
	}
	h[f] = v
}

// status classifies one feed at time now (Unix seconds).
func (h *feedHealth) status(now float64) string {
	switch {
	case h[fieldFailures] > 0:
		return statusFailing
	case h[fieldLastSuccess] == 0:
		return statusNeverPolled
	case now-h[fieldLastSuccess] > staleAfter.Seconds():
		return statusStale
	case h[fieldLastNew] != 0 && now-h[fieldLastNew] > silentAfter.Seconds():
		return statusSilent
	}
	return statusOK
}

// attention is a feed that gets its own series, with what ranks it against the others.
type attention struct {
	id     string
	health feedHealth
	rank   int     // 0 failing, 1 stale, 2 silent
	key    float64 // lower comes first within a rank
}

func (t *healthTable) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{t.count, t.failures, t.lastSuccess, t.lastNew, t.cadence} {
		ch <- d
	}
}

func (t *healthTable) Collect(ch chan<- prometheus.Metric) {
	counts, top := t.snapshot()
	for _, s := range feedStatuses {
		ch <- prometheus.MustNewConstMetric(t.count, prometheus.GaugeValue, float64(counts[s]), s)
	}
	for _, a := range top {
		ch <- prometheus.MustNewConstMetric(t.failures, prometheus.GaugeValue, a.health[fieldFailures], a.id)
		for f, d := range map[healthField]*prometheus.Desc{fieldLastSuccess: t.lastSuccess, fieldLastNew: t.lastNew, fieldCadence: t.cadence} {
			if v := a.health[f]; v != 0 {
				ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, a.id)
			}
		}
	}
}

// snapshot counts the feeds per status and picks the feeds that get their own series: the
// maxFeedSeries first by rank, kept in a bounded heap so a scrape does not sort every feed.
func (t *healthTable) snapshot() (map[string]int, []attention) {
	now := float64(t.now().UnixMilli()) / 1000
	counts := make(map[string]int, len(feedStatuses))
	top := &worstFirst{}
	t.mu.Lock()
	for id, h := range t.feeds {
		s := h.status(now)
		counts[s]++
		var a attention
		switch s {
		case statusFailing:
			a = attention{id, *h, 0, -h[fieldFailures]}
		case statusStale:
			a = attention{id, *h, 1, h[fieldLastSuccess]}
		case statusSilent:
			a = attention{id, *h, 2, h[fieldLastNew]}
		default:
			continue
		}
		if top.Len() < maxFeedSeries {
			heap.Push(top, a)
		} else if before(a, (*top)[0]) {
			(*top)[0] = a
			heap.Fix(top, 0)
		}
	}
	t.mu.Unlock()
	return counts, *top
}

// before reports whether a ranks before b: lower rank, then lower key, then id.
func before(a, b attention) bool {
	if a.rank != b.rank {
		return a.rank < b.rank
	}
	if a.key != b.key {
		return a.key < b.key
	}
	return a.id < b.id
}

// worstFirst is a heap whose root is the attention entry ranked last.
type worstFirst []attention

func (h worstFirst) Len() int           { return len(h) }
func (h worstFirst) Less(i, j int) bool { return before(h[j], h[i]) }
func (h worstFirst) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *worstFirst) Push(x any)        { *h = append(*h, x.(attention)) }
func (h *worstFirst) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
