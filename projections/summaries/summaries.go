// Package summaries is the topic summary read model: per topic, how many articles matched, how
// many recently, from which sources, and the latest ones. It is a fold of match events.
package summaries

import (
	"cmp"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/newswatch/newswatch/events"
)

// Name is the projection's name (snapshot key, metric label, replay name).
const Name = "topic_summaries"

// latestKept is how many latest articles a summary lists.
const latestKept = 20

// recentWindow is how long article ids are remembered per topic: counts for 1h/24h/7d come from
// them, and a second match of an article within it (another query version) is not counted
// twice.
const recentWindow = 8 * 24 * time.Hour

// Article is one article as a summary lists it.
type Article struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	Title       string    `json:"title"`
	Source      string    `json:"source"`
	PublishedAt time.Time `json:"published_at"`
}

// topicState is the fold of one topic's matches.
type topicState struct {
	Count   int64            `json:"count"`
	Sources map[string]int64 `json:"sources"`
	Latest  []Article        `json:"latest"`
	// Recent maps article id to its effective publication time (unix seconds).
	Recent map[string]int64 `json:"recent"`
	// Horizon is the newest effective publication time seen; pruning is relative to it, not to
	// the wall clock, so a replay builds exactly the same state.
	Horizon int64 `json:"horizon"`
	// Pruned is the horizon at the last pruning; pruning runs once per hour of horizon, so its
	// cost is spread over many events.
	Pruned int64 `json:"pruned"`
}

// Projection holds every topic's summary.
type Projection struct {
	mu     sync.RWMutex
	topics map[string]*topicState
}

// New returns an empty projection.
func New() *Projection { return &Projection{topics: map[string]*topicState{}} }

// Name implements events.Projection.
func (p *Projection) Name() string { return Name }

// effectiveTime is when an article counts as published: its publication time, but never later
// than when it was first seen (feeds do post-date items).
func effectiveTime(m events.Match) time.Time {
	if m.FirstSeenAt.IsZero() || m.PublishedAt.Before(m.FirstSeenAt) {
		return m.PublishedAt
	}
	return m.FirstSeenAt
}

// Apply folds a match event.
func (p *Projection) Apply(data []byte, _ uint64) error {
	v, err := events.ParseMatchView(data)
	if err != nil {
		return err
	}
	m := events.Match{Topic: v.Topic, ArticleID: v.ArticleID, URL: v.URL, Title: v.Title, Source: v.Source,
		PublishedAt: v.PublishedAt, FirstSeenAt: v.FirstSeenAt}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.add(m)
	return nil
}

func (p *Projection) add(m events.Match) {
	t := p.topics[m.Topic]
	if t == nil {
		t = &topicState{Sources: map[string]int64{}, Recent: map[string]int64{}}
		p.topics[m.Topic] = t
	}
	if _, dup := t.Recent[m.ArticleID]; dup {
		return
	}
	at := effectiveTime(m)
	t.Count++
	t.Sources[m.Source]++
	t.Recent[m.ArticleID] = at.Unix()
	if at.Unix() > t.Horizon {
		t.Horizon = at.Unix()
		if t.Horizon-t.Pruned >= int64(time.Hour/time.Second) {
			t.prune()
		}
	}
	t.Latest = insertLatest(t.Latest, Article{ID: m.ArticleID, URL: m.URL, Title: m.Title, Source: m.Source, PublishedAt: at.UTC()})
}

func (t *topicState) prune() {
	t.Pruned = t.Horizon
	cutoff := t.Horizon - int64(recentWindow/time.Second)
	for id, ts := range t.Recent {
		if ts < cutoff {
			delete(t.Recent, id)
		}
	}
}

func compareLatest(a, b Article) int {
	if c := b.PublishedAt.Compare(a.PublishedAt); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

func insertLatest(list []Article, a Article) []Article {
	i, _ := slices.BinarySearchFunc(list, a, compareLatest)
	if i >= latestKept {
		return list
	}
	list = slices.Insert(list, i, a)
	if len(list) > latestKept {
		list = list[:latestKept]
	}
	return list
}

// Snapshot implements events.Projection.
func (p *Projection) Snapshot() ([]byte, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return json.Marshal(p.topics)
}

// Restore implements events.Projection.
func (p *Projection) Restore(data []byte) error {
	topics := map[string]*topicState{}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &topics); err != nil {
			return err
		}
	}
	p.mu.Lock()
	p.topics = topics
	p.mu.Unlock()
	return nil
}

// Counts are articles in the last hour, day and week.
type Counts struct {
	Hour int64 `json:"1h"`
	Day  int64 `json:"24h"`
	Week int64 `json:"7d"`
}

// SourceCount is one source's share of a topic.
type SourceCount struct {
	Source string `json:"source"`
	Count  int64  `json:"count"`
}

// Summary is a topic's summary as the API shows it (PRODUCT §6).
type Summary struct {
	ID           string        `json:"id"`
	Name         string        `json:"name"`
	ArticleCount int64         `json:"article_count"`
	Counts       Counts        `json:"counts"`
	Sources      []SourceCount `json:"sources"`
	Latest       []Article     `json:"latest"`
	// Stories are the topic's stories across outlets, filled in by the caller from the stories
	// projection.
	Stories any `json:"stories"`
	// Trending are the terms unusually frequent in the topic's stories of the last day, filled
	// in by the caller from the stories projection.
	Trending any `json:"trending"`
	// Volume is the topic's volume in the spike window against its usual, filled in by the
	// caller from the spike detector.
	Volume any `json:"volume,omitempty"`
}

// Get returns a topic's summary as of now; a topic without matches has an empty one.
func (p *Projection) Get(id, name string, now time.Time) Summary {
	p.mu.RLock()
	defer p.mu.RUnlock()
	s := Summary{ID: id, Name: name, Sources: []SourceCount{}, Latest: []Article{}, Stories: []any{}, Trending: []any{}}
	t := p.topics[id]
	if t == nil {
		return s
	}
	s.ArticleCount = t.Count
	for _, ts := range t.Recent {
		age := now.Unix() - ts
		if age < int64(time.Hour/time.Second) {
			s.Counts.Hour++
		}
		if age < int64(24*time.Hour/time.Second) {
			s.Counts.Day++
		}
		if age < int64(7*24*time.Hour/time.Second) {
			s.Counts.Week++
		}
	}
	for src, n := range t.Sources {
		s.Sources = append(s.Sources, SourceCount{Source: src, Count: n})
	}
	slices.SortFunc(s.Sources, func(a, b SourceCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Source, b.Source)
	})
	s.Latest = append(s.Latest, t.Latest...)
	return s
}

// Count returns a topic's total article count.
func (p *Projection) Count(id string) int64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if t := p.topics[id]; t != nil {
		return t.Count
	}
	return 0
}
