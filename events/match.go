package events

import "time"

// TypeMatch is the type of match events.
const TypeMatch = "newswatch.match"

// MatchSchemaVersion is the match payload version this build writes.
const MatchSchemaVersion = 1

// MatchSubjectPrefix is followed by the topic id (PRODUCT §5).
const MatchSubjectPrefix = "newswatch.matches."

// MatchStream holds match events: derived facts, re-derivable by replay, kept like articles.
const MatchStream = "NEWSWATCH_MATCHES"

// MatchedTerm is one query term that matched, and the field it matched in.
type MatchedTerm struct {
	Term  string `json:"term"`
	Field string `json:"field"`
}

// Match says that an article matched a topic's query, in one version of the query. It carries
// what summaries and alerts need of the article, so they never read the article stream.
type Match struct {
	Topic        string        `json:"topic"`
	QueryVersion string        `json:"query_version"`
	ArticleID    string        `json:"article_id"`
	ArticleSeq   uint64        `json:"article_seq"`
	URL          string        `json:"url,omitempty"`
	Title        string        `json:"title"`
	Summary      string        `json:"summary,omitempty"`
	Source       string        `json:"source"`
	PublishedAt  time.Time     `json:"published_at"`
	FirstSeenAt  time.Time     `json:"first_seen_at"`
	MatchedAt    time.Time     `json:"matched_at"`
	Matched      []MatchedTerm `json:"matched"`
	// Backfill marks matches derived by a replay rather than live: summaries count them,
	// alerts do not fire for them.
	Backfill bool `json:"backfill,omitempty"`
}

// ID is the match event's id: one per (article, topic, query version), so a repeated
// derivation is recognisably the same fact.
func (m Match) ID() string {
	return "match-" + m.Topic + "-" + m.ArticleID + "-" + m.QueryVersion
}

// MatchMessage returns the outgoing message for a match event.
func MatchMessage(m Match) (Outgoing, error) {
	body, err := newEnvelope(TypeMatch, MatchSchemaVersion, "/topics/"+m.Topic, m.ID(), m.ArticleID, m.MatchedAt, m)
	if err != nil {
		return Outgoing{}, err
	}
	return Outgoing{Subject: MatchSubjectPrefix + m.Topic, MsgID: m.ID(), Type: TypeMatch, Data: body}, nil
}

// ParseMatch decodes a match event.
func ParseMatch(b []byte) (Match, error) { return parse[Match](b, TypeMatch, MatchSchemaVersion) }

// MatchView is the part of a match event that read models fold: decoding fewer fields is
// faster, and projections replay millions of them.
type MatchView struct {
	Topic       string    `json:"topic"`
	ArticleID   string    `json:"article_id"`
	URL         string    `json:"url"`
	Title       string    `json:"title"`
	Summary     string    `json:"summary"`
	Source      string    `json:"source"`
	PublishedAt time.Time `json:"published_at"`
	FirstSeenAt time.Time `json:"first_seen_at"`
}

// ParseMatchView decodes the read-model view of a match event.
func ParseMatchView(b []byte) (MatchView, error) {
	return parse[MatchView](b, TypeMatch, MatchSchemaVersion)
}

// MatchTermsView is MatchView with the query terms that matched, for read models that use
// them (stories leave a topic's own subject out of what makes two reports one story). A
// separate type, so that read models without a use for them (summaries) do not pay for
// decoding the list.
type MatchTermsView struct {
	MatchView
	Matched []MatchedTerm `json:"matched"`
}

// ParseMatchTermsView decodes a match event's read-model view with its matched terms.
func ParseMatchTermsView(b []byte) (MatchTermsView, error) {
	return parse[MatchTermsView](b, TypeMatch, MatchSchemaVersion)
}
