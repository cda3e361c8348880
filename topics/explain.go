package topics

import (
	"math/bits"
	"slices"
)

// Hit is one topic that a document matched.
type Hit struct {
	Topic string
	Terms []MatchedTerm
}

// MatchedTerm is a query term that contributed to a match, and the field it
// matched in. Term is as written in the query: a phrase as its words joined
// by single spaces, a prefix with its trailing "*".
type MatchedTerm struct {
	Term  string
	Field string
}

// TermStrings returns the distinct matched terms, sorted, as shown in the
// "explain" object of `topics test --json`.
func (h Hit) TermStrings() []string {
	out := make([]string, 0, len(h.Terms))
	for _, t := range h.Terms {
		out = append(out, t.Term)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// explain appends to s.terms the terms of a topic that matched: those that
// made the query true; under OR only the alternatives that hold, under NEAR
// only the pairs that are near each other, never terms under NOT. Terms come
// in query order, each with its fields in the order title, summary, content,
// url, source, tag; repeated (term, field) pairs are dropped.
func (s *scratch) explain(t *ctopic) {
	s.recs = s.recs[:0]
	s.collect(t.root)
	slices.Sort(s.recs)
	start := len(s.terms)
	for _, r := range slices.Compact(s.recs) {
		mt := MatchedTerm{Term: t.leaves[r>>8].text, Field: fieldNames[r&0xff]}
		if !slices.Contains(s.terms[start:], mt) {
			s.terms = append(s.terms, mt)
		}
	}
}

// record notes that leaf c matched in each of fields.
func (s *scratch) record(c *cnode, fields fieldSet) {
	for fields != 0 {
		i := bits.TrailingZeros8(uint8(fields))
		fields &^= 1 << i
		s.recs = append(s.recs, uint32(c.order)<<8|uint32(i))
	}
}

// collect records the matching leaves of c, which is known to be true.
func (s *scratch) collect(c *cnode) {
	switch c.op {
	case opTerm, opPrefix, opPhrase:
		s.record(c, s.leafFields(c)&c.fields)
	case opAnd:
		for _, k := range c.kids {
			s.collect(k)
		}
	case opOr:
		for _, k := range c.kids {
			if s.eval(k) {
				s.collect(k)
			}
		}
	case opNear:
		for _, a := range c.nearL {
			for _, b := range c.nearR {
				if f := s.nearPair(a, b, c.dist, true); f != 0 {
					s.record(a, f)
					s.record(b, f)
				}
			}
		}
	}
}
