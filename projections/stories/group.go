package stories

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// params are the tunables of story assignment. The defaults and why they were chosen are in
// docs/stories-spikes-digests.md; TestSweep logs the alternatives.
type params struct {
	// window is how far apart in event time (seconds) an article and a story's nearest
	// article may be for the article to join it.
	window int64
	// halfLife (seconds) halves an article's similarity to a report for every halfLife
	// between the two: reports of one event come within hours, while other events on the
	// same subject keep coming for days. 0 disables it.
	halfLife int64
	// threshold is the least similarity for an article to join a story.
	threshold float64
	// titleBoost multiplies the weight of title terms: the headline names the event.
	titleBoost float64
	// classicIDF weighs terms by log(N/df) instead of the probabilistic weight (tests only,
	// to measure the choice).
	classicIDF bool
	// prior is how many reports the term weights pretend each topic has already seen, none
	// with the article's terms: it keeps a young topic, where every shared word still looks
	// rare, from merging its first stories.
	prior int
	// members is how many distinct reports of a story are kept to compare articles with.
	members int
	// keys is how many of an article's rarest terms look up candidate stories.
	keys int
	// maxPosting skips lookup terms found in more stories than this: they name the subject,
	// not the event, and would make every story a candidate.
	maxPosting int
	// keepMatched keeps the terms of the query terms that matched an article among its
	// story terms (tests only, to measure leaving them out).
	keepMatched bool
	// minShared is the least number of terms with a positive weight an article must share
	// with a report to join its story, unless it is a copy of it: in a young topic every
	// word looks rare, and two short items about different events can share two ("and",
	// "north") by chance. Reports of one event share more.
	minShared int
	// minSharedShort replaces minShared for a short article, one with fewer than shortTerms
	// terms (a headline without a summary), once the topic has learnt its common words from
	// at least learnt reports: a headline has few words to share at all, and few to share
	// by chance once function words weigh nothing; in a younger topic "and" and "north" still
	// look rare.
	minSharedShort, shortTerms, learnt int
	// numberConflict multiplies the similarity of two texts that both give numbers and share
	// none (0: off).
	numberConflict float64
}

var defaultParams = params{
	window:     int64(DefaultWindow / time.Second),
	halfLife:   12 * 3600,
	threshold:  0.14,
	titleBoost: 1.5,
	prior:      5,
	members:    12,
	keys:       8,
	maxPosting: 64,
	minShared:  3,

	minSharedShort: 2,
	shortTerms:     16,
	learnt:         20,
	numberConflict: 0.7,
}

// memberNovelty: a report becomes one of a story's members (the texts new articles are
// compared with) only when its similarity to every member is below this. Copies add nothing
// to compare with, and must not count twice in the term weights.
const memberNovelty = 0.7

// index is the story index of one topic: the stories that can still be joined, the term
// weights, and an inverted index from term to the stories whose members contain it.
//
// Term weights are inverse document frequencies where a document is a member, a distinct
// report of a story. Counting every article instead would let twenty copies of one wire
// story make its own words look common; counting stories instead makes every word of a
// topic's first story look common and every word of its second look rare.
//
// The terms of live members are interned to dense ids, so that comparing an article with a
// report reads slices, not maps.
type index struct {
	p    params
	live map[uint64]*entry
	ids  map[term]uint32 // term key → id
	dict []termInfo      // by id
	free []uint32        // ids of terms no live member has
	docs int             // live members

	logHalf []float64 // logHalf[k] = log(k+½)
}

type termInfo struct {
	key     term
	df      int32 // live members with the term
	stories int32 // live stories with a member that has the term
	// postings are the keys of those stories, and of pruned ones until the list is
	// compacted: a pruned story leaves its terms' lists only when half of a list is dead,
	// so pruning does not rewrite the long lists of common terms every time.
	postings []uint64
}

// entry is the joinable part of a story.
type entry struct {
	members     []member
	first, last int64 // event time range of the story's articles, unix seconds
}

