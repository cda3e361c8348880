package parse

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"encoding/xml"
	"strings"

	"github.com/newswatch/newswatch/feeds/xmlscan"
)

// cutXML returns the longest prefix of an XML document that ends where no item or entry is
// open and that holds at most maxItems complete items and no element nested deeper than
// maxDepth, with end tags appended for the elements still open there. A parser then reads the
// feed's own fields and every item that was complete before a fault (a syntax error, a cut,
// too deep a nesting) or before the item limit. It returns nil when nothing is left (the fault
// precedes the root element's first child).
func cutXML(doc []byte, maxItems, maxDepth int) []byte {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = false
	var stack []string // open elements, by their name as written (prefix:local)
	openItems, items := 0, 0
	var safeEnd int64 = -1
	safeDepth := 0
	// Between the last safe point and the end, only elements above safeDepth change: the
	// elements below can close only by closing the open item first, which is a safe point.
scan:
	for {
		tok, err := d.RawToken()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == maxDepth {
				break scan
			}
			stack = append(stack, qualified(t.Name))
			if isItem(t.Name.Local) {
				openItems++
			}
		case xml.EndElement:
			stack = closeElement(stack, qualified(t.Name), &openItems, &items)
		case xml.CharData:
			continue // text may be cut short; an element boundary is a safe point
		}
		switch {
		case openItems > 0:
		case len(stack) == 0 && safeEnd >= 0:
			return doc[:d.InputOffset()] // the root closed: complete up to here
		case len(stack) > 0:
			safeEnd, safeDepth = d.InputOffset(), len(stack)
			if items >= maxItems {
				break scan
			}
		}
	}
	if safeEnd < 0 {
		return nil
	}
	out := make([]byte, 0, int(safeEnd)+16*safeDepth)
	out = append(out, doc[:safeEnd]...)
	for i := safeDepth - 1; i >= 0; i-- {
		out = append(out, "</"...)
		out = append(out, stack[i]...)
		out = append(out, '>')
	}
	return out
}

// closeElement pops the open elements up to the one named name (non-strict decoding lets end
// tags mismatch), counting the items it closes.
func closeElement(stack []string, name string, openItems, items *int) []string {
	for i := len(stack) - 1; i >= 0; i-- {
		if stack[i] != name {
			continue
		}
		for _, n := range stack[i:] {
			if isItem(localName(n)) {
				*openItems--
				*items++
			}
		}
		return stack[:i]
	}
	return stack
}

