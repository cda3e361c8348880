// Package xmlscan reads the markup of an XML document by scanning its bytes, without parsing
// it: where each comment, CDATA section, processing instruction, declaration and tag starts
// and ends, and a tag's local name. It knows just enough XML for the cheap looks the feed
// stages take before (or instead of) a parser: how deep and how many items a document has,
// where its items are, where its item bodies' CDATA sections are. It does not check
// well-formedness, and it reads only ASCII-compatible encodings (UTF-8 and the legacy
// single-byte ones); a caller that needs more parses the document.
package xmlscan

import "bytes"

// Kind is what a piece of markup is.
type Kind uint8

const (
	Comment  Kind = iota + 1 // <!-- … -->
	CDATA                    // <![CDATA[ … ]]>
	PI                       // <? … ?>
	Decl                     // <! … >, a DOCTYPE (its internal subset is not followed)
	EndTag                   // </name>
	StartTag                 // <name …> or <name …/>
)

// Token is one piece of markup: doc[Start:End] runs from its '<' through the end of its
// closing delimiter. A token that never ends runs to the end of the document, with
// Unterminated set.
type Token struct {
	Kind         Kind
	Start, End   int
	Unterminated bool
	// Name is a tag's local name (without its namespace prefix), as written.
	Name []byte
	// Empty is set for a start tag that closes itself ("<item/>").
	Empty bool
}

// Text returns the text of a CDATA section (without its delimiters).
func (t Token) Text(doc []byte) []byte {
	end := t.End
	if !t.Unterminated {
		end -= len("]]>")
	}
	return doc[t.Start+len("<![CDATA[") : end]
}

// Next returns the first token that starts at or after doc[i]; ok is false when no '<' is left.
func Next(doc []byte, i int) (t Token, ok bool) {
	if i >= len(doc) {
		return Token{}, false
	}
	j := bytes.IndexByte(doc[i:], '<')
	if j < 0 {
		return Token{}, false
	}
	i += j
	t.Start = i
	rest := doc[i:]
	switch {
	case bytes.HasPrefix(rest, []byte("<!--")):
		t.Kind = Comment
		t.End, t.Unterminated = past(doc, i+len("<!--"), "-->")
	case bytes.HasPrefix(rest, []byte("<![CDATA[")):
		t.Kind = CDATA
		t.End, t.Unterminated = past(doc, i+len("<![CDATA["), "]]>")
	case bytes.HasPrefix(rest, []byte("<?")):
		t.Kind = PI
		t.End, t.Unterminated = past(doc, i+2, "?>")
	case bytes.HasPrefix(rest, []byte("<!")):
		t.Kind = Decl
		t.End, t.Unterminated = past(doc, i+2, ">")
	default:
		t.Kind = StartTag
		k := i + 1
		if k < len(doc) && doc[k] == '/' {
			t.Kind = EndTag
			k++
		}
		start := k
		for k < len(doc) && !nameEnd(doc[k]) {
			k++
		}
		t.Name = doc[start:k]
		if c := bytes.LastIndexByte(t.Name, ':'); c >= 0 {
			t.Name = t.Name[c+1:]
		}
		t.End, t.Unterminated = tagEnd(doc, k)
		t.Empty = t.Kind == StartTag && !t.Unterminated && doc[t.End-2] == '/'
	}
	return t, true
}

// past returns the index just past the first marker at or after from, or len(doc) and true
// when there is none.
func past(doc []byte, from int, marker string) (int, bool) {
	if k := bytes.Index(doc[from:], []byte(marker)); k >= 0 {
		return from + k + len(marker), false
	}
	return len(doc), true
}

// tagEnd returns the index just past the '>' that ends a tag, skipping quoted attribute
// values (which may hold '>'), or len(doc) and true when there is none.
func tagEnd(doc []byte, from int) (int, bool) {
	var quote byte
	for k := from; k < len(doc); k++ {
		switch c := doc[k]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return k + 1, false
		}
	}
	return len(doc), true
}

func nameEnd(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '>' || c == '/'
}
