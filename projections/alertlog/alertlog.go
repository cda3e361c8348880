// Package alertlog is the read model of recent alerts: the newest alerts per topic for the API,
// and a live feed of new ones for Server-Sent Events.
package alertlog

import (
	"encoding/json"
	"slices"
	"sync"

	"github.com/newswatch/newswatch/alerts/notify"
)

// Name is the projection's name.
const Name = "alert_log"

// Kept is how many alerts the log keeps, newest first.
const Kept = 1000

// Projection keeps the newest alerts.
type Projection struct {
	mu     sync.RWMutex
	alerts []json.RawMessage // newest last
	topics []string          // topic of each entry
	subs   map[chan json.RawMessage]struct{}
}

// New returns an empty log.
func New() *Projection { return &Projection{subs: map[chan json.RawMessage]struct{}{}} }

// Name implements events.Projection.
func (p *Projection) Name() string { return Name }

// Apply adds an alert event and tells live subscribers.
func (p *Projection) Apply(data []byte, _ uint64) error {
	var a notify.Alert
	if err := json.Unmarshal(data, &a); err != nil {
		return err
	}
	raw := json.RawMessage(slices.Clone(data))
	p.mu.Lock()
	defer p.mu.Unlock()
	p.alerts = append(p.alerts, raw)
	p.topics = append(p.topics, a.Topic)
	if n := len(p.alerts) - Kept; n > 0 {
		p.alerts, p.topics = slices.Clone(p.alerts[n:]), slices.Clone(p.topics[n:])
	}
	for ch := range p.subs {
		select {
		case ch <- raw:
		default: // a subscriber that cannot keep up misses alerts rather than stalling others
		}
	}
	return nil
}

type snapshot struct {
	Alerts []json.RawMessage `json:"alerts"`
	Topics []string          `json:"topics"`
}

// Snapshot implements events.Projection.
func (p *Projection) Snapshot() ([]byte, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return json.Marshal(snapshot{Alerts: p.alerts, Topics: p.topics})
}

// Restore implements events.Projection.
func (p *Projection) Restore(data []byte) error {
	var s snapshot
	if len(data) > 0 {
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
	}
	p.mu.Lock()
	p.alerts, p.topics = s.Alerts, s.Topics
	p.mu.Unlock()
	return nil
}

// List returns the alerts of a topic (all when topic is ""), newest first, at most limit.
func (p *Projection) List(topic string, limit int) []json.RawMessage {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := []json.RawMessage{}
	for i := len(p.alerts) - 1; i >= 0 && len(out) < limit; i-- {
		if topic == "" || p.topics[i] == topic {
			out = append(out, p.alerts[i])
		}
	}
	return out
}

// Subscribe returns a channel of new alerts and a function that ends the subscription.
func (p *Projection) Subscribe() (<-chan json.RawMessage, func()) {
	ch := make(chan json.RawMessage, 64)
	p.mu.Lock()
	p.subs[ch] = struct{}{}
	p.mu.Unlock()
	return ch, func() {
		p.mu.Lock()
		delete(p.subs, ch)
		p.mu.Unlock()
	}
}
