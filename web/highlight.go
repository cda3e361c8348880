package web

import (
	"html/template"
	"strings"
	"unicode/utf8"

	"github.com/newswatch/newswatch/topics"
)

// marker knows the words of matched query terms, folded as the matcher folds them.
type marker struct {
	words    map[string]bool
	prefixes []string
}

func markerOf(terms []topics.MatchedTerm) marker {
	m := marker{words: map[string]bool{}}
	for _, t := range terms {
		if t.Field == "tag" {
			continue // a feed's tag, not a word of the text
		}
		if p, ok := strings.CutSuffix(t.Term, "*"); ok {
			m.prefixes = append(m.prefixes, topics.Fold(p))
			continue
		}
		for _, w := range topics.Tokenize(t.Term) {
			m.words[w] = true
		}
	}
	return m
}

func (m marker) marks(tok string) bool {
	f := topics.Fold(tok)
	if m.words[f] {
		return true
	}
	for _, p := range m.prefixes {
		if strings.HasPrefix(f, p) {
			return true
		}
	}
	return false
}

// highlight escapes text and wraps the words of the matched terms in <mark>.
func highlight(text string, terms []topics.MatchedTerm) template.HTML {
	if len(terms) == 0 {
		return template.HTML(template.HTMLEscapeString(text))
	}
	m := markerOf(terms)
	var b strings.Builder
	pos, scan := 0, 0 // written up to pos; tokens found up to scan
	for raw := range topics.RawTokens(text) {
		// Between scan and the token there are only non-word characters, so the first
		// occurrence of the token from scan is the token itself.
		at := scan + strings.Index(text[scan:], raw)
		scan = at + len(raw)
		if !m.marks(raw) {
			continue
		}
		b.WriteString(template.HTMLEscapeString(text[pos:at]))
		b.WriteString("<mark>")
		b.WriteString(template.HTMLEscapeString(raw))
		b.WriteString("</mark>")
		pos = at + len(raw)
	}
	b.WriteString(template.HTMLEscapeString(text[pos:]))
	return template.HTML(b.String())
}

// clip cuts s to at most n bytes at a rune boundary, with an ellipsis when cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
