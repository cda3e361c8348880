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
	reg          *prometheus.Registry
	followErrors *prometheus.CounterVec
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
		followErrors: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_state_follow_errors_total",
			Help: "Failures following a state document that every instance of a cluster shares (silences, feeds.runtime); each is followed by a new watch.",
		}, []string{"key"}),
	}
}

// registerConnected adds newswatch_nats_connected, read from the connection at scrape time: the
// same fact /readyz reads, so the two never disagree (a gauge set from nats.go's asynchronous
// disconnect callback lagged behind /readyz).
func (m *appMetrics) registerConnected(c *events.Conn) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "newswatch_nats_connected",
		Help: "1 when the NATS connection is up, else 0.",
	}, func() float64 {
		if c.Connected() {
			return 1
		}
		return 0
	}))
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
	conn                *events.Conn
	msgs, bytes         *prometheus.Desc
	storeUsed, storeMax *prometheus.Desc
}

func (m *appMetrics) registerStreams(c *events.Conn) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "newswatch_consumer_stalls_total",
		Help: "Stream consumers (projections, processors, alert runners) found quiet with events left to deliver, and recreated.",
	}, func() float64 { return float64(c.ConsumerStalls()) }))
	m.reg.MustRegister(&streamCollector{
		conn:  c,
		msgs:  prometheus.NewDesc("newswatch_stream_messages", "Messages stored in a JetStream stream.", []string{"stream"}, nil),
		bytes: prometheus.NewDesc("newswatch_stream_bytes", "Bytes stored in a JetStream stream.", []string{"stream"}, nil),
		storeUsed: prometheus.NewDesc("newswatch_jetstream_storage_used_bytes",
			"File storage JetStream uses for newswatch's account.", nil, nil),
		storeMax: prometheus.NewDesc("newswatch_jetstream_storage_limit_bytes",
			"JetStream's file storage limit for the account (embedded: the server's, derived from the free disk).", nil, nil),
	})
}

func (s *streamCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- s.msgs
	ch <- s.bytes
	ch <- s.storeUsed
	ch <- s.storeMax
}

func (s *streamCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, name := range []string{events.ArticleStream, events.MatchStream, events.AlertStream,
		events.DeadLetterStream, events.PollStream, "KV_" + events.ProjectionBucket, "OBJ_" + events.SnapshotObjectBucket} {
		st, err := s.conn.StreamInfo(ctx, name)
		if err != nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(s.msgs, prometheus.GaugeValue, float64(st.Msgs), name)
		ch <- prometheus.MustNewConstMetric(s.bytes, prometheus.GaugeValue, float64(st.Bytes), name)
	}
	if used, limit, err := s.conn.Storage(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(s.storeUsed, prometheus.GaugeValue, float64(used))
		if limit > 0 {
			ch <- prometheus.MustNewConstMetric(s.storeMax, prometheus.GaugeValue, float64(limit))
		}
	}
}

// volumeCollector reads each topic's volume in its spike window, against the usual for that
// hour and weekday, at scrape time: a topic heating up shows in Grafana before it spikes.
type volumeCollector struct {
	a                 *App
	stories, baseline *prometheus.Desc
}

func (m *appMetrics) registerVolume(a *App) {
	m.reg.MustRegister(&volumeCollector{
		a: a,
		stories: prometheus.NewDesc("newswatch_topic_window_stories",
			"Stories of a topic in its spike window ending now (each source's share capped).", []string{"topic"}, nil),
		baseline: prometheus.NewDesc("newswatch_topic_baseline_stories",
			"Stories a topic usually has in such a window at this hour and weekday.", []string{"topic"}, nil),
	})
}

func (v *volumeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- v.stories
	ch <- v.baseline
}

func (v *volumeCollector) Collect(ch chan<- prometheus.Metric) {
	for _, t := range v.a.config().Topics {
		s := v.a.spikeRun.Volume(t.ID)
		ch <- prometheus.MustNewConstMetric(v.stories, prometheus.GaugeValue, float64(s.Count), t.ID)
		ch <- prometheus.MustNewConstMetric(v.baseline, prometheus.GaugeValue, s.Baseline, t.ID)
	}
}
