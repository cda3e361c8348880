package stories

import (
	"math"
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
	// members is how many distinct reports of a story are kept: its centroid, and the texts
	// copies are told by.
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
	// shortThreshold replaces threshold for a headline without a summary in a learnt topic,
	// which is compared with each story's centroid rather than with its members (0: with
	// the members, as any other article). A headline shares few words with any one other
	// headline, and more with what a story's reports say together. A story of one report
	// is one headline: joining it still takes threshold.
	shortThreshold float64
	// single lets such a headline join a story with which it shares one term of positive
	// weight when the similarity reaches this (0: never), provided two of the story's
	// reports or more have that term: the term is then the story's name ("Snowden",
	// "Titanfall"), which its reports agree on, not a coincidence ("treaty", "treated").
	single float64
	// unknownShare is how much of an article's terms that no live report has count in its
	// norm when it is compared with a centroid (1: all of it): such a term says the article
	// has words of its own, not which story it is in, and a headline's few words would
	// otherwise be swamped by the rarest of them.
	unknownShare float64
	// compare is how many of a story's members (the earliest) an article with a summary is
	// compared with: more members make a better centroid, but comparing with each costs.
	compare int
	// fewMembers raises shortThreshold by fewMembers/n for a story of n members: a centroid
	// of two or three headlines is a poor estimate of what its story is about, and a headline
	// that joins it on two words it shares with one of them turns a story into another when
	// the stream does not come in time order (a daemon polling feeds one by one): the next
	// headlines of the other event follow it in. Measured on the UCI tuning half in random
	// arrival orders (TestHeadlineSweep, TestArrivalOrder).
	fewMembers float64
	// summaryThreshold replaces threshold for an article with a summary (0: threshold): a
	// rewrite shares a smaller part of a long text than of a headline. Measured and refused
	// (TestSweep): 0.12 joins the heldout set's Russian rewrites and Maersk report alone, but
	// in a busy topic, and in small ones, it also joins reports the sets label as other
	// stories (the Russian report of the Marlin Luanda with the English one).
	summaryThreshold float64
	// dfCap is how many members of one story count in a term's document frequency (0: all).
	// The terms a story's reports agree on are its name ("bitcoin", "Plosser"); counting
	// each of its members makes them look as common as the topic's own subject, and the
	// next report that names the story shares little else.
	dfCap int
}

