package normalize

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
)

// markup writes the text of an HTML fragment as tokenText would, for text, character
// references, comments, start and end tags: the html package's tokenizer reads and copies a
// fragment a byte at a time, and in a cold ingest it was an eighth of the daemon's CPU. At the
// first token of another kind (a doctype, a processing instruction, a "</" that starts no end
// tag) or of an element whose content the tokenizer reads as raw text (script, style, title,
// textarea, ...), markup stops and reports false with the index where that token starts,
// having written the text before it; the caller reads the rest with tokenText. Between two
// tokens outside a raw text element the tokenizer holds no state, so the two halves give what
// tokenText gives on the whole: TestMarkupIsTokenText and FuzzMarkup hold markup to that.
func (t *textBuf) markup(s string) (int, bool) {
	b := []byte(s) // one copy, for writeBytes: each text token's own would cost more
	text := 0      // start of the pending text token
	for i := 0; ; {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 || i+j+1 >= len(s) {
			t.writeHTMLText(b[text:]) // a '<' that ends the fragment is text
			return len(s), true
		}
		lt := i + j
		c := s[lt+1]
		switch {
		case isASCIILetter(c):
		case c == '/' && lt+2 < len(s) && isASCIILetter(s[lt+2]):
		case c == '/' && lt+2 == len(s):
			t.writeHTMLText(b[text:]) // "</" at the end is text
			return len(s), true
		case c == '!' && strings.HasPrefix(s[lt:], "<!--"):
			// A comment: WordPress marks its blocks with them. Text keeps none of it.
			t.writeHTMLText(b[text:lt])
			i = commentEnd(s, lt+len("<!--"))
			text = i
			continue
		case c == '/' || c == '!' || c == '?':
			t.writeHTMLText(b[text:lt])
			return lt, false
		default:
			i = lt + 1 // a '<' that starts no tag is text
			continue
		}
		t.writeHTMLText(b[text:lt])
		nameStart := lt + 1
		if c == '/' {
			nameStart++
		}
		nameEnd := tagNameEnd(s, nameStart)
		end, ok := tagEnd(s, nameEnd)
		if !ok {
			return len(s), true // the tokenizer drops a tag cut off by the end, and stops
		}
		if c != '/' && rawTextElement(s[nameStart:nameEnd]) {
			return lt, false
		}
		if separates(tagAtom(b[lt : end+1])) {
			t.space = true
		}
		i, text = end+1, end+1
	}
}

// writeHTMLText writes a text token with its character references decoded, as the
// tokenizer's Text gives it.
func (t *textBuf) writeHTMLText(p []byte) {
	if bytes.IndexByte(p, '&') >= 0 {
		p = []byte(html.UnescapeString(string(p)))
	}
	t.writeBytes(p)
}

// tagNameEnd returns the end of the tag name that starts at s[from].
func tagNameEnd(s string, from int) int {
	i := from
	for i < len(s) && !tagSpace(s[i]) && s[i] != '/' && s[i] != '>' {
		i++
	}
	return i
}

// tagEnd returns the index of the '>' that ends the tag whose name ends at s[i], reading its
// attributes as the tokenizer does (keys, '=', quoted or unquoted values), and false when the
// fragment ends first.
func tagEnd(s string, i int) (int, bool) {
	for {
		i = skipTagSpace(s, i)
		if i >= len(s) {
			return 0, false
		}
		if s[i] == '>' {
			return i, true
		}
		k := i
		if s[k] == '=' { // an '=' that starts a key belongs to it
			k++
		}
		for k < len(s) && !tagSpace(s[k]) && s[k] != '/' && s[k] != '>' && s[k] != '=' {
			k++
		}
		if i = attrValueEnd(s, k); i < 0 {
			return 0, false
		}
	}
}

// attrValueEnd returns where reading goes on after an attribute key that ends at s[i]: past a
// '/', or past '=' and a value; -1 when the fragment ends inside a quoted value.
func attrValueEnd(s string, i int) int {
	i = skipTagSpace(s, i)
	if i >= len(s) {
		return len(s)
	}
	switch s[i] {
	case '/':
		return i + 1
	case '=':
	default:
		return i
	}
	i = skipTagSpace(s, i+1)
	if i >= len(s) {
		return len(s)
	}
	switch q := s[i]; q {
	case '>':
		return i
	case '"', '\'':
		k := strings.IndexByte(s[i+1:], q)
		if k < 0 {
			return -1
		}
		return i + 1 + k + 1
	}
	for i < len(s) && !tagSpace(s[i]) && s[i] != '>' {
		i++
	}
	if i < len(s) && s[i] != '>' {
		i++ // the white space that ends an unquoted value
	}
	return i
}

func tagSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' }

func skipTagSpace(s string, i int) int {
	for i < len(s) && tagSpace(s[i]) {
		i++
	}
	return i
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// rawTextElement reports the elements whose content the tokenizer reads as raw text.
func rawTextElement(name string) bool {
	if len(name) < 3 || len(name) > 9 {
		return false
	}
	switch strings.ToLower(name) {
	case "iframe", "noembed", "noframes", "noscript", "plaintext", "script", "style", "textarea", "title", "xmp":
		return true
	}
	return false
}

// commentEnd returns the index just past the comment whose text starts at s[i] (after "<!--"),
// where the tokenizer ends it: at "-->" (or "<!-->", "<!--->" when empty), at "--!>", or at
// the end of the fragment.
func commentEnd(s string, i int) int {
	dashes, beginning := 0, true
	for i < len(s) {
		c := s[i]
		i++
		switch c {
		case '-':
			dashes++
			continue
		case '>':
			if dashes >= 2 || beginning {
				return i
			}
		case '!':
			if dashes >= 2 {
				if i >= len(s) {
					return i
				}
				c = s[i]
				i++
				if c == '>' {
					return i
				}
				if c == '-' {
					dashes, beginning = 1, false
					continue
				}
			}
		}
		dashes, beginning = 0, false
	}
	return i
}
