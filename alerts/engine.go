// Package alerts decides when alerts fire: it folds match events into per-topic groups, drops
// stories that were already alerted, applies silences, group_wait and min_interval, and hands
// the alerts to fire to its runner. The engine is a pure state machine with an injected clock;
// the runner (runner.go) connects it to the event log.
package alerts

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/events"
)

// KindMatch is the rule kind that fires once per new story matching a topic.
const KindMatch = "match"

// Defaults for match rules.
const (
	DefaultGroupWait   = 0
	DefaultMinInterval = 0
	DefaultStoryWindow = 48 * time.Hour
	// LateAfter: a match the engine first sees more than this after it was made (it waited
	// out a downtime, or a backlog) still fires, and its alert says it is late and by how
	// much (notify.Late).
	LateAfter = time.Minute
	// maxArticlesPerAlert caps one alert; the rest of a large group fires in the next one.
	maxArticlesPerAlert = 50
	// Settle is the least group_wait: the matches of one poll are stored together but reach
	// the engine one by one, so the first waits this long for the others to join it.
	Settle = 30 * time.Millisecond
)

// Rule is a match alert rule for one topic.
type Rule struct {
	Topic, TopicName string
	// GroupWait is how long the first match of a group waits for others to join it.
	GroupWait time.Duration
	// MinInterval is the least time between two alerts of the topic.
	MinInterval time.Duration
	// StoryWindow is how long an alerted story is remembered: a copy of it within the window
	// never fires again.
	StoryWindow time.Duration
	// Since is when the rule came into existence: matches made before it are history and do
	// not fire (ReasonBeforeRule). Zero: every live match is the rule's.
	Since time.Time
}

// Silencer reports whether a topic is silenced at a time.
type Silencer interface {
	Silenced(topic string, at time.Time) bool
}

// silenceNamer is a Silencer that also tells which silence holds (Silences does), for the
// suppression's reason.
type silenceNamer interface {
	SilencedBy(topic string, at time.Time) (string, bool)
}

// StoryIndex tells which story of a topic an article belongs to: the story model of the
// topic_stories projection, which joins copies of a report and other outlets' rewrites of
// it. seq is the match event's stream sequence, which the index may wait to have folded.
// "" when unknown: the article is then a story of its own.
type StoryIndex interface {
	StoryOf(topic, articleID string, seq uint64) string
}

// alertedStory is a story that has fired.
type alertedStory struct {
	ArticleID string
	StoryID   string
	Source    string
	URL       string
	At        time.Time
}

// group is the pending alert of a topic.
type group struct {
	firstAt  time.Time // wall time the first match joined
	firstSeq uint64
	lastSeq  uint64
	articles []notify.Article
	// oldest is when the group's oldest match was made; late marks a group with a match the
	// engine saw more than LateAfter after it was made.
	oldest time.Time
	late   bool
	seqs   []uint64 // each article's match sequence, to split a group past maxArticlesPerAlert
}

type topicState struct {
	rule         Rule
	lastFiredSeq uint64
	lastFired    time.Time
	pending      *group
	stories      []alertedStory
}

// Engine holds the alert state of every topic with a match rule.
type Engine struct {
	topics   map[string]*topicState
	silences Silencer
	stories  StoryIndex
	lastSeen uint64
}

// UseStories makes the engine fire once per story of the index: an article of a story that
// already fired, or is waiting to, is folded into it as a copy. Without an index, only the
// same article (id or URL) is folded.
func (e *Engine) UseStories(x StoryIndex) { e.stories = x }

// NewEngine returns an engine for the rules.
func NewEngine(rules []Rule, s Silencer) *Engine {
	e := &Engine{topics: map[string]*topicState{}, silences: s}
	e.SetRules(rules)
	return e
}

// SetRules replaces the rules, keeping the state of topics that still have one.
func (e *Engine) SetRules(rules []Rule) {
	next := make(map[string]*topicState, len(rules))
	for _, r := range rules {
		if r.StoryWindow <= 0 {
			r.StoryWindow = DefaultStoryWindow
		}
		st := e.topics[r.Topic]
		if st == nil {
			st = &topicState{}
		}
		st.rule = r
		next[r.Topic] = st
	}
	e.topics = next
}