// member is one distinct report of a story: its terms as id<<1|title, in the order of their
// keys (so that sums over them do not depend on which ids were free), and its event time
// (unix seconds).
type member struct {
	terms   []uint32
	at      int64
	article string // the article's id
}

func newIndex(p params) *index {
	return &index{p: p, live: map[uint64]*entry{}, ids: map[term]uint32{}}
}

// weight is how much sharing a term says about two texts reporting one event: its
// probabilistic inverse document frequency (Robertson–Spärck Jones), log((N−df+½)/(df+½))
// for N reports of which df contain the term, and 0 for terms in half the reports or more.
// A topic's own subject and the function words of every language weigh nothing, without any
// word list, in a quiet topic and in a busy one alike; the classic log(N/df) still gives
// them some weight in a quiet topic, which makes the similarity of two reports depend on
// how busy their topic is (measured in TestLabelledInBusyTopic and TestSweep).
func (x *index) weight(df int32, title bool) float64 {
	w := x.idf(int(df))
	if title {
		w = float64(w * x.p.titleBoost) // float64(): no fused multiply-add, the same on every CPU
	}
	return w
}

// idf returns the weight of a term found in df of the live reports. It is computed for
// every term of every compared report, so the logarithms come from a table: with an
// integer prior, log(N+prior−df+½) − log(df+½) is a difference of two entries.
func (x *index) idf(df int) float64 {
	n := x.docs + x.p.prior
	if x.p.classicIDF {
		return math.Log(float64(n) / float64(df+1))
	}
	if df >= n {
		return 0
	}
	for len(x.logHalf) <= n {
		x.logHalf = append(x.logHalf, math.Log(float64(len(x.logHalf))+0.5))
	}
	return max(0, x.logHalf[n-df]-x.logHalf[df])
}

// weighted is an article's terms with their weights under the current statistics.
type weighted struct {
	terms   termSet
	numbers bool       // some term is a number of two digits or more
	known   []idWeight // the terms some live member has, in the order of their keys
	norm2   float64
}

type idWeight struct {
	id uint32
	w  float64
}

func (x *index) weigh(ts termSet) weighted {
	a := weighted{terms: ts}
	for _, t := range ts {
		a.numbers = a.numbers || t.number()
		var df int32
		id, ok := x.ids[t.key()]
		if ok {
			df = x.dict[id].df
		}
		w := x.weight(df, t.title())
		a.norm2 += float64(w * w)
		if ok {
			a.known = append(a.known, idWeight{id, w}) // ts is sorted by key
		}
	}
	return a
}

// similarity is the cosine of the weighted term vectors of an article and a member, and
// the number of terms with a positive weight they share. When both give numbers of two
// digits or more and share none of them ("1,500 soldiers" and "3,000 troops"), the cosine
// is multiplied by numberConflict: they report different figures, so most likely different
// events.
func (x *index) similarity(a weighted, m []uint32) (sim float64, shared int) {
	var dot, mnorm2 float64
	mNumbers, sharedNumbers := false, false
	i := 0
	for _, c := range m {
		info := &x.dict[c>>1]
		w := x.weight(info.df, c&1 == 1)
		mnorm2 += float64(w * w)
		mNumbers = mNumbers || info.key.number()
		for i < len(a.known) && x.dict[a.known[i].id].key < info.key {
			i++
		}
		if i < len(a.known) && a.known[i].id == c>>1 {
			dot += float64(a.known[i].w * w)
			sharedNumbers = sharedNumbers || info.key.number()
			if a.known[i].w > 0 && w > 0 {
				shared++
			}
		}
	}
	if a.norm2 <= 0 || mnorm2 <= 0 {
		return 0, shared
	}
	sim = dot / math.Sqrt(float64(a.norm2*mnorm2))
	if x.p.numberConflict > 0 && a.numbers && mNumbers && !sharedNumbers {
		sim = float64(sim * x.p.numberConflict)
	}
	return sim, shared
}

