package main

import (
	"context"
	"runtime"
	"time"

	"github.com/newswatch/newswatch/events"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

type appMetrics struct {
	reg           *prometheus.Registry
	natsConnected prometheus.Gauge
}

// newAppMetrics registers the process-wide metrics: build info, Go and process collectors, and
// the NATS connection state.
func newAppMetrics(reg *prometheus.Registry, version string) *appMetrics {
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := promauto.With(reg)
	f.NewGauge(prometheus.GaugeOpts{
		Name:        "newswatch_build_info",
		Help:        "Build information; always 1.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
	}).Set(1)
	return &appMetrics{
		reg: reg,
		natsConnected: f.NewGauge(prometheus.GaugeOpts{
			Name: "newswatch_nats_connected",
			Help: "1 when the NATS connection is up, else 0.",
		}),
	}
}

// lagger is a projection or processor that knows how far behind its stream it is.
type lagger interface {
	Name() string
	Lag() uint64
}

func (m *appMetrics) registerLag(p lagger) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "newswatch_projection_lag_events",
		Help:        "Events in the input stream not yet applied by the projection (or processor).",
		ConstLabels: prometheus.Labels{"projection": p.Name()},
	}, func() float64 { return float64(p.Lag()) }))
}

// streamCollector reads stream sizes at scrape time.
type streamCollector struct {
	conn        *events.Conn
	msgs, bytes *prometheus.Desc
}

func (m *appMetrics) registerStreams(c *events.Conn) {
	m.reg.MustRegister(&streamCollector{
		conn:  c,
		msgs:  prometheus.NewDesc("newswatch_stream_messages", "Messages stored in a JetStream stream.", []string{"stream"}, nil),
		bytes: prometheus.NewDesc("newswatch_stream_bytes", "Bytes stored in a JetStream stream.", []string{"stream"}, nil),
	})
}

func (s *streamCollector) Describe(ch chan<- *prometheus.Desc) { ch <- s.msgs; ch <- s.bytes }

func (s *streamCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, name := range []string{events.ArticleStream, events.MatchStream, events.AlertStream,
		events.DeadLetterStream, events.PollStream, "KV_" + events.ProjectionBucket} {
		st, err := s.conn.StreamInfo(ctx, name)
		if err != nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(s.msgs, prometheus.GaugeValue, float64(st.Msgs), name)
		ch <- prometheus.MustNewConstMetric(s.bytes, prometheus.GaugeValue, float64(st.Bytes), name)
	}
}
