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
	// Spike explains a spike alert: its numbers (the stories behind it are its articles).
	Spike *Spike `json:"spike,omitempty"`
	// Digest describes a digest alert: its period and totals (its top stories are its
	// articles).
	Digest *Digest `json:"digest,omitempty"`
	// Late is set on a match alert that fires late: a match of it waited for the engine
	// longer than usual (the daemon was down, or far behind), and still fires.
	Late *Late `json:"late,omitempty"`
}

// Late says how late a match alert is: its oldest match was made at MatchedAt, AgeSeconds
// before the alert fired.
type Late struct {
	MatchedAt  time.Time `json:"matched_at"`
	AgeSeconds int64     `json:"age_seconds"`
}

// Spike is what a spike alert measured: over the window (WindowStart, WindowEnd], Count
// stories (each source's share capped, so one feed cannot make a spike alone) where
// Baseline were expected at this hour and weekday.
type Spike struct {
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	Count       int       `json:"count"`
	// Articles counts the window's articles, copies of a story included.
	Articles int     `json:"articles"`
	Baseline float64 `json:"baseline"`
	Ratio    float64 `json:"ratio"`
	// PValue is the probability of at least Count stories under the baseline.
	PValue float64 `json:"p_value"`
	// Needed is the least count that would have fired.
	Needed int `json:"needed"`
	// Sources are the window's sources by articles; Terms the matched query terms by stories.
	Sources []SourceCount `json:"sources"`
	Terms   []TermCount   `json:"terms"`
}

// SourceCount is a source with its number of articles.
type SourceCount struct {
	Source string `json:"source"`
	Count  int    `json:"count"`
}

// TermCount is a query term with the number of stories it matched.
type TermCount struct {
	Term  string `json:"term"`
	Count int    `json:"count"`
}

// Digest is the period of a digest alert, [Since, Until), and its totals: every story,
// article and outlet of the period, of which the alert lists the top stories.
type Digest struct {
	Since         time.Time `json:"since"`
	Until         time.Time `json:"until"`
	Schedule      string    `json:"schedule"`
	TotalStories  int       `json:"total_stories"`
	TotalArticles int       `json:"total_articles"`
	Outlets       int       `json:"outlets"`
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
	// Story is the id of the article's story in the topic_stories projection
	// (GET /api/v1/topics/{id}), when known.
	Story string `json:"story,omitempty"`
	// Outlets and StoryArticles count the story's outlets and articles (a digest: in its
	// period), when the alert lists stories rather than articles.
	Outlets       int `json:"outlets,omitempty"`
	StoryArticles int `json:"story_articles,omitempty"`
	// Copies are other articles of the same story, folded into this one: syndicated copies
	// and other outlets' rewrites.
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
