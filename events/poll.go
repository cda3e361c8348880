package events

import (
	"fmt"
	"time"
)

// Poll results: the label values of newswatch_feed_polls_total (PRODUCT §7).
const (
	ResultOK           = "ok"
	ResultNotModified  = "not_modified"
	ResultHTTPError    = "http_error"
	ResultNetworkError = "network_error"
	ResultParseError   = "parse_error"
	ResultRefused      = "refused"
	// ResultStoreError is a poll whose document was read but whose new articles could not all
	// be stored (the store is down or full); it counts as a failure and is retried.
	ResultStoreError = "store_error"
)

// Poll is the outcome of one poll of one feed. Feed health is a projection of poll events, and
// the last poll event of a feed carries the validators that keep the next request conditional
// across restarts.
type Poll struct {
	FeedID     string    `json:"feed_id"`
	URL        string    `json:"url"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Result     string    `json:"result"`
	StatusCode int       `json:"status_code,omitempty"`
	Error      string    `json:"error,omitempty"`
	// Items is the number of items in the fetched document; New and Duplicates split the items
	// that yielded an article.
	Items      int `json:"items"`
	New        int `json:"new"`
	Duplicates int `json:"duplicates"`
	// ETag and LastModified are the validators for the next conditional request.
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	// ConsecutiveFailures counts failed polls in a row including this one (0 after a success).
	ConsecutiveFailures int `json:"consecutive_failures"`
	// RetryAfter is how long the server asked us to wait, when it did.
	RetryAfter time.Duration `json:"retry_after_ns,omitempty"`
	// LastSuccessAt and LastNewArticleAt carry the feed's history forward, so a restart knows
	// them even when the last poll failed.
	LastSuccessAt    *time.Time `json:"last_success_at,omitempty"`
	LastNewArticleAt *time.Time `json:"last_new_article_at,omitempty"`
	// NewArticleInterval is the feed's usual cadence: a moving average of the time between
	// polls that brought something new.
	NewArticleInterval time.Duration `json:"new_article_interval_ns,omitempty"`
	// Slot is the scheduled time the poll was for (absent for polls on demand); with several
	// instances at most one polls a feed's slot. Instance names the instance that polled.
	Slot     *time.Time `json:"slot,omitempty"`
	Instance string     `json:"instance,omitempty"`
}

// ID is the poll event's id, unique per feed and start time.
func (p Poll) ID() string {
	return fmt.Sprintf("poll-%s-%d", p.FeedID, p.StartedAt.UnixNano())
}

// Failed reports whether the poll counts as a failure for backoff and health.
func (p Poll) Failed() bool {
	return p.Result != ResultOK && p.Result != ResultNotModified
}
