// Package stories is the story read model: per topic, the matched articles grouped by the
// event they report, across outlets. A story is a wire report, its syndicated copies and the
// outlets' own rewrites of it; another event on the same subject is another story. Each story
// knows its first report, its outlets and how far each lagged behind the first report.
//
// It is a fold of match events (events.Projection): deterministic, with no wall clock in its
// state. Time is event time, an article's publication time (never later than when it was
// first seen); everything older than the window behind the newest event time of a topic is
// pruned, so memory is bounded by the window however long the daemon runs, and a replay
// builds exactly the same stories.
//
// An article joins the story it is most similar to when the similarity reaches a threshold,
// and founds a new story otherwise. Similarity is the cosine of term vectors weighted by
// inverse document frequency within the topic, where terms are stems and numbers of the title
// and summary less those of the query terms that matched (the topic's subject; see
// terms.go), discounted by the time between the article and the story's report it is
// compared with; two shared terms are not enough, unless the article is a copy. A headline
// without a summary, in a topic that has learnt its common words, is compared with each
// story's centroid (its reports' terms together) instead. Only stories sharing one of the
// article's rarest terms are compared (an inverted index), so the cost of an article does
// not grow with the number of live stories. The algorithm, its
// parameters and its measured precision and recall are in docs/stories-spikes-digests.md.
package stories

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sync"
	"time"

	"github.com/newswatch/newswatch/events"
)

// Name is the projection's name (snapshot key, metric label, replay name).
const Name = "topic_stories"

const (
	// DefaultWindow is how far apart in event time an article and a story's nearest article
	// may be for the article to join the story.
	DefaultWindow = 48 * time.Hour
	// DefaultRetention is how long a story is listed after its last article: a week and a
	// day, so a weekly digest finds every story of its period.
	DefaultRetention = 8 * 24 * time.Hour
	// MaxArticlesListed caps the articles a story lists in a topic summary (the earliest
	// ones); ArticleCount and Outlets count them all, and Page and Story list them all.
	MaxArticlesListed = 50
)

// Article is one article of a story.
type Article struct {
	ID     string `json:"id"`
	URL    string `json:"url"`
	Title  string `json:"title,omitempty"`
	Source string `json:"source"`
	// PublishedAt is the article's event time: its publication time, but never later than
	// when it was first seen.
	PublishedAt time.Time `json:"published_at"`
	// FirstSeenAt is when newswatch first saw the article (digests go by it: an article
	// belongs to the digest of the period in which it arrived).
	FirstSeenAt time.Time `json:"first_seen_at,omitzero"`
}

// Outlet is one source that carried a story.
type Outlet struct {
	Source string `json:"source"`
	// FirstAt is the time of the outlet's first article of the story.
	FirstAt time.Time `json:"first_at"`
	// LagSeconds is how long after the story's first report the outlet's first article came.
	LagSeconds int64 `json:"lag_seconds"`
	Articles   int   `json:"articles"`
}

// Story is a group of articles, across outlets, that report one event. Its JSON is the
// shape of PRODUCT §6's "stories", with extra fields.
type Story struct {
	// ID is stable: derived from the topic and the article that founded the story.
	ID string `json:"id"`
	// Title is the title of the first report.
	Title string `json:"title"`
	// FirstSeen is the time of the first report; LastSeen of the newest article.
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// FirstReport is the earliest article.
	FirstReport  Article `json:"first_report"`
	ArticleCount int     `json:"article_count"`
	// Articles are the story's articles, oldest first: the earliest MaxArticlesListed in a
	// topic summary (Stories), all of them from Page and Story.
	Articles []Article `json:"articles"`
	// Outlets are the sources that carried the story, in the order they did.
	Outlets []Outlet `json:"outlets"`
}

// Projection holds every topic's stories.
type Projection struct {
	p         params
	retention int64

	mu     sync.RWMutex
	topics map[string]*topicState
	// metaChanged is the stream sequence of the last event folded: the topics' counters
	// (snapshot part "meta") change with every event.
	metaChanged uint64
}

// New returns an empty projection with the default parameters.
func New() *Projection { return newWith(defaultParams) }

func newWith(p params) *Projection {
	return &Projection{p: p, retention: int64(DefaultRetention / time.Second), topics: map[string]*topicState{}}
}

// Name implements events.Projection.
func (p *Projection) Name() string { return Name }

// Apply folds a match event. A second match of an article (another query version) is
// ignored.
func (p *Projection) Apply(data []byte, seq uint64) error {
	v, err := events.ParseMatchTermsView(data)
	if err != nil {
		return err
	}
	p.fold(v, seq)
	return nil
}

