package parse

import (
	"bytes"
	"strconv"
	"strings"
	"unicode"

	"github.com/newswatch/newswatch/feeds/xmlscan"
)

// Lifting CDATA. Most of a news feed's bytes are its items' bodies, and most feeds send them
// as CDATA sections in <description> and <content:encoded>. gofeed's XML decoder reads every
// byte of a text one at a time into a buffer, then copies it once or twice more: on
// 20-item documents of 22 KB items, that was most of what gofeed cost. Yet the value of a
// CDATA section is its bytes as written. So before gofeed runs, Parse lifts the large CDATA
// sections of those two elements out of the document, leaving a short placeholder in each,
// and puts the bytes back into the fields the placeholders come out in. The result is the one
// gofeed gives on the whole document (TestLiftedParseIsTheSame holds every test feed to it);
// where it could differ, Parse parses the whole document instead.

// minLift is the smallest CDATA section worth lifting: below it, gofeed's cost is the
// element around the text, not the text.
const minLift = 256

// Placeholders are placeholderOpen, the section's index in decimal, placeholderClose: private
// use characters, so that nothing gofeed does to text (trim, decode entities) changes them.
const (
	placeholderOpen  = "\uE000"
	placeholderClose = "\uE001"
)

// liftElements are the local names of the elements whose CDATA is lifted: their text is an
// item's summary or body, which convertFeed takes as gofeed gives it.
var liftElements = []string{"description", "encoded"}

// lifted is a document with CDATA sections taken out, and the sections' bytes by index
// (slices of the original document).
type lifted struct {
	doc      []byte
	sections [][]byte
}

// liftCDATA returns doc with the CDATA sections of at least minSize bytes of description and
// content:encoded elements replaced by placeholders; ok is false, and doc is to be parsed as it is, when
// there is nothing to lift or the document is of a shape liftCDATA does not read the way an
// XML parser does (a DOCTYPE with an internal subset, a placeholder character of its own).
func liftCDATA(doc []byte, minSize int) (l lifted, ok bool) {
	if bytes.Contains(doc, []byte(placeholderOpen)) || bytes.Contains(doc, []byte(placeholderClose)) {
		return lifted{}, false
	}
	spans, ok := liftSpans(doc, minSize)
	if !ok || len(spans) == 0 {
		return lifted{}, false
	}
	size := len(doc)
	for _, sp := range spans {
		size += len(placeholderOpen) + 20 + len(placeholderClose) - (sp[1] - sp[0])
	}
	out := make([]byte, 0, size)
	copied := 0 // doc[:copied] is in out
	l.sections = make([][]byte, len(spans))
	for n, sp := range spans {
		out = append(out, doc[copied:sp[0]]...)
		out = append(out, placeholderOpen...)
		out = strconv.AppendInt(out, int64(n), 10)
		out = append(out, placeholderClose...)
		copied = sp[1]
		l.sections[n] = doc[sp[0]:sp[1]]
	}
	l.doc = append(out, doc[copied:]...)
	return l, true
}

// liftSpans returns the byte ranges of doc that liftCDATA lifts; false when it lifts none
// because of the document's shape.
func liftSpans(doc []byte, minSize int) ([][2]int, bool) {
	var spans [][2]int
	var parent []byte // local name of the element last opened
	for i := 0; ; {
		t, more := xmlscan.Next(doc, i)
		if !more {
			break
		}
		i = t.End
		switch t.Kind {
		case xmlscan.CDATA:
			if t.Unterminated {
				return nil, false // leave the fault to the parser
			}
			text := t.Text(doc)
			if from, to := liftSpan(parent, text, minSize); from < to {
				start := t.Start + len("<![CDATA[")
				spans = append(spans, [2]int{start + from, start + to})
			}
		case xmlscan.Decl:
			if bytes.IndexByte(doc[t.Start:t.End], '[') >= 0 {
				return nil, false // an internal subset may declare anything
			}
		case xmlscan.EndTag:
			parent = nil
		case xmlscan.StartTag:
			parent = t.Name
			if t.Empty {
				parent = nil
			}
		}
	}
	return spans, true
}

