package topics

import (
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Match returns the topics that d matches, sorted by topic id, each with the
// terms that made it match; nil when none does.
//
// The document is tokenized once. Only its tokens that occur in some query
// are recorded, with their positions; the topics that use those tokens (plus
// the few that can match without any of their terms) are then evaluated. The
// cost therefore grows with the article, not with the number of topics.
func (m *Matcher) Match(d Doc) []Hit {
	if len(m.topics) == 0 {
		return nil
	}
	s := m.pool.Get().(*scratch)
	defer m.pool.Put(s)
	s.reset()
	s.index(m, d.Title, fTitle)
	s.index(m, d.Summary, fSummary)
	s.index(m, d.Content, fContent)
	s.index(m, decodeURL(d.URL), fURL)
	s.index(m, d.Source, fSource)
	for _, tag := range d.Tags {
		// Whole, unfolded: tags are canonical (ValidTag), and "middle-east" is one tag.
		s.tok = append(s.tok[:0], tag...)
		s.token(m, fTag)
	}
	s.matched = s.matched[:0]
	for _, t := range s.candidates(m) {
		if s.eval(m.topics[t].root) {
			s.matched = append(s.matched, t)
		}
	}
	if len(s.matched) == 0 {
		return nil
	}
	// Two allocations per document: the hits, and all their terms.
	s.terms, s.ends = s.terms[:0], s.ends[:0]
	for _, t := range s.matched {
		s.explain(&m.topics[t])
		s.ends = append(s.ends, len(s.terms))
	}
	terms := make([]MatchedTerm, len(s.terms)) // never nil: "no terms" is []
	copy(terms, s.terms)
	hits := make([]Hit, len(s.matched))
	start := 0
	for i, t := range s.matched {
		end := s.ends[i]
		hits[i] = Hit{Topic: m.topics[t].id, Terms: terms[start:end:end]}
		start = end
	}
	clear(s.terms) // do not keep strings alive through the pool
	return hits
}

// decodeURL percent-decodes u so that non-ASCII slugs tokenize like text; an
// undecodable URL is used as is.
func decodeURL(u string) string {
	if !strings.Contains(u, "%") {
		return u
	}
	if d, err := url.QueryUnescape(u); err == nil && utf8.ValidString(d) {
		return d
	}
	return u
}

// scratch is the per-document state of a match, pooled per Matcher. Entries
// indexed by term, phrase or topic are valid only when their stamp equals gen,
// so nothing is cleared between documents.
type scratch struct {
	gen   uint32
	stamp []uint32   // by term id
	mask  []fieldSet // by term id: fields where the term occurs
	pos   [][]int32  // by term id: document positions, ascending
	used  []int32    // term ids seen in this document

	phStamp []uint32   // by phrase id
	phMask  []fieldSet // by phrase id: fields where the phrase occurs

	topicStamp []uint32 // by topic
	topicMask  []uint32 // by topic: trigger groups seen
	cands      []int32
	matched    []int32 // topics that matched
	terms      []MatchedTerm
	ends       []int // by matched topic: end of its terms in terms

	tokField []fieldSet // by document position
	tokTerm  []int32    // by document position: exact term id or -1

	f      folder
	tok    []byte
	prefix []int32
	arena  []int32 // phrase starts for NEAR, used as a stack
	recs   []uint32
}

func newScratch(m *Matcher) *scratch {
	return &scratch{
		stamp:      make([]uint32, m.nTerms),
		mask:       make([]fieldSet, m.nTerms),
		pos:        make([][]int32, m.nTerms),
		phStamp:    make([]uint32, m.nPhrases),
		phMask:     make([]fieldSet, m.nPhrases),
		topicStamp: make([]uint32, len(m.topics)),
		topicMask:  make([]uint32, len(m.topics)),
	}
}

func (s *scratch) reset() {
	s.gen++
	if s.gen == 0 { // wrapped: old stamps could look current
		clear(s.stamp)
		clear(s.phStamp)
		clear(s.topicStamp)
		s.gen = 1
	}
	s.used = s.used[:0]
	s.cands = s.cands[:0]
	s.tokField = s.tokField[:0]
	s.tokTerm = s.tokTerm[:0]
}

// asciiFold maps ASCII letters and digits to their folded byte, and every
// other byte to 0: a separator, or the start of a non-ASCII rune.
var asciiFold = func() (t [256]byte) {
	for c := range utf8.RuneSelf {
		if asciiWord[c] {
			t[c] = byte(c)
			if 'A' <= c && c <= 'Z' {
				t[c] += 'a' - 'A'
			}
		}
	}
	return t
}()

// index tokenizes one field, appending its tokens to the document's
// positions and recording those that some query uses. It splits like
// Tokenize, with a fast path that folds ASCII words while scanning them.
func (s *scratch) index(m *Matcher, text string, field fieldSet) {
	for i := 0; i < len(text); {
		c := text[i]
		if asciiFold[c] == 0 {
			if c < utf8.RuneSelf {
				i++
				continue
			}
			r, n := utf8.DecodeRuneInString(text[i:])
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				i += n
				continue
			}
			i = s.slowToken(m, text, i, field)
			continue
		}
		tok := s.tok[:0]
		j := i
		for ; j < len(text) && asciiFold[text[j]] != 0; j++ {
			tok = append(tok, asciiFold[text[j]])
		}
		s.tok = tok
		if j < len(text) && text[j] >= utf8.RuneSelf {
			// The word may go on in another script, or with an accent.
			if _, end := nextToken(text, i); end > j {
				i = s.slowToken(m, text, i, field)
				continue
			}
		}
		s.token(m, field)
		i = j
	}
}

