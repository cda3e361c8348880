package stories

import (
	"cmp"
	"slices"
)

// candidates returns the stories most worth comparing with an article, by key:
// of the stories that share one of the article's keys rarest terms, the maxCandidates that
// share the most weight of them. Looking up only a few rare terms, each in at most
// maxPosting stories, keeps the cost of an article independent of how many stories are live.
// They are in a buffer of the index's, valid until the next call.
func (x *index) candidates(a weighted) []*entry {
	lookups := x.lookups[:0]
	for _, k := range a.known {
		if info := &x.dict[k.id]; info.stories > 0 && int(info.stories) <= x.p.maxPosting {
			lookups = append(lookups, lookup{key: info.key, stories: info.stories, id: k.id, w: k.w})
		}
	}
	slices.SortFunc(lookups, func(p, q lookup) int {
		if c := cmp.Compare(p.stories, q.stories); c != 0 {
			return c
		}
		return cmp.Compare(p.key, q.key)
	})
	x.lookups = lookups
	hits := x.hits[:0]
	for _, k := range lookups[:min(len(lookups), x.p.keys)] {
		for _, r := range x.dict[k.id].postings {
			if !r.dead {
				hits = append(hits, score{r.key, k.w})
			}
		}
	}
	x.hits = hits
	// The weights of a story are summed in the order the sort leaves them in.
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
	out := x.cands[:0]
	if len(hits) <= maxCandidates {
		for _, h := range hits {
			out = append(out, x.live[h.key])
		}
		x.cands = out
		return out // by key
	}
	// The maxCandidates with the most weight, of equal weights the oldest stories.
	top := x.top[:0]
	for _, h := range hits {
		if len(top) == maxCandidates && !h.above(top[len(top)-1]) {
			continue
		}
		i := len(top)
		for i > 0 && h.above(top[i-1]) {
			i--
		}
		if len(top) < maxCandidates {
			top = append(top, score{})
		}
		copy(top[i+1:], top[i:len(top)-1])
		top[i] = h
	}
	x.top = top
	for _, h := range top {
		out = append(out, x.live[h.key])
	}
	slices.SortFunc(out, func(p, q *entry) int { return cmp.Compare(p.key, q.key) })
	x.cands = out
	return out
}

// lookup is a term of an article that looks up candidate stories: its key, how many live
// stories have it, its id and its weight in the article.
type lookup struct {
	key     term
	stories int32
	id      uint32
	w       float64
}

// score is a candidate story and the weight of the lookup terms it shares with an article.
type score struct {
	key uint64
	w   float64
}

// above orders candidates: more weight first, then the oldest story.
func (s score) above(o score) bool { return s.w > o.w || s.w == o.w && s.key < o.key }

// maxCandidates bounds the stories compared in full with an article. Reports of one event
// share several rare terms, other stories rarely more than one.
const maxCandidates = 16