// liftSpan returns the part of a CDATA section's text, in an element of the given local
// name, that is lifted: the text without its leading and trailing white space, which stays in
// the document (gofeed trims an extension element's text, and would trim into a placeholder
// that took it). The span is empty when nothing is lifted: the element is not one of
// liftElements, the span is shorter than minSize, or it holds a carriage return (an XML
// parser makes "\r\n" a "\n" in some of gofeed's paths and not in others).
func liftSpan(parent, text []byte, minSize int) (from, to int) {
	if len(text) < minSize || !isLiftElement(parent) {
		return 0, 0
	}
	inner := bytes.TrimRightFunc(bytes.TrimLeftFunc(text, unicode.IsSpace), unicode.IsSpace)
	if len(inner) < minSize || bytes.IndexByte(inner, '\r') >= 0 {
		return 0, 0
	}
	from = len(text) - len(bytes.TrimLeftFunc(text, unicode.IsSpace))
	return from, from + len(inner)
}

func isLiftElement(local []byte) bool {
	for _, n := range liftElements {
		if bytes.EqualFold(local, []byte(n)) {
			return true
		}
	}
	return false
}

// nextPlaceholder finds the first placeholder in s: s[i:end] is placeholderOpen, a number and
// placeholderClose, and n is the section the number names. ok is false when there is no
// placeholder opening in s; n is -1 when the one found is broken (no close, not a number of
// one of l's sections).
func (l lifted) nextPlaceholder(s string) (i, end, n int, ok bool) {
	i = strings.Index(s, placeholderOpen)
	if i < 0 {
		return 0, 0, 0, false
	}
	rest := s[i+len(placeholderOpen):]
	j := strings.Index(rest, placeholderClose)
	if j < 0 {
		return i, len(s), -1, true
	}
	end = i + len(placeholderOpen) + j + len(placeholderClose)
	if k, err := strconv.Atoi(rest[:j]); err == nil && k >= 0 && k < len(l.sections) {
		return i, end, k, true
	}
	return i, end, -1, true
}

// restore returns s with every placeholder replaced by its section's bytes, and false when s
// holds a placeholder character that is no whole placeholder of this document.
func (l lifted) restore(s string) (string, bool) {
	if !strings.Contains(s, placeholderOpen) {
		if strings.Contains(s, placeholderClose) {
			return "", false
		}
		return s, true
	}
	size := len(s) // one allocation: the restored length
	for t := s; ; {
		_, end, n, ok := l.nextPlaceholder(t)
		if !ok || n < 0 {
			break
		}
		size += len(l.sections[n])
		t = t[end:]
	}
	var b strings.Builder
	b.Grow(size)
	for {
		i, end, n, ok := l.nextPlaceholder(s)
		if !ok {
			break
		}
		if n < 0 {
			return "", false
		}
		b.WriteString(s[:i])
		b.Write(l.sections[n])
		s = s[end:]
	}
	if strings.Contains(s, placeholderClose) {
		return "", false
	}
	b.WriteString(s)
	return b.String(), true
}

// restoreFeed puts the lifted sections back into the items' titles, summaries and contents,
// the only fields a lifted element's text reaches. It reports false when a placeholder
// character is left anywhere else in f (or is broken): f must then be parsed again whole.
func (l lifted) restoreFeed(f *Feed) bool {
	for i := range f.Items {
		it := &f.Items[i]
		for _, s := range []*string{&it.Title, &it.Summary, &it.Content} {
			r, ok := l.restore(*s)
			if !ok {
				return false
			}
			*s = r
		}
		if !placeholderFree(it.GUID, it.Link, it.Language) || !placeholderFree(it.Authors...) || !placeholderFree(it.Categories...) {
			return false
		}
	}
	return placeholderFree(f.Title, f.Link, f.Language)
}

func placeholderFree(ss ...string) bool {
	for _, s := range ss {
		if strings.Contains(s, placeholderOpen) || strings.Contains(s, placeholderClose) {
			return false
		}
	}
	return true
}
