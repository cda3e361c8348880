package alerts

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics are what the alert runners count, shared by the match, spike and digest runners.
type Metrics struct {
	fired      *prometheus.CounterVec
	suppressed *prometheus.CounterVec
}

// NewMetrics registers the runners' metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		fired: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_alerts_fired_total",
			Help: "Alerts fired, per topic and rule kind.",
		}, []string{"topic", "kind"}),
		suppressed: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_alert_suppressed_total",
			Help: "Matches of a topic with a match rule that did not alert on their own, by reason: folded, silenced, before_rule, backfill.",
		}, []string{"topic", "reason"}),
	}
}

// initSuppressed creates a match rule's suppression series at zero.
func (m *Metrics) initSuppressed(topic string) {
	for _, r := range Reasons {
		m.suppressed.WithLabelValues(topic, r)
	}
}

func (m *Metrics) suppressedOne(topic, reason string) {
	m.suppressed.WithLabelValues(topic, reason).Inc()
}

// init creates a rule's series at zero, so that rate() and alerting rules see it before the
// first alert.
func (m *Metrics) init(topic, kind string) { m.fired.WithLabelValues(topic, kind) }

func (m *Metrics) firedOne(topic, kind string) { m.fired.WithLabelValues(topic, kind).Inc() }
