package cluster

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

type metrics struct {
	held          *prometheus.GaugeVec
	acquired      *prometheus.CounterVec
	lost          *prometheus.CounterVec
	claims        *prometheus.CounterVec
	memberChanges prometheus.Counter

	owned func() float64 // set before the first scrape

	mu    sync.Mutex
	feeds func() []string
}

func newMetrics(reg prometheus.Registerer, n *Node, roles []string) *metrics {
	m := registerMetrics(reg, roles, 0, func() float64 { return float64(len(n.Members())) }, nil)
	m.owned = func() float64 {
		m.mu.Lock()
		list := m.feeds
		m.mu.Unlock()
		if list == nil {
			return 0
		}
		return float64(n.Owned(list()))
	}
	return m
}

// Standalone exports the cluster metrics for an instance that runs without cluster mode: it
// holds every role and polls every feed, so the same dashboards and alert rules apply to it.
func Standalone(reg prometheus.Registerer, roles []string, feeds func() int) {
	registerMetrics(reg, roles, 1, func() float64 { return 1 }, func() float64 { return float64(feeds()) })
}

func registerMetrics(reg prometheus.Registerer, roles []string, held float64, members, owned func() float64) *metrics {
	f := promauto.With(reg)
	m := &metrics{
		held: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "newswatch_cluster_role_held",
			Help: "1 while this instance holds the role's lease (runs it), 0 while it stands by.",
		}, []string{"role"}),
		acquired: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_cluster_role_acquired_total",
			Help: "Times this instance took a role's lease: at start, and each failover to it.",
		}, []string{"role"}),
		lost: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_cluster_role_lost_total",
			Help: "Times this instance lost a role's lease while running (renewals failed or another instance took it).",
		}, []string{"role"}),
		claims: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_cluster_poll_claims_total",
			Help: "Poll slot claims by this instance for feeds it owns: won (polled), taken (another instance polled the slot), error (skipped).",
		}, []string{"result"}),
		memberChanges: f.NewCounter(prometheus.CounterOpts{
			Name: "newswatch_cluster_member_changes_total",
			Help: "Times the list of live instances changed as this instance saw it.",
		}),
	}
	m.owned = owned
	for _, r := range roles {
		m.held.WithLabelValues(r).Set(held)
		m.acquired.WithLabelValues(r)
		m.lost.WithLabelValues(r)
	}
	for _, r := range []string{"won", "taken", "error"} {
		m.claims.WithLabelValues(r)
	}
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "newswatch_cluster_members",
		Help: "Live instances in the cluster as this instance sees them.",
	}, members)
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "newswatch_cluster_feeds_owned",
		Help: "Feeds (of the config file and added at run time) this instance polls under the current member list.",
	}, func() float64 { return m.owned() })
	return m
}

// CountFeeds makes newswatch_cluster_feeds_owned count the feeds list returns (read at scrape).
func (n *Node) CountFeeds(list func() []string) {
	n.m.mu.Lock()
	n.m.feeds = list
	n.m.mu.Unlock()
}
