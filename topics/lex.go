package topics

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind is the kind of a lexical token of the query language.
type tokKind uint8

const (
	tEOF tokKind = iota
	tWord
	tPhrase
	tLParen
	tRParen
	tAnd
	tOr
	tNot
	tNear
	tField
)

// lexeme is one token of a query. col and end are 1-based rune columns: the
// first rune of the token and the rune just after it.
type lexeme struct {
	kind  tokKind
	text  string // word or phrase content, field name, operator as written
	col   int
	end   int
	dist  int      // NEAR/n
	field fieldSet // tField
}

// maxNear bounds NEAR/n so that a typo cannot ask for a whole-document window.
const maxNear = 1000

// phraseClose maps each opening quote to the quotes that may close it. Curly
// and angle quotes are accepted because queries are often pasted from
// documents (“North Korea”, «Северная Корея»).
var phraseClose = map[rune]string{
	'"': `"`,
	'“': `”"`,
	'«': `»"`,
}

// lexer turns a query into lexemes, tracking rune columns for errors.
type lexer struct {
	src string
	pos int // byte offset
	col int // rune column of pos, 1-based
	out []lexeme
}

func lex(src string) ([]lexeme, error) {
	l := &lexer{src: src, col: 1}
	afterField := false
	for {
		l.skipSpace()
		if l.pos >= len(l.src) {
			l.out = append(l.out, lexeme{kind: tEOF, col: l.col, end: l.col})
			return l.out, nil
		}
		r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
		var err error
		switch {
		case r == '(' || r == ')':
			kind := tLParen
			if r == ')' {
				kind = tRParen
			}
			l.emit(kind, string(r), 1)
		case phraseClose[r] != "":
			err = l.phrase(r)
		default:
			err = l.word(afterField)
		}
		if err != nil {
			return nil, err
		}
		afterField = l.out[len(l.out)-1].kind == tField
	}
}

func (l *lexer) skipSpace() {
	for l.pos < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[l.pos:])
		if !unicode.IsSpace(r) {
			return
		}
		l.pos += n
		l.col++
	}
}

// emit appends a lexeme spanning the next n bytes (runes counted) and advances.
func (l *lexer) emit(kind tokKind, text string, n int) *lexeme {
	runes := utf8.RuneCountInString(l.src[l.pos : l.pos+n])
	l.out = append(l.out, lexeme{kind: kind, text: text, col: l.col, end: l.col + runes})
	l.pos += n
	l.col += runes
	return &l.out[len(l.out)-1]
}

func (l *lexer) phrase(open rune) error {
	closers := phraseClose[open]
	body := l.src[l.pos+utf8.RuneLen(open):]
	i := strings.IndexFunc(body, func(r rune) bool { return strings.ContainsRune(closers, r) })
	if i < 0 {
		return &SyntaxError{Col: l.col, Msg: "unterminated phrase"}
	}
	_, cn := utf8.DecodeRuneInString(body[i:])
	l.emit(tPhrase, body[:i], utf8.RuneLen(open)+i+cn)
	return nil
}

// wordEnd reports whether r ends a bare word.
func wordEnd(r rune) bool {
	return unicode.IsSpace(r) || r == '(' || r == ')' || phraseClose[r] != ""
}

func (l *lexer) word(afterField bool) error {
	n := strings.IndexFunc(l.src[l.pos:], wordEnd)
	if n < 0 {
		n = len(l.src) - l.pos
	}
	w := l.src[l.pos : l.pos+n]
	if !afterField {
		if name, ok := fieldPrefix(w); ok {
			f, known := fieldByName[name]
			if !known {
				return &SyntaxError{Col: l.col, Msg: `unknown field "` + name + `" (fields: ` + fieldList + `)`}
			}
			l.emit(tField, name, len(name)+1).field = f
			return nil
		}
	}
	switch {
	case w == "AND":
		l.emit(tAnd, w, n)
	case w == "OR":
		l.emit(tOr, w, n)
	case w == "NOT":
		l.emit(tNot, w, n)
	case w == "NEAR" || strings.HasPrefix(w, "NEAR/"):
		d, err := strconv.Atoi(strings.TrimPrefix(w, "NEAR/"))
		if err != nil || w == "NEAR" || strings.ContainsAny(w[5:], "+-") {
			return &SyntaxError{Col: l.col, Msg: "NEAR needs a distance: NEAR/3"}
		}
		if d < 1 || d > maxNear {
			return &SyntaxError{Col: l.col, Msg: "NEAR distance must be between 1 and " + strconv.Itoa(maxNear)}
		}
		l.emit(tNear, w, n).dist = d
	default:
		l.emit(tWord, w, n)
	}
	return nil
}

// fieldPrefix returns the name in a word of the form name:... where name is
// ASCII letters only. Other colons (12:30, a:b:c after a field) are text.
func fieldPrefix(w string) (string, bool) {
	i := 0
	for i < len(w) && ('a' <= w[i] && w[i] <= 'z' || 'A' <= w[i] && w[i] <= 'Z') {
		i++
	}
	if i == 0 || i >= len(w) || w[i] != ':' {
		return "", false
	}
	return w[:i], true
}
