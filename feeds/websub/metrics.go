package websub

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

type metrics struct {
	pushes        *prometheus.CounterVec
	verifications *prometheus.CounterVec
	requests      *prometheus.CounterVec
}

// Push results, the values of newswatch_websub_pushes_total{result}.
const (
	PushOK           = "ok"
	PushBadSignature = "bad_signature"
	PushNoSignature  = "no_signature"
	PushUnknown      = "unknown_subscription"
	PushTooLarge     = "too_large"
	PushParseError   = "parse_error"
	PushStoreError   = "store_error"
	PushBusy         = "busy"
)

func newMetrics(reg prometheus.Registerer, m *Manager) *metrics {
	f := promauto.With(reg)
	out := &metrics{
		pushes: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_websub_pushes_total",
			Help: "Content pushed by WebSub hubs to the callback, by result: ok (stored), bad_signature, no_signature, unknown_subscription, too_large, parse_error, store_error, busy.",
		}, []string{"result"}),
		verifications: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_websub_verifications_total",
			Help: "Verification requests from hubs (GET on the callback), by hub.mode and result: accepted or refused (not a subscription newswatch asked for).",
		}, []string{"mode", "result"}),
		requests: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_websub_subscribe_requests_total",
			Help: "Subscription requests sent to hubs, by reason (new, changed, renew, expired, unverified, retry) and result (accepted, failed).",
		}, []string{"reason", "result"}),
	}
	// Every series exists from the start at 0, so rate() and absent-series alerts work.
	for _, r := range []string{PushOK, PushBadSignature, PushNoSignature, PushUnknown, PushTooLarge, PushParseError, PushStoreError, PushBusy} {
		out.pushes.WithLabelValues(r)
	}
	for _, result := range []string{"accepted", "refused"} {
		for _, mode := range []string{"subscribe", "unsubscribe", "denied", "other"} {
			out.verifications.WithLabelValues(mode, result)
		}
	}
	for _, result := range []string{"accepted", "failed"} {
		for _, reason := range []string{"new", "changed", "renew", "expired", "unverified", "retry"} {
			out.requests.WithLabelValues(reason, result)
		}
	}
	for _, state := range []string{"active", "pending", "denied"} {
		f.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "newswatch_websub_subscriptions",
			Help:        "Subscriptions this instance knows, by state: active (verified, lease not over), pending (waiting for the hub's verification), denied.",
			ConstLabels: prometheus.Labels{"state": state},
		}, func() float64 {
			now := m.now()
			return float64(m.count(func(s *Subscription) bool { return s.Status(now) == state }))
		})
	}
	return out
}
