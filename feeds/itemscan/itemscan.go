// Package itemscan finds the items of an RSS or Atom document by scanning its bytes, without
// parsing them, so that a poll can tell the items it saw last time from the new ones and parse
// only those. It is pure: bytes in, values out.
//
// The scan (package xmlscan) knows just enough XML to be safe: it skips comments, CDATA sections
// and processing instructions, matches <item>/<entry> (with or without a namespace prefix) and their end
// tags, and gives up (ok false) on anything it cannot place, such as nested items, an item that
// never ends or a document that is not ASCII-compatible (UTF-16, UTF-32). A caller that gets
// ok false parses the whole document as before.
package itemscan

import (
	"hash/maphash"

	"github.com/newswatch/newswatch/feeds/xmlscan"
)

// Span is one item element: doc[Start:End] runs from its start tag through its end tag.
type Span struct{ Start, End int }

// Items returns the spans of the document's item elements in document order. ok is false
// when the document has no items or cannot be split safely.
func Items(doc []byte) (spans []Span, ok bool) {
	if len(doc) >= 2 && (doc[0] == 0 || doc[1] == 0 || doc[0] == 0xFE || doc[0] == 0xFF) {
		return nil, false // UTF-16/32: tags are not plain ASCII bytes
	}
	open := -1
	for i := 0; ; {
		t, more := xmlscan.Next(doc, i)
		if !more {
			break
		}
		if t.Unterminated {
			return nil, false
		}
		i = t.End
		if t.Kind != xmlscan.StartTag && t.Kind != xmlscan.EndTag || !isItem(t.Name) {
			continue
		}
		switch closing := t.Kind == xmlscan.EndTag; {
		case closing && open < 0, !closing && open >= 0:
			return nil, false
		case closing:
			spans = append(spans, Span{open, t.End})
			open = -1
		case t.Empty: // <item/>
			spans = append(spans, Span{t.Start, t.End})
		default:
			open = t.Start
		}
	}
	if open >= 0 || len(spans) == 0 {
		return nil, false
	}
	return spans, true
}

func isItem(name []byte) bool {
	return string(name) == "item" || string(name) == "entry"
}

// Hasher hashes items and documents for comparison within one process. Hashes are not stable
// across processes; a restart simply parses every document once in full.
type Hasher struct{ seed maphash.Seed }

// NewHasher returns a Hasher with a random seed.
func NewHasher() Hasher { return Hasher{seed: maphash.MakeSeed()} }

// Sum hashes b.
func (h Hasher) Sum(b []byte) uint64 { return maphash.Bytes(h.seed, b) }

// Without returns doc with the spans for which drop is true cut out, and how many were cut.
// What lies between and around items (the channel's own elements, namespaces) stays, so the
// result is a document of the same feed with fewer items.
func Without(doc []byte, spans []Span, drop func(i int) bool) ([]byte, int) {
	size := len(doc)
	for i, s := range spans {
		if drop(i) {
			size -= s.End - s.Start
		}
	}
	if size == len(doc) {
		return doc, 0
	}
	out := make([]byte, 0, size)
	last, cut := 0, 0
	for i, s := range spans {
		if !drop(i) {
			continue
		}
		out = append(out, doc[last:s.Start]...)
		last = s.End
		cut++
	}
	return append(out, doc[last:]...), cut
}