func qualified(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

func localName(q string) string {
	if i := strings.LastIndexByte(q, ':'); i >= 0 {
		return q[i+1:]
	}
	return q
}

// isItem reports whether an element is an RSS item or an Atom entry.
func isItem(local string) bool {
	return strings.EqualFold(local, "item") || strings.EqualFold(local, "entry")
}

// recoverJSON returns a JSON Feed rebuilt from the members of a broken document's top-level
// object that are complete, with the items array cut after its last complete item. It
// returns nil when not even the opening brace is there.
func recoverJSON(doc []byte) []byte {
	d := json.NewDecoder(bytes.NewReader(doc))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var out bytes.Buffer
	out.WriteByte('{')
	members := 0
	for d.More() {
		tok, err := d.Token()
		key, ok := tok.(string)
		if err != nil || !ok {
			break
		}
		if key == "items" {
			items, complete := recoverJSONItems(d)
			writeMember(&out, &members, key, items)
			if !complete {
				break
			}
			continue
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			break
		}
		writeMember(&out, &members, key, v)
	}
	out.WriteByte('}')
	return out.Bytes()
}

// recoverJSONItems reads an items array from d and returns its complete elements as a JSON
// array, and whether the array itself was complete.
func recoverJSONItems(d *json.Decoder) (json.RawMessage, bool) {
	var out bytes.Buffer
	out.WriteByte('[')
	defer out.WriteByte(']')
	if tok, err := d.Token(); err != nil || tok != json.Delim('[') {
		return json.RawMessage("[]"), false
	}
	n := 0
	for d.More() {
		var it json.RawMessage
		if err := d.Decode(&it); err != nil {
			return closeArray(&out), false
		}
		if n > 0 {
			out.WriteByte(',')
		}
		out.Write(it)
		n++
	}
	if _, err := d.Token(); err != nil {
		return closeArray(&out), false
	}
	return closeArray(&out), true
}

func closeArray(b *bytes.Buffer) json.RawMessage {
	return append(bytes.Clone(b.Bytes()), ']')
}

func writeMember(out *bytes.Buffer, n *int, key string, v json.RawMessage) {
	if *n > 0 {
		out.WriteByte(',')
	}
	k, _ := json.Marshal(key)
	out.Write(k)
	out.WriteByte(':')
	out.Write(v)
	*n++
}

// xmlChars replaces the characters XML 1.0 forbids (C0 controls other than tab, newline and
// carriage return; U+FFFE and U+FFFF) with U+FFFD: they are common in feeds assembled from
// databases, and an XML parser stops at the first one. It returns b itself when there is none.
func xmlChars(b []byte) []byte {
	first := firstForbiddenXMLByte(b)
	if first < 0 {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	out = append(out, b[:first]...)
	for i := first; i < len(b); i++ {
		c := b[i]
		if !forbiddenXMLByte(b, i, c) {
			out = append(out, c)
			continue
		}
		out = append(out, "\uFFFD"...)
		if c == 0xEF {
			i += 2
		}
	}
	return out
}

// firstForbiddenXMLByte returns the index of the first character of b that XML 1.0 forbids,
// or -1. It tests eight bytes at a time for a control byte or 0xEF (the lead byte of U+FFFE and
// U+FFFF) and looks closer only at the words that have one: a byte at a time, this scan was a
// quarter of parsing a document whose item bodies are lifted (cdata.go).
func firstForbiddenXMLByte(b []byte) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		control := (w - 0x20*ones) &^ w & highs // a byte below 0x20
		x := w ^ 0xEF*ones
		lead := (x - ones) &^ x & highs // a byte equal to 0xEF
		if control|lead == 0 {
			continue
		}
		for k := i; k < i+8; k++ {
			if forbiddenXMLByte(b, k, b[k]) {
				return k
			}
		}
	}
	for ; i < len(b); i++ {
		if forbiddenXMLByte(b, i, b[i]) {
			return i
		}
	}
	return -1
}

// forbiddenXMLByte reports whether b[i] (which is c) starts a character XML 1.0 forbids.
func forbiddenXMLByte(b []byte, i int, c byte) bool {
	switch {
	case c < 0x20:
		return c != '\t' && c != '\n' && c != '\r'
	case c == 0xEF:
		return i+2 < len(b) && b[i+1] == 0xBF && (b[i+2] == 0xBE || b[i+2] == 0xBF)
	}
	return false
}

// xmlShape scans an XML document the cheap way, byte by byte, for what would make parsing it
// expensive: it reports whether an element is nested deeper than maxDepth, and counts item
// and entry end tags. Comments, CDATA sections, processing instructions and declarations are
// skipped; it does not check well-formedness (cutXML, which acts on its answer, does).
func xmlShape(doc []byte, maxDepth int) (tooDeep bool, items int) {
	depth := 0
	for i := 0; ; {
		t, more := xmlscan.Next(doc, i)
		if !more {
			break
		}
		i = t.End
		switch {
		case t.Kind == xmlscan.EndTag:
			if isItemTag(t.Name) {
				items++
			}
			depth--
		case t.Kind == xmlscan.StartTag && !t.Empty:
			if depth++; depth > maxDepth {
				return true, items
			}
		}
	}
	return false, items
}

// isItemTag reports whether a tag's local name is an item's.
func isItemTag(name []byte) bool {
	return bytes.EqualFold(name, []byte("item")) || bytes.EqualFold(name, []byte("entry"))
}
