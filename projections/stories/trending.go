package stories

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/newswatch/newswatch/topics"
)

// Trend is a term unusually frequent in a topic's recent stories: the share of the last
// day's stories whose titles contain it is well above its share in the week before, by a
// margin chance does not explain. docs/trending-terms.md explains the numbers.
type Trend struct {
	// Term is a folded token of the query language, so it can be typed into a query as is.
	Term string `json:"term"`
	// Stories is how many stories first reported in the window have the term in a title.
	Stories int `json:"stories"`
	// Sources is how many sources published those titles.
	Sources int `json:"sources"`
	// BaselineStories is how many stories of the baseline have the term in a title.
	BaselineStories int `json:"baseline_stories"`
	// Expected is how many of the window's stories would have the term at its baseline
	// share: stories in the window × BaselineStories / stories in the baseline.
	Expected float64 `json:"expected"`
	// Ratio is (Stories+1)/(Expected+1): how many times more stories than usual, with one
	// story added to both sides so that a term never seen before has a finite ratio that
	// grows with its stories.
	Ratio float64 `json:"ratio"`
	// Score is the log-likelihood ratio G² of the term's shares in the window and the
	// baseline (Dunning 1993): how surprising the window's count is under the baseline
	// share. Trends are ordered by it.
	Score float64 `json:"score"`
}

// The window, the baseline and the thresholds of Trending. They are documented, with the
// reasons, in docs/trending-terms.md.
const (
	// trendWindow is "now": the stories first reported in the last day.
	trendWindow = 24 * time.Hour
	// trendBaseline is the period before the window that gives a term's usual share: the
	// week that the projection still holds (it lists a story 8 days after its last article).
	trendBaseline = 7 * 24 * time.Hour
	// trendMinBaselineSpan: a topic younger than this before the window returns no trends.
	// A few hours of history do not say what is usual, and in a topic's first day every
	// word is new.
	trendMinBaselineSpan = 24 * time.Hour
	// trendMinBaselineStories: shares measured on fewer stories are noise, and the share
	// of a function word could by chance look low.
	trendMinBaselineStories = 20
	// trendMinStories: a term must be in at least this many distinct stories of the window.
	// On a quiet day, two stories with a word never seen before are significant by G²,
	// but they are two stories, not a trend.
	trendMinStories = 3
	// trendMinSources: the titles with the term must come from at least this many sources,
	// so that one feed's own series or live blog cannot trend alone.
	trendMinSources = 2
	// trendMinRatio: at least twice as many stories as the baseline share predicts.
	trendMinRatio = 2.0
	// trendMinScore is the 0.001 critical value of χ² with one degree of freedom.
	trendMinScore = 10.83
	// trendDefaultLimit is the number of trends for a limit ≤ 0.
	trendDefaultLimit = 10
)

// Trending returns up to limit terms unusually frequent in a topic's stories first reported
// in the 24 hours up to now, compared with the 7 days before (limit ≤ 0: 10), the highest
// score first, ties by term. It never returns nil: an unknown topic, a topic with less than
// a day of history before the window, or one with too few stories has no trends.
//
// Stories are counted, not articles: a story's terms are the union of the tokens of its
// listed articles' titles, so twenty outlets carrying one wire story count once. A story
// belongs to the period of its first report, so the window and the baseline are disjoint.
// Terms are compared by share of the period's stories, so a topic whose volume doubles does
// not make its everyday words trend, and words common in every period (the function words
// of any language) never trend, without a word list.
//
// The read lock is held only while the needed titles are copied; tokenizing and counting
// run without it.
func (p *Projection) Trending(topic string, now time.Time, limit int) []Trend {
	if limit <= 0 {
		limit = trendDefaultLimit
	}
	in, ok := p.trendInput(topic, now)
	if !ok {
		return []Trend{}
	}
	return in.count().trends(limit)
}

// trendInput is what Trending reads from a topic: the titles and sources of the listed
// articles of the stories first reported in the window or the baseline.
type trendInput struct {
	stories []trendStory
	arts    []titleSource
}

type trendStory struct {
	recent   bool  // first reported in the window, else in the baseline
	from, to int32 // its articles, arts[from:to]
}

type titleSource struct{ title, source string }

