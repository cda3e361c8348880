package stories

import (
	"slices"
)

// add records an article (terms ts, time at) in story key, a new story when key is not
// live. The article becomes a member unless a member already says the same.
func (x *index) add(key uint64, article string, ts termSet, at int64) {
	e := x.live[key]
	if e == nil {
		e = x.enter(key, at, at)
	}
	e.first, e.last = min(e.first, at), max(e.last, at)
	if len(e.members) >= x.p.members {
		return
	}
	if len(e.members) > 0 {
		a := x.weigh(ts)
		x.mark(&a)
		for _, m := range e.members {
			if sim, _ := x.similarity(&a, m.terms); sim >= memberNovelty {
				return
			}
		}
	}
	x.addMember(key, e, article, ts, at)
}

// enter makes story key joinable, with its articles' times from first to last.
func (x *index) enter(key uint64, first, last int64) *entry {
	e := &entry{key: key, ref: &storyRef{key: key}, first: first, last: last}
	x.live[key] = e
	x.ending.push(last, key)
	return e
}

func (x *index) addMember(key uint64, e *entry, article string, ts termSet, at int64) {
	m := member{terms: make([]uint32, len(ts)), at: at, article: article}
	for i, t := range ts { // sorted by key
		id, ok := x.ids[t.key()]
		if !ok {
			id = x.intern(t.key())
		}
		c := id << 2
		if t.number() {
			c |= 2
		}
		if t.title() {
			c |= 1
		}
		m.terms[i] = c
	}
	e.centroid = x.mergeCentroid(e, m.terms)
	e.members = append(e.members, m)
	e.atSum += at
	x.docs++
}

// mergeCentroid adds a new member's terms (sorted by key) to the centroid of story e
// (sorted by key), and counts them in the term statistics: each in one more member, and
// those the story had not yet in one more story.
func (x *index) mergeCentroid(e *entry, terms []uint32) []cterm {
	cs := e.centroid
	out := make([]cterm, 0, len(cs)+len(terms))
	i := 0
	for _, c := range terms {
		info := &x.dict[c>>2]
		for i < len(cs) && x.dict[cs[i].id].key < info.key {
			out = append(out, cs[i])
			i++
		}
		t := cterm{id: c >> 2}
		if i < len(cs) && cs[i].id == c>>2 {
			t = cs[i]
			i++
		} else {
			info.postings = append(info.postings, e.ref)
			info.stories++
		}
		if x.p.dfCap == 0 || int(t.title)+int(t.body) < x.p.dfCap {
			x.stat[c>>2].df++
		}
		if c&1 == 1 {
			t.title++
		} else {
			t.body++
		}
		out = append(out, t)
	}
	return append(out, cs[i:]...)
}

func (x *index) intern(k term) uint32 {
	var id uint32
	if n := len(x.free); n > 0 {
		id, x.free = x.free[n-1], x.free[:n-1]
		x.dict[id], x.stat[id] = termInfo{key: k}, termStat{}
	} else {
		id = uint32(len(x.dict))
		x.dict = append(x.dict, termInfo{key: k})
		x.stat = append(x.stat, termStat{})
		x.markW = append(x.markW, 0)
	}
	x.ids[k] = id
	return id
}

// termsOfMember returns a member's terms as stored in snapshots.
func (x *index) termsOfMember(m member) termSet {
	ts := make(termSet, len(m.terms))
	for i, c := range m.terms {
		ts[i] = makeTerm(uint64(x.dict[c>>2].key), c&1 == 1)
	}
	return ts
}

// prune forgets the stories whose last article is older than cutoff, which no article on
// time can join any more, and returns their keys.
func (x *index) prune(cutoff int64) []uint64 {
	var gone []uint64
	for {
		k, ok := x.ending.due(cutoff)
		if !ok {
			break
		}
		if e := x.live[k]; e.last >= cutoff {
			x.ending.push(e.last, k) // it has had articles since it was pushed
			continue
		}
		gone = append(gone, k)
	}
	slices.Sort(gone)
	for _, k := range gone {
		e := x.live[k]
		x.docs -= len(e.members)
		for _, c := range e.centroid {
			n := int32(c.title) + int32(c.body)
			if x.p.dfCap > 0 {
				n = min(n, int32(x.p.dfCap))
			}
			x.stat[c.id].df -= n
			x.dict[c.id].stories--
		}
		delete(x.live, k)
		e.ref.dead = true
		for _, c := range e.centroid {
			x.tidy(c.id)
		}
	}
	return gone
}

// tidy frees a term no live member has, and compacts its postings when half are dead.
func (x *index) tidy(id uint32) {
	info, st := &x.dict[id], &x.stat[id]
	switch {
	case info.key == 0 && st.df == 0 && len(info.postings) == 0:
		// Already freed by another member of the story.
	case st.df == 0:
		delete(x.ids, info.key)
		*info, *st = termInfo{}, termStat{}
		x.free = append(x.free, id)
	case len(info.postings) > 2*int(info.stories)+8:
		info.postings = slices.DeleteFunc(info.postings, func(r *storyRef) bool { return r.dead })
	}
}
