package websub

import "time"

// State is where a subscription stands with its hub.
type State string

// Subscription states.
const (
	// StateRequested: asked for, not verified yet (the hub has not called back).
	StateRequested State = "requested"
	// StateActive: verified; the hub pushes until ExpiresAt.
	StateActive State = "active"
	// StateDenied: the hub refused it (hub.mode=denied); asked again at RetryAt.
	StateDenied State = "denied"
)

// Subscription is one feed's subscription to its hub, as stored (one key per feed), so a
// restart keeps the secret and the lease.
type Subscription struct {
	Feed  string `json:"feed"`
	Topic string `json:"topic"`
	Hub   string `json:"hub"`
	// Secret is the HMAC key the hub signs pushes with (64 hex digits, used as they are, the
	// way hub.secret sends them): random per subscription, kept
	// across renewals, new when the topic or hub changes or the lease expired.
	Secret string `json:"secret"`
	State  State  `json:"state"`
	// RequestedAt is the last subscription request (new or renewal); VerifiedAt the last
	// verification of intent. A request is pending while RequestedAt is after VerifiedAt.
	RequestedAt time.Time `json:"requested_at"`
	VerifiedAt  time.Time `json:"verified_at,omitzero"`
	// LeaseSeconds is the lease the hub granted; ExpiresAt its end.
	LeaseSeconds int       `json:"lease_seconds,omitempty"`
	ExpiresAt    time.Time `json:"expires_at,omitzero"`
	// Failures counts requests in a row that failed, were not verified in time or were
	// denied; RetryAt is when the next one may go.
	Failures  int       `json:"failures,omitempty"`
	RetryAt   time.Time `json:"retry_at,omitzero"`
	LastError string    `json:"last_error,omitempty"`
}

// Pending reports whether a request waits for the hub's verification.
func (s *Subscription) Pending() bool { return s.RequestedAt.After(s.VerifiedAt) }

// Status names the subscription's state at now, as the API and the metrics show it: active
// (the hub pushes; a renewal may be waiting), denied, pending (waiting for the hub's
// verification) or expired (verified once, lease over).
func (s *Subscription) Status(now time.Time) string {
	switch {
	case s.Active(now):
		return "active"
	case s.State == StateDenied:
		return "denied"
	case s.Pending():
		return "pending"
	case s.State == StateActive:
		return "expired"
	}
	return string(s.State)
}

// Active reports whether the hub pushes the feed at now: verified and within its lease.
func (s *Subscription) Active(now time.Time) bool {
	return s != nil && s.State == StateActive && now.Before(s.ExpiresAt)
}

// Policy times subscription requests.
type Policy struct {
	// RenewAfter is the fraction of a lease after which it is renewed (0.8).
	RenewAfter float64
	// PendingTimeout is how long a request may wait for its verification before it is made
	// again (5m), doubling with each failure up to RetryMax.
	PendingTimeout time.Duration
	// RetryBase and RetryMax bound the wait after a failed or denied request: RetryBase
	// doubling with each failure in a row, at most RetryMax (1m and 1h).
	RetryBase, RetryMax time.Duration
}

// DefaultPolicy is the policy a zero Policy means.
var DefaultPolicy = Policy{RenewAfter: 0.8, PendingTimeout: 5 * time.Minute, RetryBase: time.Minute, RetryMax: time.Hour}

func (p Policy) withDefaults() Policy {
	if p.RenewAfter <= 0 || p.RenewAfter >= 1 {
		p.RenewAfter = DefaultPolicy.RenewAfter
	}
	if p.PendingTimeout <= 0 {
		p.PendingTimeout = DefaultPolicy.PendingTimeout
	}
	if p.RetryBase <= 0 {
		p.RetryBase = DefaultPolicy.RetryBase
	}
	if p.RetryMax < p.RetryBase {
		p.RetryMax = max(DefaultPolicy.RetryMax, p.RetryBase)
	}
	return p
}

// Backoff is the wait after n failures in a row.
func (p Policy) Backoff(n int) time.Duration {
	p = p.withDefaults()
	d := p.RetryBase
	for i := 1; i < n && d < p.RetryMax; i++ {
		d *= 2
	}
	return min(d, p.RetryMax)
}

// Kind is what a step does.
type Kind int

// Step kinds.
const (
	// None: nothing to do.
	None Kind = iota
	// Subscribe makes a new subscription: a new secret.
	Subscribe
	// Renew asks again for the subscription as it is, same secret: a lease renewal or a
	// request the hub has not verified.
	Renew
)

// Step is the next request a subscription needs and when.
type Step struct {
	Kind Kind
	At   time.Time
	// Reason is why: new, changed, renew, expired, unverified, retry.
	Reason string
}

// Due reports whether the step is to be taken at now.
func (s Step) Due(now time.Time) bool { return s.Kind != None && !s.At.After(now) }

// minRenewal keeps a very short lease from turning renewals into a busy loop.
const minRenewal = time.Second

// Plan decides the next request for a feed's subscription sub (nil: none yet), given the hub
// and topic its last parsed document announced (zero when not known, e.g. since a restart:
// then the stored ones are kept). It is pure: the manager takes the step when it is due.
//
// The rules: a feed that announces a hub and has no subscription, or announces another hub or
// topic, subscribes (new secret). An active subscription is renewed (same secret) once
// RenewAfter of its lease has passed, and subscribes anew once the lease is over. A request
// the hub does not verify within PendingTimeout (doubling per failure) is made again. After a
// failure or a denial nothing is asked before RetryAt.
func Plan(sub *Subscription, links Links, now time.Time, p Policy) Step {
	p = p.withDefaults()
	switch {
	case sub == nil && links.Valid():
		return Step{Subscribe, now, "new"}
	case sub == nil:
		return Step{}
	case links.Valid() && (links.Hub != sub.Hub || links.Self != sub.Topic):
		return Step{Subscribe, later(now, sub.RetryAt), "changed"}
	}
	lapsed := func(t time.Time) Kind {
		if sub.State == StateActive && t.Before(sub.ExpiresAt) {
			return Renew
		}
		return Subscribe
	}
	if !sub.RetryAt.IsZero() {
		at := later(now, sub.RetryAt)
		return Step{lapsed(at), sub.RetryAt, "retry"}
	}
	if sub.Pending() {
		wait := p.PendingTimeout
		for i := 0; i < sub.Failures && wait < p.RetryMax; i++ {
			wait *= 2
		}
		at := sub.RequestedAt.Add(max(p.PendingTimeout, min(wait, p.RetryMax)))
		if sub.State == StateActive && sub.ExpiresAt.Before(at) {
			// A renewal the hub has not verified yet: the lease's end comes first.
			return Step{Subscribe, sub.ExpiresAt, "expired"}
		}
		return Step{Renew, at, "unverified"}
	}
	switch sub.State {
	case StateActive:
		if !now.Before(sub.ExpiresAt) {
			return Step{Subscribe, now, "expired"}
		}
		lease := sub.ExpiresAt.Sub(sub.VerifiedAt)
		renew := sub.VerifiedAt.Add(max(time.Duration(float64(lease)*p.RenewAfter), minRenewal))
		return Step{Renew, renew, "renew"}
	default:
		// Requested and neither pending nor waiting to retry cannot be stored; denied without
		// RetryAt neither. Ask anew.
		return Step{Subscribe, now, "retry"}
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
