package topics

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"
)

// SyntaxError is a malformed query: Col is the 1-based column, counted in
// runes, where the problem was found, and Msg says what was expected there.
type SyntaxError struct {
	Col int
	Msg string
}

// Error returns "column N: message".
func (e *SyntaxError) Error() string { return fmt.Sprintf("column %d: %s", e.Col, e.Msg) }

// Version returns a short, stable hash of a query's text (the first 12 hex
// digits of its SHA-256, ignoring leading and trailing white space). Match
// events carry it so that a changed query yields new, distinguishable facts.
func Version(query string) string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(query)))
	return hex.EncodeToString(sum[:6])
}

// maxDepth bounds nesting of parentheses and NOT so that hostile input cannot
// exhaust the stack.
const maxDepth = 100

// MaxQueryBytes and MaxQueryTerms bound a query's size: its text in bytes and its terms,
// phrases and prefixes. Parsing and compiling are linear in the query's size; the limits keep
// one topic from making every article's match slow. Real queries are far smaller.
const (
	MaxQueryBytes = 1 << 20
	MaxQueryTerms = 100_000
)

// Parse parses a query. A malformed or oversized query returns a *SyntaxError.
func Parse(query string) (*Query, error) {
	if len(query) > MaxQueryBytes {
		return nil, &SyntaxError{Col: 1, Msg: fmt.Sprintf("query too long: %d bytes, at most %d", len(query), MaxQueryBytes)}
	}
	toks, err := lex(query)
	if err != nil {
		return nil, err
	}
	if terms := countTerms(toks); terms > MaxQueryTerms {
		return nil, &SyntaxError{Col: 1, Msg: fmt.Sprintf("query too large: %d terms, at most %d; split it into several topics", terms, MaxQueryTerms)}
	}
	if toks[0].kind == tEOF {
		return nil, &SyntaxError{Col: 1, Msg: "empty query"}
	}
	p := &parser{toks: toks}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, &SyntaxError{Col: t.col, Msg: `unexpected ")"`}
	}
	return &Query{root: root}, nil
}

// countTerms counts the words and phrases among the lexemes.
func countTerms(toks []lexeme) int {
	n := 0
	for _, t := range toks {
		if t.kind == tWord || t.kind == tPhrase {
			n++
		}
	}
	return n
}

type parser struct {
	toks  []lexeme
	i     int
	depth int
	scope fieldSet // set inside field:(...)
	named string   // the name of scope
}

func (p *parser) peek() lexeme { return p.toks[p.i] }