// trendInput copies what Trending needs of a topic, under the read lock. ok is false when
// the topic is unknown or younger than the baseline span. The articles are copied, not
// shared: a story's listing is changed in place by later articles.
func (p *Projection) trendInput(topic string, now time.Time) (in trendInput, ok bool) {
	end := now.Unix()
	start := end - int64(trendWindow/time.Second)
	baseStart := start - int64(trendBaseline/time.Second)
	p.mu.RLock()
	defer p.mu.RUnlock()
	t := p.topics[topic]
	if t == nil {
		return in, false
	}
	// Counted first, so that the copies are allocated once.
	oldest, stories, arts := end, 0, 0
	for _, s := range t.stories {
		if s.First > end {
			continue // after now: a query about the past
		}
		oldest = min(oldest, s.First)
		if s.First > baseStart {
			stories++
			arts += len(s.Articles)
		}
	}
	if start-oldest < int64(trendMinBaselineSpan/time.Second) {
		return in, false
	}
	in.stories, in.arts = make([]trendStory, 0, stories), make([]titleSource, 0, arts)
	for _, s := range t.stories {
		if s.First > end || s.First <= baseStart {
			continue
		}
		from := len(in.arts)
		for _, a := range s.Articles {
			in.arts = append(in.arts, titleSource{a.Title, a.Source})
		}
		in.stories = append(in.stories, trendStory{recent: s.First > start, from: int32(from), to: int32(len(in.arts))})
	}
	return in, true
}

// trendCounts are the story counts of the terms of a topic's window and baseline.
type trendCounts struct {
	ids          map[string]int32 // term → id
	terms        []string         // by id
	recent, base []int32          // by id: stories with the term
	nRecent      int              // stories in the window
	nBase        int              // stories in the baseline
	// raw maps a token as written to its id, -1 when it is not a term, for the spellings
	// that folding changes.
	raw map[string]int32
	// pairs are the term ids and source ids of the window's titles, id<<32|source, and
	// nSources the distinct sources by id, counted from them.
	pairs    []uint64
	sources  map[string]uint32
	nSources []int32
	// closed is set once the window is counted: ids then holds only the candidates, and no
	// term is added.
	closed bool
}

// count tokenizes the titles and counts, for every term, the stories that have it in each
// period. The window comes first; the baseline, seven times larger, is then counted only
// for the candidates, the terms in enough stories and sources of the window to trend,
// a small part of its terms, which saves about a third of a call (BenchmarkTrending). Map
// order does not matter: the counts are integers.
func (in *trendInput) count() *trendCounts {
	c := &trendCounts{ids: map[string]int32{}, raw: map[string]int32{}, sources: map[string]uint32{}}
	var scratch trendScratch
	for _, s := range in.stories {
		if s.recent {
			c.nRecent++
			c.addStory(&scratch, in.arts[s.from:s.to], true)
		}
	}
	c.keepCandidates()
	for _, s := range in.stories {
		if !s.recent {
			c.nBase++
			if len(c.ids) > 0 {
				c.addStory(&scratch, in.arts[s.from:s.to], false)
			}
		}
	}
	return c
}

type trendScratch struct{ story, title []int32 }

// addStory counts the terms of a story's titles, and in the window their sources.
func (c *trendCounts) addStory(sc *trendScratch, arts []titleSource, recent bool) {
	// Copies carry one title: tokenize it once.
	slices.SortFunc(arts, func(a, b titleSource) int { return strings.Compare(a.title, b.title) })
	sc.story = sc.story[:0]
	for i := 0; i < len(arts); {
		j := i + 1
		for j < len(arts) && arts[j].title == arts[i].title {
			j++
		}
		sc.title = c.termIDs(sc.title[:0], arts[i].title)
		sc.story = append(sc.story, sc.title...)
		if recent {
			for _, a := range arts[i:j] {
				c.addSources(sc.title, a.source)
			}
		}
		i = j
	}
	counts := c.base
	if recent {
		counts = c.recent // after the titles, which may have added terms
	}
	slices.Sort(sc.story)
	for _, id := range slices.Compact(sc.story) {
		counts[id]++
	}
}

// keepCandidates counts the sources of the window's terms and keeps, for the baseline,
// only the terms in enough stories and sources to trend.
func (c *trendCounts) keepCandidates() {
	c.nSources = make([]int32, len(c.terms))
	slices.Sort(c.pairs)
	for _, p := range slices.Compact(c.pairs) {
		c.nSources[p>>32]++
	}
	c.ids = map[string]int32{}
	for id, term := range c.terms {
		if c.recent[id] >= trendMinStories && c.nSources[id] >= trendMinSources {
			c.ids[term] = int32(id)
		}
	}
	c.raw = map[string]int32{} // it maps spellings to terms that are no candidates
	c.closed = true
}