// fold folds a match event at stream sequence seq (0 when there is no stream).
func (p *Projection) fold(v events.MatchTermsView, seq uint64) {
	matched := v.Matched
	if p.p.keepMatched {
		matched = nil
	}
	ts := storyTerms(v.Title, v.Summary, matched) // outside the lock: the costly part
	at := v.PublishedAt
	if at.IsZero() || (!v.FirstSeenAt.IsZero() && v.FirstSeenAt.Before(at)) {
		at = v.FirstSeenAt
	}
	a := Article{ID: v.ArticleID, URL: v.URL, Title: v.Title, Source: v.Source, PublishedAt: at.UTC(), FirstSeenAt: v.FirstSeenAt.UTC()}
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.topics[v.Topic]
	if t == nil {
		t = newTopicState(p.p)
		p.topics[v.Topic] = t
	}
	t.add(v.Topic, a, ts, p.retention, seq)
	p.metaChanged = seq
}

// Stories returns up to limit stories of a topic, the most recently active first (limit ≤ 0:
// all of them). A topic without matches has none.
func (p *Projection) Stories(topic string, limit int) []Story {
	p.mu.RLock()
	defer p.mu.RUnlock()
	t := p.topics[topic]
	if t == nil {
		return []Story{}
	}
	list := make([]*story, 0, len(t.stories))
	for _, s := range t.stories {
		list = append(list, s)
	}
	slices.SortFunc(list, func(a, b *story) int {
		if c := cmp.Compare(b.Last, a.Last); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if limit > 0 && len(list) > limit {
		list = list[:limit]
	}
	out := make([]Story, len(list))
	for i, s := range list {
		out[i] = s.public(MaxArticlesListed)
	}
	return out
}

// StoryID returns the id of the story an article of a topic belongs to, while the story is
// retained.
func (p *Projection) StoryID(topic, articleID string) (string, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	t := p.topics[topic]
	if t == nil {
		return "", false
	}
	r, ok := t.byArticle[articleID]
	if !ok {
		return "", false
	}
	return t.stories[r.key].ID, true
}

// Membership is how an article came to be in its story.
type Membership struct {
	StoryID string `json:"story_id"`
	// Matched is the article of the story the article was found most similar to, and
	// Similarity that similarity, discounted by the time between them, which made it join;
	// both are empty for the article that founded the story.
	Matched    string  `json:"matched,omitempty"`
	Similarity float64 `json:"similarity,omitempty"`
	// Copy is true when the article's text is the same as Matched's, or nearly (a
	// syndicated copy, a re-publication), rather than a rewrite in other words.
	Copy bool `json:"copy,omitempty"`
}

// Membership returns how an article of a topic joined its story, while the story is
// retained.
func (p *Projection) Membership(topic, articleID string) (Membership, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	t := p.topics[topic]
	if t == nil {
		return Membership{}, false
	}
	r, ok := t.byArticle[articleID]
	if !ok {
		return Membership{}, false
	}
	s := t.stories[r.key]
	m := Membership{StoryID: s.ID}
	if int(r.i) < len(s.Joins) {
		j := s.Joins[r.i]
		m.Matched, m.Similarity, m.Copy = j.Matched, float64(j.Sim), j.Copy
	}
	return m, true
}

// topicState is the fold of one topic's matches.
type topicState struct {
	index     *index
	stories   map[uint64]*story
	byArticle map[string]articleRef
	next      uint64 // key of the next story
	horizon   int64  // newest event time seen, unix seconds
	pruned    int64  // horizon at the last pruning
	// expiry holds the stories by their last article, for pruning.
	expiry expiry
	// changed is, for each snapshot part of the topic (its stories by first-seen time, see
	// partOf), the stream sequence of the last event that changed one of its stories.
	changed map[int]uint64
}

func newTopicState(p params) *topicState {
	return &topicState{index: newIndex(p), stories: map[uint64]*story{}, byArticle: map[string]articleRef{}, changed: map[int]uint64{}}
}

// articleRef is where an article is: its story, and its place in the story's IDs.
type articleRef struct {
	key uint64
	i   int32
}

// join is how an article joined its story (the zero join for the founding article).
type join struct {
	Matched string  `json:"m,omitempty"`
	Sim     float32 `json:"s,omitempty"`
	Copy    bool    `json:"c,omitempty"`
}

// story is the listing part of a story.
type story struct {
	ID          string
	Key         uint64
	First, Last int64 // unix seconds
	Count       int
	Articles    []Article // every article, oldest first
	IDs         []string  // every article in the order they came, for StoryID
	Joins       []join    // how each of IDs joined
	Outlets     []Outlet
}

// pruneEvery spreads the cost of pruning: it runs once per hour of event time.
const pruneEvery = 3600

func (t *topicState) add(topic string, a Article, ts termSet, retention int64, seq uint64) {
	if _, dup := t.byArticle[a.ID]; dup {
		return
	}
	at := a.PublishedAt.Unix()
	var h hit
	joined := false
	if len(ts) > 0 {
		var ok bool
		h, ok = t.index.best(t.index.weigh(ts), at)
		joined = ok && h.joins()
	}
	key, j := h.key, join{}
	if joined {
		j = join{Matched: h.member.article, Sim: float32(h.sim), Copy: h.copy()}
	} else {
		t.next++
		key = t.next
		t.stories[key] = &story{ID: storyID(topic, a.ID), Key: key, First: at, Last: at}
		t.expiry.push(at, key)
	}
	if len(ts) > 0 {
		// An article without a title or summary founds a story no other article can join.
		t.index.add(key, a.ID, ts, at)
	}
	s := t.stories[key]
	t.byArticle[a.ID] = articleRef{key, int32(len(s.IDs))}
	t.changed[partOf(s.First)] = seq // an earlier article moves the story to another part
	s.add(a, j, at)
	t.changed[partOf(s.First)] = seq
	if at > t.horizon {
		t.horizon = at
		if t.horizon-t.pruned >= pruneEvery {
			t.prune(retention, seq)
		}
	}
}

func (t *topicState) prune(retention int64, seq uint64) {
	t.pruned = t.horizon
	for _, k := range t.index.prune(t.horizon - t.index.p.window) {
		if s := t.stories[k]; s != nil {
			t.changed[partOf(s.First)] = seq // its members are no longer saved
		}
	}
	cutoff := t.horizon - retention
	for {
		k, ok := t.expiry.due(cutoff)
		if !ok {
			break
		}
		s := t.stories[k]
		if s.Last >= cutoff {
			t.expiry.push(s.Last, k) // it has had articles since it was pushed
			continue
		}
		t.changed[partOf(s.First)] = seq
		for _, id := range s.IDs {
			delete(t.byArticle, id)
		}
		delete(t.stories, k)
	}
}

// storyID derives a story's id from its topic and founding article.
func storyID(topic, articleID string) string {
	sum := sha256.Sum256([]byte(topic + "\x00" + articleID))
	return "story-" + hex.EncodeToString(sum[:12])
}

func (s *story) add(a Article, how join, at int64) {
	s.First, s.Last = min(s.First, at), max(s.Last, at)
	s.Count++
	s.IDs = append(s.IDs, a.ID)
	s.Joins = append(s.Joins, how)
	i, _ := slices.BinarySearchFunc(s.Articles, a, compareArticles)
	s.Articles = slices.Insert(s.Articles, i, a)
	j := slices.IndexFunc(s.Outlets, func(o Outlet) bool { return o.Source == a.Source })
	if j < 0 {
		s.Outlets = append(s.Outlets, Outlet{Source: a.Source, FirstAt: a.PublishedAt})
		j = len(s.Outlets) - 1
	}
	o := &s.Outlets[j]
	o.Articles++
	if a.PublishedAt.Before(o.FirstAt) {
		o.FirstAt = a.PublishedAt
	}
}

func compareArticles(a, b Article) int {
	if c := a.PublishedAt.Compare(b.PublishedAt); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// public returns the story as the API shows it, with up to maxArticles of its articles
// (all of them when maxArticles ≤ 0) and its outlets in order with their lags.
func (s *story) public(maxArticles int) Story {
	first := s.Articles[0] // a story has at least one article, and the earliest is listed
	arts := s.Articles
	if maxArticles > 0 && len(arts) > maxArticles {
		arts = arts[:maxArticles]
	}
	out := Story{
		ID: s.ID, Title: first.Title, FirstSeen: first.PublishedAt, LastSeen: time.Unix(s.Last, 0).UTC(),
		FirstReport: first, ArticleCount: s.Count,
		Articles: slices.Clone(arts), Outlets: slices.Clone(s.Outlets),
	}
	for i := range out.Outlets {
		out.Outlets[i].LagSeconds = int64(out.Outlets[i].FirstAt.Sub(first.PublishedAt) / time.Second)
	}
	slices.SortStableFunc(out.Outlets, func(a, b Outlet) int {
		if c := a.FirstAt.Compare(b.FirstAt); c != 0 {
			return c
		}
		return cmp.Compare(a.Source, b.Source)
	})
	return out
}
