// Package feedhealth is the feed health read model: a fold of poll events.
package feedhealth

import (
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/newswatch/newswatch/events"
)

// Name is the projection's name (snapshot key, metric label, replay name).
const Name = "feed_health"

// Feed is one feed's health as the API shows it (PRODUCT §6).
type Feed struct {
	ID                  string     `json:"id"`
	URL                 string     `json:"url"`
	LastPollAt          *time.Time `json:"last_poll_at"`
	LastStatus          string     `json:"last_status"`
	LastError           string     `json:"last_error,omitempty"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	ArticlesTotal       int64      `json:"articles_total"`
	LastSuccessAt       *time.Time `json:"last_success_at,omitempty"`
	LastNewArticleAt    *time.Time `json:"last_new_article_at,omitempty"`
	Polls               int64      `json:"polls"`
	// Origin is "file" for a feed the config file declares, "runtime" for one added through
	// the API or CLI; Paused is set for a paused feed. The caller fills both in.
	Origin string `json:"origin,omitempty"`
	Paused bool   `json:"paused,omitempty"`
	// Push is the feed's WebSub subscription, when it has one; the caller fills it in.
	Push *Push `json:"websub,omitempty"`
}

// Push is a feed's WebSub subscription as the API shows it.
type Push struct {
	// State is active (the hub pushes; polls are the fallback), pending (waiting for the
	// hub's verification) or denied.
	State     string     `json:"state"`
	Hub       string     `json:"hub"`
	ExpiresAt *time.Time `json:"lease_expires_at,omitempty"`
	LastError string     `json:"last_error,omitempty"`
}

// Projection holds the health of every feed that has been polled.
type Projection struct {
	mu    sync.RWMutex
	feeds map[string]*Feed
}

// New returns an empty projection.
func New() *Projection { return &Projection{feeds: map[string]*Feed{}} }

// Name implements events.Projection.
func (p *Projection) Name() string { return Name }

// Apply folds a poll event.
func (p *Projection) Apply(data []byte, _ uint64) error {
	poll, err := events.ParsePoll(data)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.feeds[poll.FeedID]
	if f == nil {
		f = &Feed{ID: poll.FeedID}
		p.feeds[poll.FeedID] = f
	}
	at := poll.FinishedAt
	f.URL = poll.URL
	f.LastPollAt = &at
	f.LastStatus = poll.Result
	f.LastError = poll.Error
	f.ConsecutiveFailures = poll.ConsecutiveFailures
	f.ArticlesTotal += int64(poll.New)
	f.Polls++
	if !poll.Failed() {
		f.LastSuccessAt = &at
	}
	if poll.New > 0 {
		f.LastNewArticleAt = &at
	}
	return nil
}

// Snapshot implements events.Projection.
func (p *Projection) Snapshot() ([]byte, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return json.Marshal(p.feeds)
}

// Restore implements events.Projection.
func (p *Projection) Restore(data []byte) error {
	feeds := map[string]*Feed{}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &feeds); err != nil {
			return err
		}
	}
	p.mu.Lock()
	p.feeds = feeds
	p.mu.Unlock()
	return nil
}

// Get returns a copy of one feed's health.
func (p *Projection) Get(id string) (Feed, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	f, ok := p.feeds[id]
	if !ok {
		return Feed{}, false
	}
	return *f, true
}

// List returns the health of the given configured feeds, in that order; a feed that has never
// been polled is listed with status "pending". Feeds no longer configured are left out.
func (p *Projection) List(configured []Feed) []Feed {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]Feed, 0, len(configured))
	for _, c := range configured {
		if f, ok := p.feeds[c.ID]; ok {
			cp := *f
			cp.URL = c.URL
			out = append(out, cp)
			continue
		}
		out = append(out, Feed{ID: c.ID, URL: c.URL, LastStatus: "pending"})
	}
	return out
}

// IDs lists the feeds the projection knows, sorted.
func (p *Projection) IDs() []string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	ids := make([]string, 0, len(p.feeds))
	for id := range p.feeds {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
