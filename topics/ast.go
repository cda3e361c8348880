package topics

import (
	"strconv"
	"strings"
)

// fieldSet is a bit set of document fields.
type fieldSet uint8

const (
	fTitle fieldSet = 1 << iota
	fSummary
	fContent
	fURL
	fSource
	// fTag holds the tags of the article's feed, each one whole token (a tag is matched
	// exactly, never cut into words).
	fTag

	// fDefault is where a term without a field scope may match.
	fDefault  = fTitle | fSummary | fContent
	numFields = 6
)

// fieldNames is indexed by field bit position.
var fieldNames = [numFields]string{"title", "summary", "content", "url", "source", "tag"}

var fieldByName = map[string]fieldSet{
	"title": fTitle, "summary": fSummary, "content": fContent, "url": fURL, "source": fSource, "tag": fTag,
}

const fieldList = "title, summary, content, url, source, tag"

// op is the kind of a query node.
type op uint8

const (
	opTerm   op = iota + 1 // one token
	opPrefix               // words[0] is the folded prefix
	opPhrase               // two or more consecutive tokens
	opAnd
	opOr
	opNot
	opNear
)

// node is one node of a parsed query. Field scopes are pushed down to the
// leaves, so a leaf knows every field it may match in.
type node struct {
	op     op
	fields fieldSet // leaves: where the leaf may match
	words  []string // leaves: folded tokens
	text   string   // leaves: the term as written, tokens joined by spaces
	dist   int      // opNear
	kids   []*node  // opAnd, opOr (2+), opNot (1), opNear (2)
}

func (n *node) isLeaf() bool { return n.op <= opPhrase }

// positional reports whether n has token positions, so it may be an operand
// of NEAR: a term, prefix or phrase, or an OR of those.
func (n *node) positional() bool {
	if n.isLeaf() {
		return true
	}
	if n.op != opOr {
		return false
	}
	for _, k := range n.kids {
		if !k.positional() {
			return false
		}
	}
	return true
}

// leaves appends the leaves of n in query order.
func (n *node) leaves(dst []*node) []*node {
	if n.isLeaf() {
		return append(dst, n)
	}
	for _, k := range n.kids {
		dst = k.leaves(dst)
	}
	return dst
}

// fieldsOf is the union of the fields of n's leaves.
func (n *node) fieldsOf() fieldSet {
	var f fieldSet
	for _, l := range n.leaves(nil) {
		f |= l.fields
	}
	return f
}

// Query is a parsed topic query.
type Query struct {
	root *node
}

// String returns the query in canonical form: explicit operators, nested
// groups in parentheses, field scopes written on each term. Parsing it again
// yields the same query.
func (q *Query) String() string {
	var b strings.Builder
	q.root.write(&b, true)
	return b.String()
}

func (n *node) write(b *strings.Builder, top bool) {
	switch n.op {
	case opTerm, opPrefix, opPhrase:
		n.writeLeaf(b)
	case opNot:
		b.WriteString("NOT ")
		n.kids[0].write(b, false)
	default:
		sep := " AND "
		switch n.op {
		case opOr:
			sep = " OR "
		case opNear:
			sep = " NEAR/" + strconv.Itoa(n.dist) + " "
		}
		if !top {
			b.WriteByte('(')
		}
		for i, k := range n.kids {
			if i > 0 {
				b.WriteString(sep)
			}
			k.write(b, false)
		}
		if !top {
			b.WriteByte(')')
		}
	}
}

func (n *node) writeLeaf(b *strings.Builder) {
	if n.fields != fDefault {
		for i, name := range fieldNames {
			if n.fields == 1<<i {
				b.WriteString(name)
				b.WriteByte(':')
			}
		}
	}
	switch {
	case n.op == opPhrase || n.op == opTerm && isKeyword(n.text):
		b.WriteByte('"')
		b.WriteString(n.text)
		b.WriteByte('"')
	default:
		b.WriteString(n.text)
	}
}

// isKeyword reports whether a bare word would be read as an operator.
func isKeyword(w string) bool {
	return w == "AND" || w == "OR" || w == "NOT" || w == "NEAR"
}
