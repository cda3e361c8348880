package normalize

import (
	"encoding/binary"
	"math/bits"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/text/encoding/charmap"
)

// cdataMarkers are removed before tokenizing: feeds that escape a CDATA section end up with
// literal markers around HTML, and the HTML tokenizer would read "<![CDATA[" as a comment that
// swallows text up to the next ">".
var cdataMarkers = strings.NewReplacer("<![CDATA[", "", "]]>", "")

// Text returns the plain text of an HTML fragment, for matching and display: tags removed
// (block elements and <br> separate words, inline elements do not), the content of script,
// style, noscript and iframe dropped, entities decoded once (so "&amp;amp;" gives "&amp;"),
// CDATA markers dropped, every run of Unicode white space (including no-break spaces)
// collapsed to one space, and the result trimmed. C1 control characters, which only occur as
// mangled windows-1252 punctuation (&#146;), become that punctuation, as in browsers. Text
// that is no HTML comes back unchanged but for white space; a "<" that starts no tag, as in
// "a < b", stays. Invalid UTF-8 becomes U+FFFD.
func Text(s string) string {
	if !strings.ContainsAny(s, "<&") {
		if !needsCollapse(s) {
			return s
		}
		t := getTextBuf()
		defer t.release()
		t.writeString(s)
		return t.string()
	}
	if strings.Contains(s, "<![CDATA[") {
		s = cdataMarkers.Replace(s)
	}
	t := getTextBuf()
	defer t.release()
	at, done := t.markup(s)
	if done {
		return t.string()
	}
	return tokenText(t, s[at:])
}

// tokenText writes into t the text of any HTML, read with the html package's tokenizer, and
// returns t's text; markup reads the common shapes faster and hands the rest to it.
func tokenText(t *textBuf, s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	skipping := 0
	for {
		switch tt := z.Next(); tt {
		case html.ErrorToken:
			return t.string()
		case html.TextToken:
			if skipping == 0 {
				t.writeBytes(z.Text())
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			a := tagAtom(z.Raw())
			switch {
			case skipped(a) && tt == html.StartTagToken:
				skipping++
			case skipped(a) && tt == html.EndTagToken:
				skipping = max(0, skipping-1)
			case separates(a):
				t.space = true
			}
		}
	}
}

// tagAtom returns the atom of the tag in raw ("<P class=x>", "</p>"), or 0 for names no atom
// has. It reads the raw bytes because Tokenizer.TagName allocates on every call.
func tagAtom(raw []byte) atom.Atom {
	var buf [12]byte // longer than any tag name Text looks for
	i := 1
	if i < len(raw) && raw[i] == '/' {
		i++
	}
	n := 0
	for ; i < len(raw); i++ {
		c := raw[i]
		if c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' {
			break
		}
		if n == len(buf) {
			return 0
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[n] = c
		n++
	}
	return atom.Lookup(buf[:n])
}

// skipped reports elements whose content is not text a reader sees. They are all raw-text
// elements, which the tokenizer always closes, so an unclosed one cannot swallow the rest of
// the document (an unclosed <template> or <svg> could).
func skipped(a atom.Atom) bool {
	switch a {
	case atom.Script, atom.Style, atom.Noscript, atom.Iframe, atom.Noembed, atom.Noframes:
		return true
	}
	return false
}

// separates reports elements that break words apart: block elements, line breaks, cells,
// images and other replaced content.
func separates(a atom.Atom) bool {
	switch a {
	case atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Br, atom.Caption,
		atom.Dd, atom.Details, atom.Dialog, atom.Div, atom.Dl, atom.Dt, atom.Fieldset,
		atom.Figcaption, atom.Figure, atom.Footer, atom.Form, atom.H1, atom.H2, atom.H3, atom.H4,
		atom.H5, atom.H6, atom.Header, atom.Hr, atom.Img, atom.Li, atom.Main, atom.Nav, atom.Ol,
		atom.Option, atom.P, atom.Pre, atom.Section, atom.Summary, atom.Table, atom.Tbody,
		atom.Td, atom.Tfoot, atom.Th, atom.Thead, atom.Title, atom.Tr, atom.Ul, atom.Video,
		atom.Audio, atom.Picture, atom.Body, atom.Html, atom.Wbr:
		return true
	}
	return false
}

// needsCollapse reports whether s has white space other than single ASCII spaces between
// words, C1 controls, or invalid UTF-8.
func needsCollapse(s string) bool {
	prevSpace := true // a leading space needs trimming
	for _, r := range s {
		if r == utf8.RuneError || (r >= 0x80 && r <= 0x9f) {
			return true
		}
		sp := isSpace(r)
		if sp && (r != ' ' || prevSpace) {
			return true
		}
		prevSpace = sp
	}
	return prevSpace && s != ""
}

var asciiSpace = [utf8.RuneSelf]bool{' ': true, '\t': true, '\n': true, '\r': true, '\f': true, '\v': true}

func isSpace(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiSpace[r]
	}
	return unicode.IsSpace(r)
}