func (p *parser) next() lexeme {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// startsOperand reports whether t can begin a term, group or NOT.
func startsOperand(t lexeme) bool {
	switch t.kind {
	case tWord, tPhrase, tLParen, tNot, tField:
		return true
	}
	return false
}

// need checks that an operand follows the operator op.
func (p *parser) need(op lexeme) error {
	if t := p.peek(); !startsOperand(t) {
		return &SyntaxError{Col: t.col, Msg: `expected term or "(" after ` + op.text}
	}
	return nil
}

func (p *parser) or() (*node, error) {
	left, err := p.and()
	for err == nil && p.peek().kind == tOr {
		opTok := p.next()
		if err = p.need(opTok); err != nil {
			break
		}
		var right *node
		if right, err = p.and(); err == nil {
			left = join(opOr, left, right)
		}
	}
	return left, err
}

func (p *parser) and() (*node, error) {
	left, err := p.near()
	for err == nil {
		t := p.peek()
		if t.kind == tAnd {
			p.next()
			if err = p.need(t); err != nil {
				break
			}
		} else if !startsOperand(t) {
			break
		}
		var right *node
		if right, err = p.near(); err == nil {
			left = join(opAnd, left, right)
		}
	}
	return left, err
}

func (p *parser) near() (*node, error) {
	leftCol := p.peek().col
	left, err := p.unary()
	for err == nil && p.peek().kind == tNear {
		opTok := p.next()
		if left.op == opNear {
			return nil, &SyntaxError{Col: opTok.col, Msg: "NEAR cannot be chained; combine pairs with AND: (a NEAR/3 b) AND (b NEAR/3 c)"}
		}
		if !left.positional() {
			return nil, errNearOperand(leftCol)
		}
		if err = p.need(opTok); err != nil {
			break
		}
		rightCol := p.peek().col
		var right *node
		if right, err = p.unary(); err != nil {
			break
		}
		if !right.positional() {
			return nil, errNearOperand(rightCol)
		}
		if (left.fieldsOf()|right.fieldsOf())&fTag != 0 {
			return nil, &SyntaxError{Col: opTok.col, Msg: "tag: cannot be an operand of NEAR: a feed's tags have no positions"}
		}
		if left.fieldsOf()&right.fieldsOf() == 0 {
			return nil, &SyntaxError{Col: opTok.col, Msg: "NEAR operands never share a field, so they can never be near"}
		}
		left = &node{op: opNear, dist: opTok.dist, kids: []*node{left, right}}
	}
	return left, err
}

func errNearOperand(col int) error {
	return &SyntaxError{Col: col, Msg: "NEAR operands must be terms, prefixes, phrases or (x OR y) groups"}
}

func (p *parser) unary() (*node, error) {
	if p.peek().kind != tNot {
		return p.primary()
	}
	opTok := p.next()
	if err := p.need(opTok); err != nil {
		return nil, err
	}
	if p.depth++; p.depth > maxDepth {
		return nil, &SyntaxError{Col: opTok.col, Msg: fmt.Sprintf("query nested too deeply (at most %d levels)", maxDepth)}
	}
	kid, err := p.unary()
	p.depth--
	if err != nil {
		return nil, err
	}
	return &node{op: opNot, kids: []*node{kid}}, nil
}

func (p *parser) primary() (*node, error) {
	t := p.next()
	switch t.kind {
	case tWord:
		return p.word(t)
	case tPhrase:
		return p.phrase(t)
	case tLParen:
		return p.group(t)
	case tField:
		return p.field(t)
	case tRParen:
		return nil, &SyntaxError{Col: t.col, Msg: `unexpected ")"`}
	}
	if t.kind == tEOF {
		return nil, &SyntaxError{Col: t.col, Msg: `expected term or "("`}
	}
	return nil, &SyntaxError{Col: t.col, Msg: `expected term or "(" before ` + t.text}
}

func (p *parser) group(open lexeme) (*node, error) {
	if p.peek().kind == tRParen {
		return nil, &SyntaxError{Col: open.col, Msg: "empty parentheses"}
	}
	if t := p.peek(); !startsOperand(t) {
		return nil, &SyntaxError{Col: t.col, Msg: `expected term or "(" after "("`}
	}
	if p.depth++; p.depth > maxDepth {
		return nil, &SyntaxError{Col: open.col, Msg: fmt.Sprintf("query nested too deeply (at most %d levels)", maxDepth)}
	}
	n, err := p.or()
	p.depth--
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tRParen {
		return nil, &SyntaxError{Col: open.col, Msg: `unclosed "("`}
	}
	p.next()
	return n, nil
}

func (p *parser) field(f lexeme) (*node, error) {
	t := p.peek()
	if t.col != f.end || (t.kind != tWord && t.kind != tPhrase && t.kind != tLParen) {
		return nil, &SyntaxError{Col: f.end, Msg: `expected term, phrase or "(" after ` + f.text + ":"}
	}
	if p.scope != 0 && p.scope != f.field {
		return nil, &SyntaxError{Col: f.col, Msg: fmt.Sprintf("field %s: inside %s:(...); a group has one field", f.text, p.named)}
	}
	outer, named := p.scope, p.named
	p.scope, p.named = f.field, f.text
	n, err := p.primary()
	p.scope, p.named = outer, named
	return n, err
}

func (p *parser) fields() fieldSet {
	if p.scope != 0 {
		return p.scope
	}
	return fDefault
}

func (p *parser) word(t lexeme) (*node, error) {
	w := t.text
	if p.scope == fTag {
		return tagLeaf(t)
	}
	star := strings.IndexByte(w, '*')
	if star < 0 {
		raw, folded := splitWords(w)
		if len(folded) == 0 {
			return nil, &SyntaxError{Col: t.col, Msg: fmt.Sprintf("expected a term: %q has no letters or digits", w)}
		}
		return p.leaf(raw, folded), nil
	}
	starCol := t.col + utf8.RuneCountInString(w[:star])
	if star != len(w)-1 {
		return nil, &SyntaxError{Col: starCol, Msg: `"*" is only allowed at the end of a word (prefix: korea*)`}
	}
	raw, folded := splitWords(w[:star])
	switch len(folded) {
	case 0:
		return nil, &SyntaxError{Col: starCol, Msg: `"*" needs a word before it (prefix: korea*)`}
	case 1:
		return &node{op: opPrefix, fields: p.fields(), words: folded, text: raw[0] + "*"}, nil
	}
	return nil, &SyntaxError{Col: t.col, Msg: fmt.Sprintf("a prefix must be a single word, %q is several", w)}
}

func (p *parser) phrase(t lexeme) (*node, error) {
	if p.scope == fTag {
		return tagLeaf(t)
	}
	raw, folded := splitWords(t.text)
	if len(folded) == 0 {
		return nil, &SyntaxError{Col: t.col, Msg: "empty phrase"}
	}
	return p.leaf(raw, folded), nil
}

// MaxTagLen is the longest tag, as for feed tags in the config file and the API.
const MaxTagLen = 64

// ValidTag reports whether s is a well-formed feed tag: 1 to MaxTagLen characters from a-z,
// 0-9 and -. Feed tags are checked by the same rule wherever they come from.
func ValidTag(s string) bool {
	if s == "" || len(s) > MaxTagLen {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// tagLeaf is the term of tag:NAME: the tag as one whole token, compared exactly with the
// tags of the article's feed.
func tagLeaf(t lexeme) (*node, error) {
	if strings.HasSuffix(t.text, "*") && t.kind == tWord {
		return nil, &SyntaxError{Col: t.col, Msg: fmt.Sprintf("tag: takes a whole tag, not a prefix: %q", t.text)}
	}
	if !ValidTag(t.text) {
		return nil, &SyntaxError{Col: t.col, Msg: fmt.Sprintf("invalid tag %q: use 1 to %d characters from a-z, 0-9 and -", t.text, MaxTagLen)}
	}
	return &node{op: opTerm, fields: fTag, words: []string{t.text}, text: t.text}, nil
}

// leaf builds a term (one token) or a phrase (several).
func (p *parser) leaf(raw, folded []string) *node {
	n := &node{op: opTerm, fields: p.fields(), words: folded, text: strings.Join(raw, " ")}
	if len(folded) > 1 {
		n.op = opPhrase
	}
	return n
}

// splitWords returns the tokens of s as written and folded, leaving out any
// token that folds to nothing.
func splitWords(s string) (raw, folded []string) {
	var f folder
	for r := range RawTokens(s) {
		w := string(f.appendToken(nil, r))
		if w != "" {
			raw = append(raw, r)
			folded = append(folded, w)
		}
	}
	return raw, folded
}

// join combines two nodes with AND or OR, flattening nested nodes of the same
// operator. It appends to a when a already is such a node (the parser's left
// operand, built in this parse and referenced nowhere else), so that a query
// of n terms joins in O(n), not O(n²).
func join(o op, a, b *node) *node {
	n := a
	if a.op != o {
		n = &node{op: o, kids: []*node{a}}
	}
	if b.op == o {
		n.kids = append(n.kids, b.kids...)
	} else {
		n.kids = append(n.kids, b)
	}
	return n
}
