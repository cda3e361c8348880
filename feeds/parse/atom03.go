package parse

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"regexp"
	"strings"
)

// base64Element matches an element with Atom 0.3's mode="base64" and base64 content.
var base64Element = regexp.MustCompile(`<([A-Za-z_][-\w.:]*)(\s[^<>]*?)\smode\s*=\s*["']base64["']([^<>]*)>([A-Za-z0-9+/=\s]*)</([A-Za-z_][-\w.:]*)\s*>`)

// decodeBase64Modes rewrites the base64-encoded text constructs of an Atom 0.3 document
// (mode="base64") as escaped text. gofeed decodes them only when their type is not text/*,
// and Atom 0.3 feeds use type="text/html" for them.
func decodeBase64Modes(doc []byte) []byte {
	if !bytes.Contains(doc, []byte("base64")) {
		return doc
	}
	return base64Element.ReplaceAllFunc(doc, func(m []byte) []byte {
		g := base64Element.FindSubmatch(m)
		if !bytes.Equal(g[1], g[5]) {
			return m
		}
		decoded, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(g[4])), ""))
		if err != nil {
			return m
		}
		var out bytes.Buffer
		out.Grow(len(m) + len(decoded))
		out.WriteByte('<')
		out.Write(g[1])
		out.Write(g[2])
		out.Write(g[3])
		out.WriteByte('>')
		if err := xml.EscapeText(&out, decoded); err != nil {
			return m
		}
		out.WriteString("</")
		out.Write(g[1])
		out.WriteByte('>')
		return out.Bytes()
	})
}

// Atom namespaces gofeed reads.
const (
	atom10NS = "http://www.w3.org/2005/Atom"
	atom03NS = "http://purl.org/atom/ns#"
)

// rootNamespace matches the start of a <feed> root element's default namespace declaration,
// up to its value.
var rootNamespace = regexp.MustCompile(`^(?:\s|<\?[^>]*\?>|<!--(?:[^-]|-[^-])*-->|<![^>]*>)*<feed\b[^>]*?\sxmlns\s*=\s*["']([^"']*)["']`)

// fixAtomNamespace puts a <feed> root that declares an unknown default namespace (the 2003
// drafts of Atom called themselves Echo, Necho and Pie, each with its own namespace) in Atom
// 0.3's, which is what such documents are, so that gofeed reads their elements.
func fixAtomNamespace(doc []byte) []byte {
	m := rootNamespace.FindSubmatchIndex(doc[:min(len(doc), 4096)])
	if m == nil {
		return doc
	}
	if ns := string(doc[m[2]:m[3]]); ns == atom10NS || ns == atom03NS {
		return doc
	}
	out := make([]byte, 0, len(doc)+len(atom03NS))
	out = append(out, doc[:m[2]]...)
	out = append(out, atom03NS...)
	return append(out, doc[m[3]:]...)
}
