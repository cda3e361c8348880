package topics

import "slices"

// The matcher's inverted index maps each term id to the topics it can
// trigger. A topic's query is reduced, once at compile time, to groups of
// term ids such that the query can only be true when every group has at
// least one of its terms in the document: for
//
//	("North Korea" OR DPRK) AND (Russia OR Kremlin)
//
// the groups are {korea, dprk} and {russia, kremlin} ("North Korea" is
// represented by its longest word). Each posting carries its group's bit;
// while scanning a document the matcher ORs the bits per topic and
// evaluates a topic only once all of its bits are set. Topics that can be
// true with none of their terms present (NOT x) have no groups and are
// evaluated for every document.

// posting is one entry of a term's posting list.
type posting struct {
	topic int32
	group uint32 // the bit of the group the term belongs to
}

// maxGroups is the number of group bits in a posting.
const maxGroups = 32

// groups returns the trigger groups of a topic whose root is c, or nil if c
// can be true with none of its terms present.
func (b *builder) groups(c *cnode) [][]int32 {
	parts := []*cnode{c}
	if c.op == opAnd || c.op == opNear {
		parts = c.kids
	}
	var gs [][]int32
	for _, k := range parts {
		switch k.op {
		case opPhrase:
			for _, w := range k.words {
				gs = append(gs, []int32{w})
			}
		case opNear:
			for _, operand := range k.kids {
				ids, _ := b.triggers(operand)
				gs = append(gs, ids)
			}
		default:
			if ids, ok := b.triggers(k); ok {
				gs = append(gs, ids)
			}
		}
	}
	if len(gs) > maxGroups {
		// Dropping a group only lets more documents through to evaluation.
		slices.SortStableFunc(gs, func(x, y []int32) int { return len(x) - len(y) })
		gs = gs[:maxGroups]
	}
	return gs
}

// triggers returns term ids of which at least one must occur in a document
// for c to be true, or ok = false when c can be true with none of its terms
// present (NOT x, a OR NOT b). For AND it picks the child with the most
// selective triggers, so a topic is only evaluated when its rarest
// requirement is met.
func (b *builder) triggers(c *cnode) (ids []int32, ok bool) {
	switch c.op {
	case opTerm, opPrefix:
		return []int32{c.id}, true
	case opPhrase:
		best := c.words[0]
		for _, w := range c.words[1:] {
			if b.termLen[w] > b.termLen[best] {
				best = w
			}
		}
		return []int32{best}, true
	case opNot:
		return nil, false
	case opOr:
		for _, k := range c.kids {
			kt, kok := b.triggers(k)
			if !kok {
				return nil, false
			}
			ids = append(ids, kt...)
		}
		return ids, true
	}
	// AND and NEAR: every child must hold, so any one child's triggers do.
	for _, k := range c.kids {
		kt, kok := b.triggers(k)
		if kok && (!ok || b.better(kt, ids)) {
			ids, ok = kt, true
		}
	}
	return ids, ok
}

// better reports whether trigger set x is likely more selective than y:
// fewer terms, then longer shortest term.
func (b *builder) better(x, y []int32) bool {
	if len(x) != len(y) {
		return len(x) < len(y)
	}
	return b.minLen(x) > b.minLen(y)
}

func (b *builder) minLen(ids []int32) int {
	m := int(^uint(0) >> 1)
	for _, id := range ids {
		m = min(m, b.termLen[id])
	}
	return m
}