// termIDs appends the ids of the terms of a title. Tokens are topics.RawTokens, but a
// spelling is folded (topics.Fold) only the first time a call meets it, and
// not at all when folding cannot change it: topics.Tokenize, which allocates every token
// and normalizes every non-ASCII one, made a call two to three times slower
// (BenchmarkTrending). FuzzTitleTerms checks that the terms are those of topics.Tokenize.
func (c *trendCounts) termIDs(dst []int32, title string) []int32 {
	for raw := range topics.RawTokens(title) {
		var id int32
		if folded(raw) {
			id = c.intern(raw)
		} else {
			var ok bool
			if id, ok = c.raw[raw]; !ok {
				id = c.intern(topics.Fold(raw))
				c.raw[raw] = id
			}
		}
		if id >= 0 {
			dst = append(dst, id)
		}
	}
	return dst
}

// intern returns the id of a folded token, -1 when it is not a term (or, once closed, not
// a candidate).
func (c *trendCounts) intern(tok string) int32 {
	if id, ok := c.ids[tok]; ok {
		return id
	}
	if c.closed || !isTrendTerm(tok) {
		return -1
	}
	id := int32(len(c.terms))
	c.ids[tok] = id
	c.terms = append(c.terms, tok)
	c.recent = append(c.recent, 0)
	c.base = append(c.base, 0)
	return id
}

func (c *trendCounts) addSources(ids []int32, source string) {
	src, ok := c.sources[source]
	if !ok {
		src = uint32(len(c.sources))
		c.sources[source] = src
	}
	for _, id := range ids {
		c.pairs = append(c.pairs, uint64(id)<<32|uint64(src))
	}
}

// folded reports whether topics.Fold leaves a token as it is, without folding it: when it
// is made of lower-case ASCII letters, ASCII digits, the lower-case basic Cyrillic letters
// а–я (й keeps its breve) and Hangul syllables (decomposed and recomposed), which most
// tokens of most titles are.
func folded(tok string) bool {
	for _, r := range tok {
		switch {
		case '0' <= r && r <= '9', 'a' <= r && r <= 'z', 'а' <= r && r <= 'я', 0xAC00 <= r && r <= 0xD7A3:
		default:
			return false
		}
	}
	return true
}

// isTrendTerm reports whether a token may trend: it needs two letters. That drops pure
// numbers (every day has new ones), one-letter tokens (the "s" of "Russia's"), single
// Hangul syllables, and the dates of Korean and Japanese titles ("17일", "6월"), which
// would trend every day because the date is new.
func isTrendTerm(tok string) bool {
	letters := 0
	for _, r := range tok {
		if unicode.IsLetter(r) {
			letters++
			if letters == 2 {
				return true
			}
		}
	}
	return false
}

// trends scores the terms in enough of the window's stories and returns the limit best.
func (c *trendCounts) trends(limit int) []Trend {
	out := []Trend{}
	if c.nRecent < trendMinStories || c.nBase < trendMinBaselineStories {
		return out
	}
	for id, k1 := range c.recent {
		if k1 < trendMinStories || c.nSources[id] < trendMinSources {
			continue
		}
		k0 := int(c.base[id])
		expected := float64(c.nRecent) * float64(k0) / float64(c.nBase)
		ratio := (float64(k1) + 1) / (expected + 1)
		if ratio < trendMinRatio {
			continue // also ensures the share went up, which G² alone does not say
		}
		score := g2(int(k1), c.nRecent, k0, c.nBase)
		if score < trendMinScore {
			continue
		}
		// Rounded before sorting, so that the order is the one the numbers shown give.
		out = append(out, Trend{
			Term: c.terms[id], Stories: int(k1), Sources: int(c.nSources[id]), BaselineStories: k0,
			Expected: round2(expected), Ratio: round2(ratio), Score: round2(score),
		})
	}
	slices.SortFunc(out, func(a, b Trend) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return strings.Compare(a.Term, b.Term)
	})
	return out[:min(len(out), limit)]
}

// g2 is the log-likelihood ratio statistic of the 2×2 table of stories with and without a
// term in the window (k1 of n1) and in the baseline (k0 of n0). Unlike χ² it stays
// reliable for the small counts of rare terms.
func g2(k1, n1, k0, n0 int) float64 {
	cells := xlogx(k1) + xlogx(n1-k1) + xlogx(k0) + xlogx(n0-k0)
	margins := xlogx(n1) + xlogx(n0) + xlogx(k1+k0) + xlogx(n1+n0-k1-k0)
	return max(0, 2*(cells-margins+xlogx(n1+n0)))
}

func xlogx(n int) float64 {
	if n <= 0 {
		return 0
	}
	x := float64(n)
	return float64(x * math.Log(x)) // float64(): no fused multiply-add, the same on every CPU
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }
