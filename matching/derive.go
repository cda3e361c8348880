// Package matching turns article events into match events: the topic matcher as a stream
// processor.
package matching

import (
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/topics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// compiled is one generation of the configured topics.
type compiled struct {
	matcher  *topics.Matcher
	versions map[string]string // topic id -> query version
}

// FeedTags returns the tags of a feed as they are now (nil for a feed without tags or one no
// longer polled). Tags belong to the feed, not to the article event, so they are looked up
// when an article is matched: a tag change applies to the articles matched after it, and a
// replay matches with the tags current when it runs.
type FeedTags func(feedID string) []string

// Deriver turns article events into match events. Its topics can be replaced at any time
// (config reload); each article is matched against the topics current when it is handled,
// and with its feed's tags as the injected lookup gives them at that moment.
type Deriver struct {
	cur     atomic.Pointer[compiled]
	now     func() time.Time
	tags    FeedTags
	matches *prometheus.CounterVec
}

// NewDeriver compiles topics and registers newswatch_topic_matches_total. tags gives each
// article's feed tags (nil: none); it must be safe for concurrent use.
func NewDeriver(list []topics.Topic, tags FeedTags, reg prometheus.Registerer, now func() time.Time) (*Deriver, error) {
	d := &Deriver{now: now, tags: tags, matches: promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
		Name: "newswatch_topic_matches_total",
		Help: "Match events derived live, per topic.",
	}, []string{"topic"})}
	if err := d.Update(list); err != nil {
		return nil, err
	}
	return d, nil
}

// Update compiles a new set of topics and switches to it; on error the old set stays.
func (d *Deriver) Update(list []topics.Topic) error {
	m, err := topics.Compile(list)
	if err != nil {
		return err
	}
	c := &compiled{matcher: m, versions: make(map[string]string, len(list))}
	for _, t := range list {
		c.versions[t.ID] = topics.Version(t.Query)
		d.matches.WithLabelValues(t.ID)
	}
	d.cur.Store(c)
	return nil
}

// DocOf is the matcher's view of an article: its fields, and the tags its feed has now.
// Every matcher of stored articles (the deriver, backfill, the page's query tester) builds
// its documents here, so they all read tag: the same way.
func DocOf(a events.Article, tags FeedTags) topics.Doc {
	d := topics.Doc{Title: a.Title, Summary: a.Summary, Content: a.Content, URL: a.URL, Source: a.FeedID}
	if tags != nil {
		d.Tags = tags(a.FeedID)
	}
	return d
}

// Handle derives the match events of one article event (an events.Handler).
func (d *Deriver) Handle(data []byte, seq uint64) ([]events.Outgoing, error) {
	a, err := events.ParseArticleShared(data)
	if err != nil {
		return nil, err
	}
	c := d.cur.Load()
	hits := c.matcher.Match(DocOf(a, d.tags))
	if len(hits) == 0 {
		return nil, nil
	}
	now := d.now().UTC()
	out := make([]events.Outgoing, 0, len(hits))
	for _, h := range hits {
		msg, err := events.MatchMessage(NewMatch(a, seq, h, c.versions[h.Topic], now))
		if err != nil {
			return nil, err
		}
		out = append(out, msg)
		d.matches.WithLabelValues(h.Topic).Inc()
	}
	return out, nil
}

// NewMatch is the match event of article a (stored at seq) for a hit under a query version.
func NewMatch(a events.Article, seq uint64, h topics.Hit, version string, now time.Time) events.Match {
	m := events.Match{
		Topic: h.Topic, QueryVersion: version, ArticleID: a.ID, ArticleSeq: seq,
		URL: a.URL, Title: a.Title, Summary: snippet(a.Summary, 300), Source: a.FeedID,
		PublishedAt: a.PublishedAt, FirstSeenAt: a.FirstSeenAt, MatchedAt: now,
	}
	for _, t := range h.Terms {
		m.Matched = append(m.Matched, events.MatchedTerm{Term: t.Term, Field: t.Field})
	}
	return m
}

// snippet cuts s to at most n runes at a word boundary.
func snippet(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	cut, count, lastSpace := 0, 0, 0
	for i, r := range s {
		if count == n {
			cut = i
			break
		}
		if r == ' ' {
			lastSpace = i
		}
		count++
	}
	if lastSpace > cut/2 {
		cut = lastSpace
	}
	return s[:cut] + "…"
}
