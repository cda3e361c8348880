package topics

import "slices"

// eval reports whether the compiled query c holds for the current document.
func (s *scratch) eval(c *cnode) bool {
	switch c.op {
	case opTerm, opPrefix:
		return s.present(c.id)&c.fields != 0
	case opPhrase:
		return s.phraseFields(c)&c.fields != 0
	case opAnd:
		for _, k := range c.kids {
			if !s.eval(k) {
				return false
			}
		}
		return true
	case opOr:
		for _, k := range c.kids {
			if s.eval(k) {
				return true
			}
		}
		return false
	case opNot:
		return !s.eval(c.kids[0])
	case opNear:
		for _, a := range c.nearL {
			for _, b := range c.nearR {
				if s.nearPair(a, b, c.dist, false) != 0 {
					return true
				}
			}
		}
	}
	return false
}

// leafFields returns the fields where a leaf occurs, ignoring its scope.
func (s *scratch) leafFields(c *cnode) fieldSet {
	if c.op == opPhrase {
		return s.phraseFields(c)
	}
	return s.present(c.id)
}

// phraseFields returns the fields in which the phrase occurs, cached per
// document because many topics share phrases.
func (s *scratch) phraseFields(c *cnode) fieldSet {
	if s.phStamp[c.id] == s.gen {
		return s.phMask[c.id]
	}
	var got fieldSet
	if s.present(c.words[0]) != 0 {
		for _, p := range s.pos[c.words[0]] {
			if s.tokField[p]&got == 0 && s.phraseAt(c.words, p) {
				got |= s.tokField[p]
			}
		}
	}
	s.phStamp[c.id], s.phMask[c.id] = s.gen, got
	return got
}

// phraseAt reports whether the phrase's tokens follow position p in one field.
func (s *scratch) phraseAt(words []int32, p int32) bool {
	if int(p)+len(words) > len(s.tokTerm) {
		return false
	}
	f := s.tokField[p]
	for j, w := range words[1:] {
		q := p + int32(j) + 1
		if s.tokTerm[q] != w || s.tokField[q] != f {
			return false
		}
	}
	return true
}

// spans returns the ascending start positions of a leaf's occurrences within
// fields, and the length of each occurrence in tokens.
func (s *scratch) spans(c *cnode, fields fieldSet) ([]int32, int32) {
	if c.op != opPhrase {
		all := s.pos[c.id]
		if s.mask[c.id]&^fields == 0 {
			return all, 1
		}
		start := len(s.arena)
		for _, p := range all {
			if s.tokField[p]&fields != 0 {
				s.arena = append(s.arena, p)
			}
		}
		return s.arena[start:], 1
	}
	start := len(s.arena)
	for _, p := range s.pos[c.words[0]] {
		if s.tokField[p]&fields != 0 && s.phraseAt(c.words, p) {
			s.arena = append(s.arena, p)
		}
	}
	return s.arena[start:], int32(len(c.words))
}

// nearPair returns the fields in which an occurrence of a and one of b lie
// at most dist positions apart, in either order, without overlapping. With
// all = false it stops at the first such field.
func (s *scratch) nearPair(a, b *cnode, dist int32, all bool) fieldSet {
	common := a.fields & b.fields & s.leafFields(a) & s.leafFields(b)
	if common == 0 {
		return 0
	}
	mark := len(s.arena)
	defer func() { s.arena = s.arena[:mark] }()
	as, la := s.spans(a, common)
	bs, lb := s.spans(b, common)
	var got fieldSet
	for _, x := range as {
		f := s.tokField[x]
		if got&f != 0 {
			continue
		}
		// b after a: b starts in [end(a)+1, end(a)+dist].
		xe := x + la - 1
		i, _ := slices.BinarySearch(bs, xe+1)
		if i < len(bs) && bs[i] <= xe+dist && s.tokField[bs[i]] == f {
			got |= f
		} else {
			// b before a: b ends in [x-dist, x-1], so starts in [x-dist-lb+1, x-lb].
			j, found := slices.BinarySearch(bs, x-lb)
			if !found {
				j--
			}
			if j >= 0 && bs[j] >= x-dist-lb+1 && s.tokField[bs[j]] == f {
				got |= f
			}
		}
		if got != 0 && !all {
			break
		}
	}
	return got
}
