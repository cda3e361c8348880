package websub

import (
	"testing"
	"time"
)

func TestPlan(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	p := Policy{RenewAfter: 0.8, PendingTimeout: 5 * time.Minute, RetryBase: time.Minute, RetryMax: time.Hour}
	links := Links{Hub: "https://hub.example/", Self: "https://news.example/feed"}
	active := &Subscription{Topic: links.Self, Hub: links.Hub, State: StateActive,
		RequestedAt: t0, VerifiedAt: t0, LeaseSeconds: 1000, ExpiresAt: t0.Add(1000 * time.Second)}
	with := func(change func(*Subscription)) *Subscription {
		s := *active
		change(&s)
		return &s
	}
	tests := []struct {
		name   string
		sub    *Subscription
		links  Links
		now    time.Time
		kind   Kind
		at     time.Time
		reason string
	}{
		{"no hub, nothing stored", nil, Links{}, t0, None, time.Time{}, ""},
		{"hub only, no self", nil, Links{Hub: links.Hub}, t0, None, time.Time{}, ""},
		{"hub announced", nil, links, t0, Subscribe, t0, "new"},
		{"active: renew at 80%", active, links, t0.Add(time.Minute), Renew, t0.Add(800 * time.Second), "renew"},
		{"active: renewal due", active, links, t0.Add(900 * time.Second), Renew, t0.Add(800 * time.Second), "renew"},
		{"active, links unknown since a restart: kept", active, Links{}, t0, Renew, t0.Add(800 * time.Second), "renew"},
		{"lease over", active, links, t0.Add(1000 * time.Second), Subscribe, t0.Add(1000 * time.Second), "expired"},
		{"topic moved", active, Links{Hub: links.Hub, Self: "https://news.example/new"}, t0, Subscribe, t0, "changed"},
		{"hub moved", active, Links{Hub: "https://hub2.example/", Self: links.Self}, t0, Subscribe, t0, "changed"},
		{"renewal pending", with(func(s *Subscription) { s.RequestedAt = t0.Add(800 * time.Second) }), links, t0.Add(801 * time.Second),
			Subscribe, t0.Add(1000 * time.Second), "expired"},
		{"new request pending", &Subscription{Topic: links.Self, Hub: links.Hub, State: StateRequested, RequestedAt: t0}, links, t0,
			Renew, t0.Add(5 * time.Minute), "unverified"},
		{"unverified twice: waits longer", &Subscription{Topic: links.Self, Hub: links.Hub, State: StateRequested, RequestedAt: t0, Failures: 2}, links, t0,
			Renew, t0.Add(20 * time.Minute), "unverified"},
		{"failed renewal waits for its retry, lease still on", with(func(s *Subscription) {
			s.RequestedAt, s.Failures, s.RetryAt = t0.Add(800*time.Second), 1, t0.Add(860*time.Second)
		}), links, t0.Add(801 * time.Second), Renew, t0.Add(860 * time.Second), "retry"},
		{"failed renewal, retry after the lease: anew", with(func(s *Subscription) {
			s.RequestedAt, s.Failures, s.RetryAt = t0.Add(990*time.Second), 1, t0.Add(1050*time.Second)
		}), links, t0.Add(1050 * time.Second), Subscribe, t0.Add(1050 * time.Second), "retry"},
		{"denied: asked again at its retry", &Subscription{Topic: links.Self, Hub: links.Hub, State: StateDenied, RequestedAt: t0, RetryAt: t0.Add(time.Hour)}, links, t0,
			Subscribe, t0.Add(time.Hour), "retry"},
		{"very short lease: not a busy loop", with(func(s *Subscription) { s.ExpiresAt = t0.Add(time.Second) }), links, t0,
			Renew, t0.Add(time.Second), "renew"},
	}
	for _, tt := range tests {
		got := Plan(tt.sub, tt.links, tt.now, p)
		if got.Kind != tt.kind || !got.At.Equal(tt.at) || got.Reason != tt.reason {
			t.Errorf("%s: Plan = %+v, want kind %d at %s (%s)", tt.name, got, tt.kind, tt.at.Format(time.TimeOnly), tt.reason)
		}
	}
}

func TestBackoffDoublesUpToTheCap(t *testing.T) {
	p := Policy{RetryBase: time.Minute, RetryMax: 10 * time.Minute}
	var got []time.Duration
	for n := 1; n <= 6; n++ {
		got = append(got, p.Backoff(n))
	}
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute, 10 * time.Minute}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("backoff = %v, want %v", got, want)
		}
	}
}