// slowToken folds the token starting at text[i], records it and returns
// where it ends.
func (s *scratch) slowToken(m *Matcher, text string, i int, field fieldSet) int {
	_, end := nextToken(text, i)
	s.tok = s.f.appendFold(s.tok[:0], text[i:end])
	if len(s.tok) > 0 {
		s.token(m, field)
	}
	return end
}

// token records the folded token in s.tok at the next position.
func (s *scratch) token(m *Matcher, field fieldSet) {
	p := int32(len(s.tokTerm))
	id := m.exact.lookup(s.tok)
	if id >= 0 {
		s.add(id, field, p)
	}
	s.tokTerm = append(s.tokTerm, id)
	s.tokField = append(s.tokField, field)
	if len(m.trie.nodes) > 0 {
		s.prefix = m.trie.match(s.tok, s.prefix[:0])
		for _, id := range s.prefix {
			s.add(id, field, p)
		}
	}
}

func (s *scratch) add(id int32, field fieldSet, p int32) {
	if s.stamp[id] != s.gen {
		s.stamp[id] = s.gen
		s.mask[id] = 0
		s.pos[id] = s.pos[id][:0]
		s.used = append(s.used, id)
	}
	s.mask[id] |= field
	s.pos[id] = append(s.pos[id], p)
}

// candidates returns, ascending, the topics that may match this document:
// those whose trigger groups all occur in it (see index.go), and those that
// can match without any of their terms.
func (s *scratch) candidates(m *Matcher) []int32 {
	for _, id := range s.used {
		for _, p := range m.postings[id] {
			t := p.topic
			if s.topicStamp[t] != s.gen {
				s.topicStamp[t], s.topicMask[t] = s.gen, 0
			}
			if old := s.topicMask[t]; old|p.group != old {
				s.topicMask[t] = old | p.group
				if old|p.group == m.need[t] {
					s.cands = append(s.cands, t)
				}
			}
		}
	}
	s.cands = append(s.cands, m.always...)
	slices.Sort(s.cands)
	return s.cands
}

// present returns the fields in which term id occurs.
func (s *scratch) present(id int32) fieldSet {
	if s.stamp[id] != s.gen {
		return 0
	}
	return s.mask[id]
}
