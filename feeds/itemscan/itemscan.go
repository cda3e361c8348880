// Package itemscan finds the items of an RSS or Atom document by scanning its bytes, without
// parsing them, so that a poll can tell the items it saw last time from the new ones and parse
// only those. It is pure: bytes in, values out.
//
// The scan knows just enough XML to be safe: it skips comments, CDATA sections and processing
// instructions, matches <item>/<entry> (with or without a namespace prefix) and their end
// tags, and gives up (ok false) on anything it cannot place, such as nested items, an item that
// never ends or a document that is not ASCII-compatible (UTF-16, UTF-32). A caller that gets
// ok false parses the whole document as before.
package itemscan

import (
	"bytes"
	"hash/maphash"
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
	for i := 0; i < len(doc); {
		j := bytes.IndexByte(doc[i:], '<')
		if j < 0 {
			break
		}
		i += j
		rest := doc[i:]
		switch {
		case bytes.HasPrefix(rest, cdataStart):
			i = skipPast(doc, i, cdataEnd)
		case bytes.HasPrefix(rest, commentStart):
			i = skipPast(doc, i, commentEnd)
		case bytes.HasPrefix(rest, piStart), bytes.HasPrefix(rest, declStart):
			i = skipPast(doc, i, tagEnd)
		default:
			closing, name, end := readTag(doc, i)
			if end < 0 {
				return nil, false
			}
			if isItem(name) {
				switch {
				case closing && open < 0, !closing && open >= 0:
					return nil, false
				case closing:
					spans = append(spans, Span{open, end})
					open = -1
				case doc[end-2] == '/': // <item/>
					spans = append(spans, Span{i, end})
				default:
					open = i
				}
			}
			i = end
		}
		if i < 0 {
			return nil, false
		}
	}
	if open >= 0 || len(spans) == 0 {
		return nil, false
	}
	return spans, true
}

var (
	cdataStart   = []byte("<![CDATA[")
	cdataEnd     = []byte("]]>")
	commentStart = []byte("<!--")
	commentEnd   = []byte("-->")
	piStart      = []byte("<?")
	declStart    = []byte("<!")
	tagEnd       = []byte(">")
)

// skipPast returns the index after the first sep at or after i, or -1 when there is none.
func skipPast(doc []byte, i int, sep []byte) int {
	j := bytes.Index(doc[i:], sep)
	if j < 0 {
		return -1
	}
	return i + j + len(sep)
}

// readTag reads the tag starting at doc[i] == '<': whether it is an end tag, its local name,
// and the index after its '>' (-1 when it never ends). Attribute values may hold '>'.
func readTag(doc []byte, i int) (closing bool, name []byte, end int) {
	k := i + 1
	if k < len(doc) && doc[k] == '/' {
		closing = true
		k++
	}
	start := k
	for k < len(doc) && !isNameEnd(doc[k]) {
		k++
	}
	name = doc[start:k]
	if c := bytes.LastIndexByte(name, ':'); c >= 0 {
		name = name[c+1:]
	}
	var quote byte
	for ; k < len(doc); k++ {
		switch c := doc[k]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return closing, name, k + 1
		}
	}
	return closing, name, -1
}

func isNameEnd(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '>' || c == '/'
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
