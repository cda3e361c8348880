// Package events is newswatch's event contract: the event types, their schema versions, the
// NATS subjects they live on, and the JetStream plumbing that stores them.
package events

import "time"

// Article is one news item as newswatch first saw it. It is the payload of an article event and
// never changes once published.
type Article struct {
	// ID is the stable article id: a hash of the canonical URL, or of feed id and GUID when the
	// item has no usable link. Two copies of one story under tracking-parameter URLs share it.
	ID string `json:"id"`
	// FeedID is the configured id of the feed the article was first seen in.
	FeedID string `json:"feed_id"`
	// URL is the canonical URL (PRODUCT §5); empty when the item had no link.
	URL string `json:"url,omitempty"`
	// Link is the link exactly as the feed gave it (resolved to an absolute URL).
	Link string `json:"link,omitempty"`
	// GUID is the item's guid / Atom id / JSON Feed id, when it has one.
	GUID string `json:"guid,omitempty"`
	// Title, Summary and Content are plain text: HTML stripped, entities decoded, whitespace
	// collapsed.
	Title   string `json:"title"`
	Summary string `json:"summary,omitempty"`
	Content string `json:"content,omitempty"`
	// PublishedAt is the item's publication (or update) time; when the feed gives none it is
	// FirstSeenAt and PublishedEstimated is true.
	PublishedAt        time.Time `json:"published_at"`
	PublishedEstimated bool      `json:"published_estimated,omitempty"`
	// FirstSeenAt is when newswatch fetched the item for the first time.
	FirstSeenAt time.Time `json:"first_seen_at"`
	Authors     []string  `json:"authors,omitempty"`
	Categories  []string  `json:"categories,omitempty"`
	// Language is the item's or feed's declared language (BCP 47 as given), when declared.
	Language string `json:"language,omitempty"`
}