// Topics lists the topics that have a rule, sorted.
func (e *Engine) Topics() []string {
	out := make([]string, 0, len(e.topics))
	for id := range e.topics {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// Observe folds one match event (stream sequence seq) in at wall time now. When the match
// does not alert on its own, it returns why (ok true): every such match has a reason.
// Matches of topics without a rule, and matches already covered by a fired alert (read again
// after a restart), are neither alerts nor suppressions.
func (e *Engine) Observe(m events.Match, seq uint64, now time.Time) (Suppression, bool) {
	e.lastSeen = max(e.lastSeen, seq)
	st := e.topics[m.Topic]
	if st == nil || seq <= st.lastFiredSeq {
		return Suppression{}, false
	}
	sup := Suppression{Topic: m.Topic, ArticleID: m.ArticleID, URL: m.URL, Title: m.Title, Source: m.Source,
		MatchedAt: m.MatchedAt, StreamSeq: seq, At: now.UTC()}
	switch {
	case m.Backfill:
		sup.Reason = ReasonBackfill
		return sup, true
	case !st.rule.Since.IsZero() && m.MatchedAt.Before(st.rule.Since):
		sup.Reason, sup.RuleSince = ReasonBeforeRule, st.rule.Since.UTC()
		return sup, true
	}
	if id, ok := e.silenced(m.Topic, now); ok {
		sup.Reason, sup.Silence = ReasonSilenced, id
		return sup, true
	}
	sid, copied := "", false
	if e.stories != nil {
		sid = e.stories.StoryOf(m.Topic, m.ArticleID, seq)
		if c, ok := e.stories.(CopyIndex); ok && sid != "" {
			copied = c.IsCopy(m.Topic, m.ArticleID)
		}
	}
	if f, ok := st.alerted(m, sid, copied, now); ok {
		return e.explain(m.Topic, m.ArticleID, f).suppression(sup), true
	}
	if st.pending == nil {
		st.pending = &group{firstAt: now, firstSeq: seq, oldest: m.MatchedAt}
	}
	g := st.pending
	g.lastSeq = seq
	if m.MatchedAt.Before(g.oldest) {
		g.oldest = m.MatchedAt
	}
	g.late = g.late || now.Sub(m.MatchedAt) > LateAfter
	for i := range g.articles {
		a := &g.articles[i]
		f := fold{into: a.ID, story: a.Story, pending: true}
		switch {
		case a.ID == m.ArticleID:
			f.by, f.similarity = FoldedSameArticle, 1
		case sid != "" && a.Story == sid && copied:
			f.by = FoldedNearCopy
		case sid != "" && a.Story == sid && !fromSource(*a, m.Source):
			f.by = FoldedSameStory
		default:
			continue
		}
		if f.by != FoldedSameArticle {
			a.Copies = append(a.Copies, notify.Copy{ID: m.ArticleID, URL: m.URL, Source: m.Source, PublishedAt: m.PublishedAt})
		}
		return e.explain(m.Topic, m.ArticleID, f).suppression(sup), true
	}
	art := articleOf(m)
	art.Story = sid
	g.articles = append(g.articles, art)
	g.seqs = append(g.seqs, seq)
	return Suppression{}, false
}

func articleOf(m events.Match) notify.Article {
	terms := make([]string, 0, len(m.Matched))
	for _, t := range m.Matched {
		if !slices.Contains(terms, t.Term) {
			terms = append(terms, t.Term)
		}
	}
	return notify.Article{
		ID: m.ArticleID, URL: m.URL, Title: m.Title, Source: m.Source,
		PublishedAt: m.PublishedAt, FirstSeenAt: m.FirstSeenAt, Matched: terms, Snippet: m.Summary,
	}
}

// alerted returns the alerted story the match belongs to, when one fired within the window.
func (st *topicState) alerted(m events.Match, sid string, copied bool, now time.Time) (fold, bool) {
	cutoff := now.Add(-st.rule.StoryWindow)
	keep := st.stories[:0]
	var found, same fold
	sameStory, ownStory := false, false
	for _, s := range st.stories {
		if s.At.Before(cutoff) {
			continue
		}
		keep = append(keep, s)
		if found.by == "" {
			switch {
			case s.ArticleID == m.ArticleID:
				found = fold{into: s.ArticleID, story: s.StoryID, by: FoldedSameArticle, similarity: 1}
			case m.URL != "" && s.URL == m.URL:
				found = fold{into: s.ArticleID, story: s.StoryID, by: FoldedSameURL, similarity: 1}
			}
		}
		if sid != "" && s.StoryID == sid {
			if !sameStory {
				same = fold{into: s.ArticleID, story: sid, by: FoldedSameStory}
			}
			sameStory = true
			ownStory = ownStory || s.Source == m.Source
		}
	}
	st.stories = keep
	// Another outlet's article of an alerted story is folded. An outlet's own later article
	// that the grouping joins to its story is not: outlets do not rewrite their own reports in
	// other words, so it is an update, a new development, or a feed's template (a "daily
	// briefing") that the grouping took for one story; unless it is a copy of the story's text.
	switch {
	case found.by != "":
		return found, true
	case sameStory && (!ownStory || copied):
		if copied {
			same.by = FoldedNearCopy
		}
		return same, true
	}
	return fold{}, false
}

// fromSource reports whether an article or one of its copies came from source.
func fromSource(a notify.Article, source string) bool {
	if a.Source == source {
		return true
	}
	for _, c := range a.Copies {
		if c.Source == source {
			return true
		}
	}
	return false
}

// Fire is an alert ready to publish, with the sequence of the last match it includes.
type Fire struct {
	Alert   notify.Alert
	LastSeq uint64
}

// Due returns the alerts whose group_wait and min_interval have passed at now, and forgets
// their groups as fired. The caller publishes them and then calls Fired for each.
func (e *Engine) Due(now time.Time) []Fire {
	var out []Fire
	for _, id := range e.Topics() {
		st := e.topics[id]
		g := st.pending
		if g == nil || now.Before(st.readyAt()) {
			continue
		}
		n := min(len(g.articles), maxArticlesPerAlert)
		// A split group's first part covers the matches up to its last article, not the
		// group's: the rest gets an id (and a source sequence) of its own, so it is neither
		// deduplicated as a retry of the first part nor skipped after a restart.
		last := g.lastSeq
		if n < len(g.articles) {
			last = g.seqs[n-1]
		}
		a := notify.Alert{
			ID: alertID(id, KindMatch, g.articles[:n]), Topic: id, TopicName: st.rule.TopicName, Kind: KindMatch,
			FiredAt: now.UTC(), Articles: slices.Clone(g.articles[:n]),
		}
		a.Summary = summaryLine(a)
		if g.late {
			a.Late = &notify.Late{MatchedAt: g.oldest.UTC(), AgeSeconds: int64(now.Sub(g.oldest) / time.Second)}
		}
		out = append(out, Fire{Alert: a, LastSeq: last})
		if n < len(g.articles) {
			g.articles, g.seqs = g.articles[n:], g.seqs[n:]
			g.firstSeq = g.seqs[0]
			continue
		}
		st.pending = nil
	}
	return out
}

func (st *topicState) readyAt() time.Time {
	t := st.pending.firstAt.Add(max(st.rule.GroupWait, Settle))
	if !st.lastFired.IsZero() {
		if next := st.lastFired.Add(st.rule.MinInterval); next.After(t) {
			t = next
		}
	}
	return t
}

// Waiting reports whether an article waits in its topic's pending alert (as an article of it,
// not a copy).
func (e *Engine) Waiting(topic, articleID string) bool {
	st := e.topics[topic]
	if st == nil || st.pending == nil {
		return false
	}
	for _, a := range st.pending.articles {
		if a.ID == articleID {
			return true
		}
	}
	return false
}

// NextDue is when the next pending group becomes due; zero when nothing is pending.
func (e *Engine) NextDue() time.Time {
	var next time.Time
	for _, st := range e.topics {
		if st.pending == nil {
			continue
		}
		if t := st.readyAt(); next.IsZero() || t.Before(next) {
			next = t
		}
	}
	return next
}

// Fired records a published match alert: its stories are remembered and its sequence
// passed. Alerts of other kinds (spikes, digests) are not the engine's and are ignored.
func (e *Engine) Fired(a notify.Alert, lastSeq uint64) {
	st := e.topics[a.Topic]
	if st == nil || (a.Kind != "" && a.Kind != KindMatch) {
		return
	}
	st.lastFiredSeq = max(st.lastFiredSeq, lastSeq)
	if a.FiredAt.After(st.lastFired) {
		st.lastFired = a.FiredAt
	}
	for _, art := range a.Articles {
		st.stories = append(st.stories, alertedStory{ArticleID: art.ID, StoryID: art.Story, Source: art.Source, URL: art.URL, At: a.FiredAt})
		for _, c := range art.Copies {
			st.stories = append(st.stories, alertedStory{ArticleID: c.ID, StoryID: art.Story, Source: c.Source, URL: c.URL, At: a.FiredAt})
		}
	}
}

// Resume is the stream sequence after which no match can still be needed: everything up to
// it has fired or was dropped.
func (e *Engine) Resume() uint64 {
	seq := e.lastSeen
	for _, st := range e.topics {
		if st.pending != nil && st.pending.firstSeq-1 < seq {
			seq = st.pending.firstSeq - 1
		}
	}
	return seq
}

func summaryLine(a notify.Alert) string {
	name := cmp.Or(a.TopicName, a.Topic)
	if len(a.Articles) == 1 {
		return fmt.Sprintf("New story for %s: %s", name, a.Articles[0].Title)
	}
	return fmt.Sprintf("%d new stories for %s", len(a.Articles), name)
}
