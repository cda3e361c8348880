package alerts

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics are what the alert runners count, shared by the match, spike and digest runners.
type Metrics struct {
	fired *prometheus.CounterVec
}

// NewMetrics registers the runners' metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	return &Metrics{fired: promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
		Name: "newswatch_alerts_fired_total",
		Help: "Alerts fired, per topic and rule kind.",
	}, []string{"topic", "kind"})}
}

// init creates a rule's series at zero, so that rate() and alerting rules see it before the
// first alert.
func (m *Metrics) init(topic, kind string) { m.fired.WithLabelValues(topic, kind) }

func (m *Metrics) firedOne(topic, kind string) { m.fired.WithLabelValues(topic, kind).Inc() }
