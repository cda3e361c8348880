// Package notify defines what an alert is on the wire and what a delivery channel must do
// with it: the alert payload of PRODUCT §5, the Notifier contract with its retry semantics,
// the backoff between attempts, and the classification of HTTP outcomes shared by the
// HTTP-based channels (alerts/webhook, alerts/slack). It does no I/O of its own.
package notify

import (
	"encoding/json"
	"time"
)

// Alert kinds.
const (
	KindMatch  = "match"
	KindSpike  = "spike"
	KindDigest = "digest"
)

// Alert is the payload of an alert event (subject newswatch.alerts.<topic-id>) and the body of
// a webhook delivery, exactly as PRODUCT §5 defines it. Fields are only ever added.
type Alert struct {
	// ID identifies the alert; deliveries send it as the Idempotency-Key.
	ID        string `json:"id"`
	Topic     string `json:"topic"`
	TopicName string `json:"topic_name,omitempty"`
	// Kind is KindMatch, KindSpike or KindDigest.
	Kind     string    `json:"kind"`
	FiredAt  time.Time `json:"fired_at"`
	Articles []Article `json:"articles"`
	// Summary is one human line, such as "3 new stories for DPRK–Russia military cooperation".
	Summary string `json:"summary,omitempty"`
}

// Article is one story in an alert.
type Article struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	Title       string    `json:"title"`
	Source      string    `json:"source"`
	PublishedAt time.Time `json:"published_at"`
	FirstSeenAt time.Time `json:"first_seen_at"`
	// Matched lists the query terms that matched.
	Matched []string `json:"matched"`
	// Snippet is the start of the article's summary.
	Snippet string `json:"snippet,omitempty"`
	// Copies are other outlets' copies of the same story, folded into this one.
	Copies []Copy `json:"copies,omitempty"`
}

// Copy is another outlet's copy of an article's story.
type Copy struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	Source      string    `json:"source"`
	PublishedAt time.Time `json:"published_at"`
}

// MarshalJSON encodes the alert with "articles" as an array, never null, so that receivers
// can iterate without a nil check.
func (a Alert) MarshalJSON() ([]byte, error) {
	type plain Alert // no methods: no recursion
	if a.Articles == nil {
		a.Articles = []Article{}
	}
	return json.Marshal(plain(a))
}

// MarshalJSON encodes the article with "matched" as an array, never null.
func (a Article) MarshalJSON() ([]byte, error) {
	type plain Article
	if a.Matched == nil {
		a.Matched = []string{}
	}
	return json.Marshal(plain(a))
}