var defaultParams = params{
	window:     int64(DefaultWindow / time.Second),
	halfLife:   12 * 3600,
	threshold:  0.14,
	titleBoost: 1.5,
	prior:      5,
	members:    48,
	keys:       8,
	maxPosting: 64,
	minShared:  3,

	minSharedShort: 2,
	shortTerms:     16,
	learnt:         20,
	numberConflict: 0.7,
	shortThreshold: 0.09,
	single:         0.12,
	unknownShare:   0.5,
	compare:        12,

	fewMembers: 0.05,
	dfCap:      6,
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
// topic's first story look common and every word of its second look rare. A story counts
// with at most dfCap of its members, so that a big story's own name keeps its weight.
//
// The terms of live members are interned to dense ids, so that comparing an article with a
// report reads slices, not maps.
type index struct {
	p    params
	live map[uint64]*entry
	// ending holds the live stories by their last article, for pruning.
	ending expiry
	ids    map[term]uint32 // term key → id
	dict   []termInfo      // by id
	// stat is by id too: what comparing an article with a report reads for each of the
	// report's terms, apart from the rest so that it stays in the CPU's caches.
	stat  []termStat
	markW []float64 // by id: the weight of the term in the article being compared, if marked
	stamp uint32    // the mark of the article being compared (see mark)
	free  []uint32  // ids of terms no live member has
	docs  int       // live members

	logHalf []float64 // logHalf[k] = log(k+½)

	// Buffers of candidates, reused from one article to the next.
	lookups []lookup
	hits    []score
	top     []score
	cands   []*entry
	known   []idWeight // weighted.known of the article weighed last
}

type termInfo struct {
	key     term
	stories int32 // live stories with a member that has the term
	// postings are those stories, and pruned ones until the list is
	// compacted: a pruned story leaves its terms' lists only when half of a list is dead,
	// so pruning does not rewrite the long lists of common terms every time.
	postings []*storyRef
}

// entry is the joinable part of a story.
type entry struct {
	key         uint64
	ref         *storyRef // what posting lists hold of it
	members     []member
	first, last int64 // event time range of the story's articles, unix seconds
	// centroid is the terms of the members with how many have each, in the order of their
	// keys; atSum the sum of the members' times.
	centroid []cterm
	atSum    int64
}

// termStat is a term's document frequency, and whether the article being compared has it:
// it does when mark is the index's stamp (its weight in the article is then in markW). An
// article is compared with many reports; finding its terms among a report's by marks costs
// one read per report term, of 8 bytes, where walking both lists in key order cost two.
type termStat struct {
	df   int32  // live members with the term, at most dfCap of each story
	mark uint32 // the index's stamp when the article being compared has the term
}

// storyRef is what posting lists hold of a story: its key, and whether it was pruned. It is
// small because a pruned story stays in lists until they are compacted, and holding it
// there costs no map lookup per posting when looking up candidates.
type storyRef struct {
	key  uint64
	dead bool
}

// cterm is a term of a story's centroid: how many of its members have it in the title, and
// elsewhere only.
type cterm struct {
	id          uint32
	title, body uint16
}

// member is one distinct report of a story: its terms as id<<2|number<<1|title (number: the
// term is a number of two digits or more), in the order of their keys (so that sums over
// them do not depend on which ids were free), and its event time (unix seconds).
type member struct {
	terms   []uint32
	at      int64
	article string // the article's id
}

func newIndex(p params) *index {
	return &index{p: p, live: map[uint64]*entry{}, ids: map[term]uint32{}}
}

// weighted is an article's terms with their weights under the current statistics. Its known
// terms are in a buffer of the index's: only the article weighed last can be compared.
type weighted struct {
	terms    termSet
	numbers  bool       // some term is a number of two digits or more
	known    []idWeight // the terms some live member has, in the order of their keys
	norm2    float64
	unknown2 float64 // the part of norm2 of the terms no live member has
	headline bool    // every term is a title term: a headline without a summary
	stamp    uint32  // its mark, once marked (see index.mark)
}

type idWeight struct {
	id uint32
	w  float64
}

func (x *index) weigh(ts termSet) weighted {
	a := weighted{terms: ts, headline: len(ts) > 0, known: x.known[:0]}
	f := x.weights()
	for _, t := range ts {
		a.numbers = a.numbers || t.number()
		a.headline = a.headline && t.title()
		var df int32
		id, ok := x.ids[t.key()]
		if ok {
			df = x.stat[id].df
		}
		w := f.weight(df, t.title())
		a.norm2 += float64(w * w)
		if !ok || df == 0 {
			a.unknown2 += float64(w * w)
		}
		if ok {
			a.known = append(a.known, idWeight{id, w}) // ts is sorted by key
		}
	}
	x.known = a.known
	return a
}

// similarity is the cosine of the weighted term vectors of an article and a member, and
// the number of terms with a positive weight they share. When both give numbers of two
// digits or more and share none of them ("1,500 soldiers" and "3,000 troops"), the cosine
// is multiplied by numberConflict: they report different figures, so most likely different
// events.
func (x *index) similarity(a *weighted, m []uint32) (sim float64, shared int) {
	a.mustBeMarked(x)
	var dot, mnorm2 float64
	mNumbers, sharedNumbers := false, false
	f := x.weights()
	for _, c := range m {
		st := &x.stat[c>>2]
		w := f.weight(st.df, c&1 == 1)
		mnorm2 += float64(w * w)
		number := c&2 != 0
		mNumbers = mNumbers || number
		if st.mark == x.stamp {
			aw := x.markW[c>>2]
			dot += float64(aw * w)
			sharedNumbers = sharedNumbers || number
			if aw > 0 && w > 0 {
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

// mark makes a the article compared: it stamps a's terms in stat, and puts their weights in
// markW, which similarity and centroidSimilarity read. Only the article marked last can be
// compared.
func (x *index) mark(a *weighted) {
	x.stamp++
	if x.stamp == 0 { // wrapped: a mark left from 2³² articles ago must not match
		for i := range x.stat {
			x.stat[i].mark = 0
		}
		x.stamp = 1
	}
	a.stamp = x.stamp
	for _, k := range a.known {
		x.stat[k.id].mark, x.markW[k.id] = x.stamp, k.w
	}
}

// mustBeMarked panics when a is not the article marked last: comparing it would find the
// terms of another article.
func (a *weighted) mustBeMarked(x *index) {
	if a.stamp != x.stamp {
		panic("stories: comparing an article that is not marked")
	}
}

// hit is the story an article is most similar to: its key, the similarity discounted by
// time (what decides joining), the plain cosine, the member it was measured against (for a
// comparison with the centroid, the most similar member), and the least similarity for
// the article to join.
type hit struct {
	key       uint64
	sim       float64
	cosine    float64
	member    *member
	threshold float64
}

// joins reports whether the article joins the hit's story.
func (h hit) joins() bool { return h.member != nil && h.sim >= h.threshold }

// copy reports whether the article is a copy of the member it matched.
func (h hit) copy() bool { return h.cosine >= memberNovelty }

// best returns the live story most similar to an article at time at; ok is false when no
// story is a candidate.
//
// An article with a summary is compared with each of the first compare members of a
// candidate story. A headline alone, in a topic that has learnt its common words, is
// compared with the story's centroid, the sum of its members' term vectors: each of the
// members' headlines shares a word or two with it, and the words they share most weigh most.
func (x *index) best(a weighted, at int64) (h hit, ok bool) {
	learnt := x.docs >= x.p.learnt
	short := len(a.terms) < x.p.shortTerms && learnt
	need, threshold := x.p.minShared, x.p.threshold
	if short {
		need = x.p.minSharedShort
	}
	centroid := a.headline && learnt && x.p.shortThreshold > 0
	if centroid {
		threshold = x.p.shortThreshold
	} else if !a.headline && x.p.summaryThreshold > 0 {
		threshold = x.p.summaryThreshold
	}
	h.threshold = threshold
	x.mark(&a)
	for _, e := range x.candidates(a) {
		k := e.key
		if max(at-e.last, e.first-at, 0) > x.p.window {
			continue
		}
		if centroid {
			d := x.decay(at - e.atSum/int64(len(e.members)))
			if ok && d <= max(h.sim, threshold) {
				continue
			}
			c, shared, agreed := x.centroidSimilarity(&a, e.centroid)
			if shared < need && !(x.p.single > 0 && agreed == 1 && c >= x.p.single) {
				c = 0
			}
			if len(e.members) == 1 && float64(d*c) < x.p.threshold {
				c = 0 // a story of one report is one headline: the threshold of two texts
			}
			if float64(d*c) < threshold+x.p.fewMembers/float64(len(e.members)) {
				c = 0 // a centroid of few headlines: more is needed (fewMembers)
			}
			if s := float64(d * c); !ok || s > h.sim {
				h, ok = hit{key: k, sim: s, cosine: c, threshold: threshold}, true
			}
			continue
		}
		for i := range e.members[:min(len(e.members), x.p.compare)] {
			m := &e.members[i]
			d := x.decay(at - m.at)
			if ok && d <= max(h.sim, threshold) {
				continue // a similarity is at most 1: this report cannot win
			}
			c, shared := x.similarity(&a, m.terms)
			if shared < need && c < memberNovelty {
				c = 0 // a coincidence, unless the article is a copy of the report
			}
			// Candidates come sorted, so ties go to the oldest story.
			if s := float64(d * c); !ok || s > h.sim {
				h, ok = hit{key: k, sim: s, cosine: c, member: m, threshold: threshold}, true
			}
		}
	}
	if ok && centroid {
		// The member the article is most like: the article it is recorded as matching, and
		// whether it is a copy of it.
		e := x.live[h.key]
		h.cosine = -1
		for i := range e.members {
			if c, _ := x.similarity(&a, e.members[i].terms); c > h.cosine {
				h.cosine, h.member = c, &e.members[i]
			}
		}
	}
	return h, ok
}

// centroidSimilarity is the cosine of the weighted term vectors of an article and a story's
// centroid, where a centroid term weighs its weight times the number of members with it,
// and the number of terms with a positive weight they share.
func (x *index) centroidSimilarity(a *weighted, cs []cterm) (sim float64, shared, agreed int) {
	a.mustBeMarked(x)
	var dot, cnorm2 float64
	f := x.weights()
	for _, c := range cs {
		st := &x.stat[c.id]
		idf := f.idf(st.df)
		w := float64(idf*float64(c.body)) + float64(float64(idf*f.titleBoost)*float64(c.title))
		cnorm2 += float64(w * w)
		if st.mark == x.stamp {
			aw := x.markW[c.id]
			dot += float64(aw * w)
			if aw > 0 && w > 0 {
				shared++
				if c.title+c.body >= 2 {
					agreed++
				}
			}
		}
	}
	an2 := a.norm2 - float64((1-x.p.unknownShare)*a.unknown2)
	if an2 <= 0 || cnorm2 <= 0 {
		return 0, shared, agreed
	}
	return dot / math.Sqrt(float64(an2*cnorm2)), shared, agreed
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
