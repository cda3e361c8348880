package topics

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Topic is a named query to compile into a Matcher.
type Topic struct {
	ID, Query string
}

// Doc is an article as the matcher sees it. Source is the feed id; Tags are the feed's tags,
// each compared whole and exactly with the tags a query names (tag:world).
type Doc struct {
	Title, Summary, Content, URL, Source string
	Tags                                 []string
}

// TopicError is a topic whose query does not compile. Err is usually a
// *SyntaxError, whose column lets callers point into a config file.
type TopicError struct {
	Topic string
	Err   error
}

// Error returns `topic "id": column N: message`.
func (e *TopicError) Error() string { return fmt.Sprintf("topic %q: %v", e.Topic, e.Err) }

// Unwrap returns the underlying error.
func (e *TopicError) Unwrap() error { return e.Err }

// ErrDuplicateTopic is returned (inside a *TopicError) when two topics share an id.
var ErrDuplicateTopic = errors.New("topics: duplicate topic id")

// Matcher matches documents against many compiled topics at once. It is
// immutable after Compile and safe for concurrent use.
type Matcher struct {
	topics   []ctopic    // sorted by topic id
	exact    dict        // folded token -> term id
	trie     prefixTrie  // folded prefix -> term id
	postings [][]posting // term id -> topics that it may trigger
	need     []uint32    // by topic: the group bits that must all be set
	always   []int32     // topics that can match without any of their terms
	nTerms   int         // term ids (tokens and prefixes)
	nPhrases int         // distinct phrases, for per-document caching
	pool     sync.Pool   // *scratch
}

// ctopic is a compiled topic.
type ctopic struct {
	id     string
	root   *cnode
	leaves []*cnode // by cnode.order
}

// cnode is a query node bound to the matcher's term ids.
type cnode struct {
	op     op
	fields fieldSet
	id     int32   // opTerm, opPrefix: term id; opPhrase: phrase id
	words  []int32 // opPhrase: term ids of its tokens
	dist   int32   // opNear
	order  int32   // leaves: position in the query, for stable explanations
	text   string  // leaves: the term as written
	kids   []*cnode
	nearL  []*cnode // opNear: leaves of the left operand
	nearR  []*cnode // opNear: leaves of the right operand
}

// Compile parses every topic and builds one matcher for all of them. Errors
// name the topic (`topic "x": column 7: ...`); all broken topics are reported
// together, joined.
func Compile(topics []Topic) (*Matcher, error) {
	sorted := slices.Clone(topics)
	slices.SortStableFunc(sorted, func(a, b Topic) int { return strings.Compare(a.ID, b.ID) })
	b := &builder{exact: map[string]int32{}, prefixes: map[string]int32{}, phrases: map[string]int32{}}
	var errs []error
	for i, t := range sorted {
		if i > 0 && sorted[i-1].ID == t.ID {
			errs = append(errs, &TopicError{Topic: t.ID, Err: ErrDuplicateTopic})
			continue
		}
		q, err := Parse(t.Query)
		if err != nil {
			errs = append(errs, &TopicError{Topic: t.ID, Err: err})
			continue
		}
		b.add(t.ID, q)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	m := &Matcher{
		topics:   b.topics,
		exact:    newDict(b.exact),
		trie:     buildTrie(b.prefixes),
		postings: b.postings,
		need:     b.need,
		always:   b.always,
		nTerms:   len(b.termLen),
		nPhrases: len(b.phrases),
	}
	m.pool.New = func() any { return newScratch(m) }
	return m, nil
}

// builder assigns term ids and collects postings while topics are added.
type builder struct {
	exact    map[string]int32
	prefixes map[string]int32
	phrases  map[string]int32
	termLen  []int // by term id: length in bytes, prefixes penalized
	postings [][]posting
	need     []uint32
	topics   []ctopic
	always   []int32
	leaves   []*cnode // of the topic being added, in query order
	slab     []cnode  // nodes are allocated in chunks, for locality
}

// alloc returns a new node from the current chunk.
func (b *builder) alloc() *cnode {
	if len(b.slab) == cap(b.slab) {
		b.slab = make([]cnode, 0, 1024)
	}
	b.slab = b.slab[:len(b.slab)+1]
	return &b.slab[len(b.slab)-1]
}

func (b *builder) add(id string, q *Query) {
	b.leaves = nil
	root := b.node(q.root)
	ti := int32(len(b.topics))
	b.topics = append(b.topics, ctopic{id: id, root: root, leaves: b.leaves})
	groups := b.groups(root)
	b.need = append(b.need, uint32(1)<<len(groups)-1)
	if len(groups) == 0 {
		b.always = append(b.always, ti)
		return
	}
	for g, ids := range groups {
		slices.Sort(ids)
		for _, id := range slices.Compact(ids) {
			b.postings[id] = append(b.postings[id], posting{topic: ti, group: 1 << g})
		}
	}
}

// term returns the id of a folded token or prefix, creating it if needed.
func (b *builder) term(w string, prefix bool) int32 {
	dict := b.exact
	weight := len(w)
	if prefix {
		dict = b.prefixes
		weight -= 2 // a prefix matches more documents than the same word
	}
	if id, ok := dict[w]; ok {
		return id
	}
	id := int32(len(b.termLen))
	dict[w] = id
	b.termLen = append(b.termLen, weight)
	b.postings = append(b.postings, nil)
	return id
}

func (b *builder) node(n *node) *cnode {
	c := b.alloc()
	c.op, c.fields, c.dist = n.op, n.fields, int32(n.dist)
	switch n.op {
	case opTerm, opPrefix:
		c.id = b.term(n.words[0], n.op == opPrefix)
	case opPhrase:
		for _, w := range n.words {
			c.words = append(c.words, b.term(w, false))
		}
		key := strings.Join(n.words, "\x00")
		id, ok := b.phrases[key]
		if !ok {
			id = int32(len(b.phrases))
			b.phrases[key] = id
		}
		c.id = id
	}
	if n.isLeaf() {
		c.text, c.order = n.text, int32(len(b.leaves))
		b.leaves = append(b.leaves, c)
		return c
	}
	for _, k := range n.kids {
		c.kids = append(c.kids, b.node(k))
	}
	if n.op == opNear {
		c.nearL = cleaves(c.kids[0], nil)
		c.nearR = cleaves(c.kids[1], nil)
	}
	if n.op == opAnd {
		// Cheap tests first; explanations are ordered by c.order, not by this.
		slices.SortStableFunc(c.kids, func(x, y *cnode) int { return evalCost(x) - evalCost(y) })
	}
	return c
}

func cleaves(c *cnode, dst []*cnode) []*cnode {
	if c.op <= opPhrase {
		return append(dst, c)
	}
	for _, k := range c.kids {
		dst = cleaves(k, dst)
	}
	return dst
}

func evalCost(c *cnode) int {
	switch c.op {
	case opTerm, opPrefix:
		return 0
	case opPhrase:
		return 1
	case opNear:
		return 3
	}
	return 2
}
