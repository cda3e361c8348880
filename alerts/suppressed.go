package alerts

import (
	"encoding/json"
	"sync"
	"time"
)

// Reasons a match did not alert on its own: a small fixed set, the values of the label
// reason of newswatch_alert_suppressed_total.
const (
	// ReasonFolded: the match is a copy or rewrite of a story that already alerted within
	// the story window, or that waits in the topic's pending alert (it is then listed under
	// that article's copies).
	ReasonFolded = "folded"
	// ReasonSilenced: the topic was silenced when the match arrived.
	ReasonSilenced = "silenced"
	// ReasonBeforeRule: the match was made before the topic's match rule existed (history).
	ReasonBeforeRule = "before_rule"
	// ReasonBackfill: the match was derived by a replay, not live.
	ReasonBackfill = "backfill"
)

// Reasons lists every suppression reason.
var Reasons = []string{ReasonFolded, ReasonSilenced, ReasonBeforeRule, ReasonBackfill}

// How a folded match was found to be its story's.
const (
	FoldedSameArticle = "same_article" // the same article id
	FoldedSameURL     = "same_url"     // the same canonical URL
	FoldedNearCopy    = "near_copy"    // title and summary within the near-duplicate distance
	FoldedSameStory   = "same_story"   // the story model put both articles in one story
)

// Suppression says why a match did not alert on its own.
type Suppression struct {
	Topic     string    `json:"topic"`
	ArticleID string    `json:"article_id"`
	URL       string    `json:"url,omitempty"`
	Title     string    `json:"title"`
	Source    string    `json:"source"`
	MatchedAt time.Time `json:"matched_at"`
	// StreamSeq is the match event's sequence in NEWSWATCH_MATCHES.
	StreamSeq uint64 `json:"stream_seq"`
	// At is when the engine decided.
	At     time.Time `json:"decided_at"`
	Reason string    `json:"reason"`

	// Folded: the article it was folded into, that article's story (when the story model
	// knows it), how it was found to be the same story, and how similar the two are (0–1,
	// when the decision measured it).
	FoldedInto string  `json:"folded_into,omitempty"`
	Story      string  `json:"story,omitempty"`
	FoldedBy   string  `json:"folded_by,omitempty"`
	Similarity float64 `json:"similarity,omitempty"`
	// InPendingAlert: folded into an alert not yet fired; the match is listed among its copies.
	InPendingAlert bool `json:"in_pending_alert,omitempty"`
	// Silence is the id of the silence (silenced).
	Silence string `json:"silence,omitempty"`
	// RuleSince is when the topic's match rule came into existence (before_rule).
	RuleSince time.Time `json:"rule_since,omitzero"`
}

// DefaultSuppressedKept is how many suppressions are kept per topic, newest first.
const DefaultSuppressedKept = 2000

// SuppressionLog keeps the latest suppressions of each topic, bounded per topic, safe for
// concurrent use. It is what GET /api/v1/topics/{id}/matches reads.
type SuppressionLog struct {
	mu     sync.RWMutex
	keep   int
	topics map[string]*suppressed
}

// suppressed is one topic's ring of at most keep suppressions: ring[start] is the oldest once
// the ring is full. slot finds a match's entry, so that one recorded again replaces it.
type suppressed struct {
	ring  []Suppression
	start int
	slot  map[suppressionKey]int
	dirty bool
}

type suppressionKey struct {
	article string
	seq     uint64
}

func keyOf(s Suppression) suppressionKey { return suppressionKey{s.ArticleID, s.StreamSeq} }

func (t *suppressed) add(s Suppression, keep int) {
	k := keyOf(s)
	switch i, ok := t.slot[k]; {
	case ok:
		t.ring[i] = s
	case len(t.ring) < keep:
		t.slot[k] = len(t.ring)
		t.ring = append(t.ring, s)
	default:
		delete(t.slot, keyOf(t.ring[t.start]))
		t.ring[t.start] = s
		t.slot[k] = t.start
		t.start = (t.start + 1) % len(t.ring)
	}
	t.dirty = true
}

// at returns the i-th suppression, oldest first.
func (t *suppressed) at(i int) Suppression { return t.ring[(t.start+i)%len(t.ring)] }

// NewSuppressionLog returns a log keeping keep suppressions per topic (DefaultSuppressedKept
// when ≤ 0).
func NewSuppressionLog(keep int) *SuppressionLog {
	if keep <= 0 {
		keep = DefaultSuppressedKept
	}
	return &SuppressionLog{keep: keep, topics: map[string]*suppressed{}}
}

// Add records a suppression; one of the same match (read again after a restart) replaces the
// earlier one.
func (l *SuppressionLog) Add(s Suppression) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.topic(s.Topic).add(s, l.keep)
}

// topic returns a topic's ring, made when missing. l.mu is held.
func (l *SuppressionLog) topic(id string) *suppressed {
	t := l.topics[id]
	if t == nil {
		t = &suppressed{slot: map[suppressionKey]int{}}
		l.topics[id] = t
	}
	return t
}

// Of returns the suppressions of an article on a topic, newest first (an article matched
// again under a new query version has one per match).
func (l *SuppressionLog) Of(topic, articleID string) []Suppression {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []Suppression
	if t := l.topics[topic]; t != nil {
		for i := len(t.ring) - 1; i >= 0; i-- {
			if s := t.at(i); s.ArticleID == articleID {
				out = append(out, s)
			}
		}
	}
	return out
}

// Latest returns a topic's latest suppressions, newest first, at most limit.
func (l *SuppressionLog) Latest(topic string, limit int) []Suppression {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := []Suppression{}
	if t := l.topics[topic]; t != nil {
		for i := len(t.ring) - 1; i >= 0 && len(out) < limit; i-- {
			out = append(out, t.at(i))
		}
	}
	return out
}

// dirtyTopics returns the topics changed since they were last marshalled, with their
// documents.
func (l *SuppressionLog) dirtyTopics() map[string][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string][]byte{}
	for topic, t := range l.topics {
		if t.dirty {
			list := make([]Suppression, len(t.ring))
			for i := range list {
				list[i] = t.at(i)
			}
			data, err := json.Marshal(list)
			if err == nil {
				out[topic] = data
				t.dirty = false
			}
		}
	}
	return out
}

// markDirty makes a topic be saved again (its save failed).
func (l *SuppressionLog) markDirty(topic string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t := l.topics[topic]; t != nil {
		t.dirty = true
	}
}

// restore puts back a topic's saved suppressions.
func (l *SuppressionLog) restore(topic string, data []byte) error {
	var list []Suppression
	if err := json.Unmarshal(data, &list); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	t := &suppressed{slot: map[suppressionKey]int{}}
	for _, s := range list {
		t.add(s, l.keep)
	}
	t.dirty = false
	l.topics[topic] = t
	return nil
}
