package alerts

import (
	"encoding/json"
	"slices"
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

// suppressed is one topic's ring: list in arrival order (oldest first), at most keep.
type suppressed struct {
	list  []Suppression
	dirty bool
}

// NewSuppressionLog returns a log keeping keep suppressions per topic (DefaultSuppressedKept
// when ≤ 0).
func NewSuppressionLog(keep int) *SuppressionLog {
	if keep <= 0 {
		keep = DefaultSuppressedKept
	}
	return &SuppressionLog{keep: keep, topics: map[string]*suppressed{}}
}

// Add records a suppression; one of the same match (the same article, read again after a
// restart) replaces the earlier one.
func (l *SuppressionLog) Add(s Suppression) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.topics[s.Topic]
	if t == nil {
		t = &suppressed{}
		l.topics[s.Topic] = t
	}
	t.list = slices.DeleteFunc(t.list, func(x Suppression) bool { return x.ArticleID == s.ArticleID && x.StreamSeq == s.StreamSeq })
	t.list = append(t.list, s)
	if over := len(t.list) - l.keep; over > 0 {
		t.list = slices.Delete(t.list, 0, over)
	}
	t.dirty = true
}

// Of returns the suppressions of an article on a topic, newest first (an article matched
// again under a new query version has one per match).
func (l *SuppressionLog) Of(topic, articleID string) []Suppression {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []Suppression
	if t := l.topics[topic]; t != nil {
		for i := len(t.list) - 1; i >= 0; i-- {
			if t.list[i].ArticleID == articleID {
				out = append(out, t.list[i])
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
		for i := len(t.list) - 1; i >= 0 && len(out) < limit; i-- {
			out = append(out, t.list[i])
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
			data, err := json.Marshal(t.list)
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
	if over := len(list) - l.keep; over > 0 {
		list = list[over:]
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.topics[topic] = &suppressed{list: list}
	return nil
}