// textBuf accumulates text with white space collapsed: a space is written only between two
// non-space runes, so the result is trimmed as well.
type textBuf struct {
	b     []byte
	space bool
}

// textBufs recycles the scratch buffers of Text: every article's title, summary and content
// passes through one, and a buffer sized for each input, copied to the text's size, was a
// tenth of what the daemon allocated per new item.
var textBufs = sync.Pool{New: func() any { return new(textBuf) }}

// maxPooledText is the largest scratch buffer kept for reuse; a hostile item's text does not
// stay in the pool.
const maxPooledText = 256 << 10

func getTextBuf() *textBuf {
	t := textBufs.Get().(*textBuf)
	t.b, t.space = t.b[:0], false
	return t
}

func (t *textBuf) release() {
	if cap(t.b) > maxPooledText {
		t.b = nil
	}
	textBufs.Put(t)
}

// string returns the text in a string of its own size (one allocation), so that an article
// holds the bytes of its text and neither the scratch buffer nor the HTML it came from.
func (t *textBuf) string() string { return string(t.b) }

func (t *textBuf) writeString(s string) {
	for _, r := range s {
		t.writeRune(r)
	}
}

// writeBytes writes p as writeRune would, rune by rune, but copies runs of ASCII words
// separated by single spaces whole: they are most of a text (a word at a time, this loop was
// 8 % of the daemon's CPU in a cold ingest). Invalid UTF-8 yields U+FFFD, a byte at a time,
// as ranging over a string does.
func (t *textBuf) writeBytes(p []byte) {
	for i := 0; i < len(p); {
		c := p[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(p[i:])
			t.writeRune(r)
			i += size
			continue
		}
		if asciiSpace[c] {
			t.space = true
			i++
			continue
		}
		j := asciiRunEnd(p, i+1)
		if t.space && len(t.b) > 0 {
			t.b = append(t.b, ' ')
		}
		t.space = false
		t.b = append(t.b, p[i:j]...)
		i = j
	}
}

// asciiRunEnd returns the end of the run of ASCII text that starts at p[i-1], a byte that is
// no space: the run takes words and the single spaces (' ') between them, so it ends with a
// word, before a non-ASCII byte, a control byte, another kind of white space, or a second
// space in a row.
func asciiRunEnd(p []byte, i int) int {
	for {
		i = asciiWordEnd(p, i)
		if i+1 < len(p) && p[i] == ' ' && p[i+1] > ' ' && p[i+1] < utf8.RuneSelf {
			i += 2
			continue
		}
		return i
	}
}

// asciiWordEnd returns the index of the first byte at or after i that is a space, a control
// byte or not ASCII, or len(p). It tests eight bytes at a time.
func asciiWordEnd(p []byte, i int) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	for ; i+8 <= len(p); i += 8 {
		w := binary.LittleEndian.Uint64(p[i:])
		// The high bit of each byte below 0x21, or of 0x80 and above. A byte below 0x21 can
		// also mark the byte after it (the borrow), never one before: the lowest mark is exact.
		if m := ((w-0x21*ones)&^w | w) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for i < len(p) && p[i] > ' ' && p[i] < utf8.RuneSelf {
		i++
	}
	return i
}

func (t *textBuf) writeRune(r rune) {
	if r < utf8.RuneSelf {
		if asciiSpace[r] {
			t.space = true
			return
		}
	} else if r <= 0x9f {
		// A C1 control is never meant: it is a windows-1252 character that went through a
		// numeric reference (&#146;) or a Latin-1 decoder. Browsers map them the same way.
		r = charmap.Windows1252.DecodeByte(byte(r))
	} else if unicode.IsSpace(r) {
		t.space = true
		return
	}
	if t.space && len(t.b) > 0 {
		t.b = append(t.b, ' ')
	}
	t.space = false
	if r < utf8.RuneSelf {
		t.b = append(t.b, byte(r))
	} else {
		t.b = utf8.AppendRune(t.b, r)
	}
}
