package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/events"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// DefaultMaxAge is how long an alert is retried before it is dead-lettered.
const DefaultMaxAge = 24 * time.Hour

// DeliveryMetrics are shared by every receiver.
type DeliveryMetrics struct {
	deliveries  *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	timeToAlert *prometheus.HistogramVec
	pending     *prometheus.GaugeVec
}

// NewDeliveryMetrics registers the delivery metrics.
func NewDeliveryMetrics(reg prometheus.Registerer) *DeliveryMetrics {
	f := promauto.With(reg)
	return &DeliveryMetrics{
		deliveries: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_alert_deliveries_total",
			Help: "Alert delivery attempts per receiver by result: delivered, retry, dead_lettered.",
		}, []string{"receiver", "result"}),
		latency: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "newswatch_alert_delivery_duration_seconds",
			Help:    "Duration of one delivery attempt to a receiver.",
			Buckets: prometheus.DefBuckets,
		}, []string{"receiver"}),
		pending: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "newswatch_alert_delivery_pending",
			Help: "Alerts not yet delivered to a receiver (being retried or waiting behind one).",
		}, []string{"receiver"}),
		timeToAlert: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "newswatch_alert_time_to_alert_seconds",
			Help:    "From an alert's earliest article being first seen to the alert being delivered.",
			Buckets: []float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600},
		}, []string{"receiver"}),
	}
}

// Init makes a receiver's series exist from the start, so increase() and absent() work.
func (m *DeliveryMetrics) Init(receiver string) {
	for _, r := range []string{"delivered", "retry", "dead_lettered"} {
		m.deliveries.WithLabelValues(receiver, r)
	}
	m.latency.WithLabelValues(receiver)
	m.timeToAlert.WithLabelValues(receiver)
	m.pending.WithLabelValues(receiver)
}

// Forget drops the pending gauge of a receiver removed from the config, so that its last
// value does not read as alerts waiting forever.
func (m *DeliveryMetrics) Forget(receiver string) { m.pending.DeleteLabelValues(receiver) }

// PendingInterval is how often a receiver's pending gauge is read from its consumer.
const PendingInterval = 2 * time.Second

// WatchPending keeps a receiver's pending gauge equal to what waits in its consumer (see
// events.Conn.DeliveryPending), read every interval until ctx ends. The handler alone would
// leave the gauge stale whenever nothing is being delivered: after a restart, while an alert
// waits out its ack wait or a retry delay.
func (m *DeliveryMetrics) WatchPending(ctx context.Context, receiver string, interval time.Duration,
	pending func(ctx context.Context, receiver string) (uint64, error), log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		n, err := pending(ctx, receiver)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !failing:
			log.Warn("pending alerts of a receiver not readable; the gauge keeps its last value", "receiver", receiver, "error", err)
		case err == nil:
			m.pending.WithLabelValues(receiver).Set(float64(n))
		}
		failing = err != nil
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Deliverer turns a notifier's outcome into what happens to the alert in the stream.
type Deliverer struct {
	N      notify.Notifier
	MaxAge time.Duration
	// Kinds are the alert kinds the receiver gets (all when empty); others are acknowledged
	// without delivery.
	Kinds []string
	M     *DeliveryMetrics
	Log   *slog.Logger
	Now   func() time.Time
}

// Handle delivers one alert (an events delivery handler).
func (d *Deliverer) Handle(ctx context.Context, del events.Delivery) events.Decision {
	name := d.N.Name()
	var a notify.Alert
	if err := json.Unmarshal(del.Data, &a); err != nil {
		d.M.deliveries.WithLabelValues(name, "dead_lettered").Inc()
		return events.Decision{DeadLetter: true, Reason: "unreadable alert: " + err.Error()}
	}
	if len(d.Kinds) > 0 && !slices.Contains(d.Kinds, a.Kind) {
		return events.Decision{Done: true}
	}
	log := d.Log.With("receiver", name, "alert", a.ID, "topic", a.Topic, "attempt", del.Attempt)
	d.M.pending.WithLabelValues(name).Set(float64(del.Pending + 1))
	start := d.Now()
	retry, err := d.N.Notify(ctx, a)
	d.M.latency.WithLabelValues(name).Observe(d.Now().Sub(start).Seconds())
	if err == nil {
		d.M.deliveries.WithLabelValues(name, "delivered").Inc()
		d.M.pending.WithLabelValues(name).Set(float64(del.Pending))
		// Time to alert is a match alert's: spikes and digests gather articles over hours.
		if first := earliestSeen(a); !first.IsZero() && a.Kind == notify.KindMatch {
			d.M.timeToAlert.WithLabelValues(name).Observe(d.Now().Sub(first).Seconds())
		}
		log.Info("alert delivered")
		return events.Decision{Done: true}
	}
	if ctx.Err() != nil {
		return events.Decision{}
	}
	maxAge := d.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	if !retry || d.Now().Sub(del.Stored) > maxAge {
		reason := err.Error()
		if retry {
			reason = "undelivered after " + maxAge.String() + ": " + reason
		}
		d.M.deliveries.WithLabelValues(name, "dead_lettered").Inc()
		d.M.pending.WithLabelValues(name).Set(float64(del.Pending))
		log.Error("alert dead-lettered", "error", reason)
		return events.Decision{DeadLetter: true, Reason: reason}
	}
	delay := notify.Backoff(int(del.Attempt), time.Second, 5*time.Minute)
	if ra, ok := notify.RetryDelay(err); ok {
		delay = max(ra, time.Second)
	}
	d.M.deliveries.WithLabelValues(name, "retry").Inc()
	var se *notify.StatusError
	log.Warn("alert delivery failed; retrying", "error", err, "retry_in", delay.String(), "http_status", statusOf(err, &se))
	return events.Decision{Delay: delay}
}

func statusOf(err error, se **notify.StatusError) int {
	if errors.As(err, se) {
		return (*se).StatusCode
	}
	return 0
}

func earliestSeen(a notify.Alert) time.Time {
	var t time.Time
	for _, art := range a.Articles {
		if !art.FirstSeenAt.IsZero() && (t.IsZero() || art.FirstSeenAt.Before(t)) {
			t = art.FirstSeenAt
		}
	}
	return t
}