// hit is the story an article is most similar to: its key, the similarity discounted by
// time (what decides joining), the plain cosine, and the member it was measured against.
type hit struct {
	key    uint64
	sim    float64
	cosine float64
	member *member
}

// best returns the live story most similar to an article at time at; ok is false when no
// story is a candidate.
func (x *index) best(a weighted, at int64) (h hit, ok bool) {
	need := x.p.minShared
	if len(a.terms) < x.p.shortTerms && x.docs >= x.p.learnt {
		need = x.p.minSharedShort
	}
	for _, k := range x.candidates(a) {
		e := x.live[k]
		if max(at-e.last, e.first-at, 0) > x.p.window {
			continue
		}
		for i := range e.members {
			m := &e.members[i]
			d := x.decay(at - m.at)
			if ok && d <= max(h.sim, x.p.threshold) {
				continue // a similarity is at most 1: this report cannot win
			}
			c, shared := x.similarity(a, m.terms)
			if shared < need && c < memberNovelty {
				c = 0 // a coincidence, unless the article is a copy of the report
			}
			// Candidates come sorted, so ties go to the oldest story.
			if s := float64(d * c); !ok || s > h.sim {
				h, ok = hit{key: k, sim: s, cosine: c, member: m}, true
			}
		}
	}
	return h, ok
}

// decay discounts the similarity of two reports gap seconds apart: each is evidence about
// the other only as much as they are close in time. Decaying by the member's time rather
// than the story's keeps a story that has gathered reports over two days from attracting
// everything new on its subject.
func (x *index) decay(gap int64) float64 {
	if x.p.halfLife <= 0 {
		return 1
	}
	return math.Exp2(-math.Abs(float64(gap)) / float64(x.p.halfLife))
}

// candidates returns the keys of the stories most worth comparing with an article, sorted:
// of the stories that share one of the article's keys rarest terms, the maxCandidates that
// share the most weight of them. Looking up only a few rare terms, each in at most
// maxPosting stories, keeps the cost of an article independent of how many stories are live.
func (x *index) candidates(a weighted) []uint64 {
	var keys []idWeight // w: stories with the term
	for _, k := range a.known {
		if n := x.dict[k.id].stories; n > 0 && int(n) <= x.p.maxPosting {
			keys = append(keys, idWeight{k.id, float64(n)})
		}
	}
	slices.SortFunc(keys, func(p, q idWeight) int {
		if c := cmp.Compare(p.w, q.w); c != 0 {
			return c
		}
		return cmp.Compare(x.dict[p.id].key, x.dict[q.id].key)
	})
	type score struct {
		key uint64
		w   float64
	}
	var hits []score
	for _, k := range keys[:min(len(keys), x.p.keys)] {
		i := slices.IndexFunc(a.known, func(p idWeight) bool { return p.id == k.id })
		for _, s := range x.dict[k.id].postings {
			if x.live[s] != nil {
				hits = append(hits, score{s, a.known[i].w})
			}
		}
	}
	slices.SortFunc(hits, func(p, q score) int { return cmp.Compare(p.key, q.key) })
	n := 0
	for _, h := range hits {
		if n > 0 && hits[n-1].key == h.key {
			hits[n-1].w += h.w
			continue
		}
		hits[n] = h
		n++
	}
	hits = hits[:n]
	if len(hits) > maxCandidates {
		slices.SortStableFunc(hits, func(p, q score) int { return cmp.Compare(q.w, p.w) })
		hits = hits[:maxCandidates]
	}
	out := make([]uint64, len(hits))
	for i, h := range hits {
		out[i] = h.key
	}
	slices.Sort(out)
	return out
}

// maxCandidates bounds the stories compared in full with an article. Reports of one event
// share several rare terms, other stories rarely more than one.
const maxCandidates = 16
