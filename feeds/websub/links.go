// Package websub subscribes newswatch to the WebSub hubs that feeds announce
// (https://www.w3.org/TR/websub/) and takes the content they push: discovery of a feed's hub
// and topic, the subscription and its lease, verification of intent, and the callback that
// checks each push's signature before handing it to the ingest pipeline.
package websub

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/url"
	"strings"
)

// Links are what a feed announces for WebSub: its hub and its own canonical URL, the topic.
type Links struct {
	Hub, Self string
}

// Valid reports whether both links are there.
func (l Links) Valid() bool { return l.Hub != "" && l.Self != "" }

// maxHeadBytes bounds how much of a document Discover reads: hub and self links sit in the
// channel or feed head, before the first item.
const maxHeadBytes = 64 << 10

// Discover finds a feed's hub and self links: first in its HTTP Link headers (RFC 8288), then
// in the document's head (atom:link in RSS, link in Atom), where an element stops the search at
// the first item or entry. Relative URLs are resolved against base (the URL that served the
// document). Only http and https links count. A link missing from both places is "".
func Discover(body []byte, linkHeaders []string, base string) Links {
	b, _ := url.Parse(base)
	var l Links
	for _, h := range linkHeaders {
		for _, link := range parseLinkHeader(h) {
			l.take(link.rel, link.href, b)
		}
	}
	if l.Valid() {
		return l
	}
	var doc Links
	scanHead(body, func(rel, href string) bool {
		doc.take(rel, href, b)
		return doc.Valid()
	})
	if l.Hub == "" {
		l.Hub = doc.Hub
	}
	if l.Self == "" {
		l.Self = doc.Self
	}
	return l
}

// take records href under each of the space-separated relations in rel that l still lacks.
func (l *Links) take(rel, href string, base *url.URL) {
	for _, r := range strings.Fields(strings.ToLower(rel)) {
		switch {
		case r == "hub" && l.Hub == "":
			l.Hub = absolute(href, base)
		case r == "self" && l.Self == "":
			l.Self = absolute(href, base)
		}
	}
}

func absolute(href string, base *url.URL) string {
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}

type headerLink struct{ href, rel string }

// parseLinkHeader reads `<url>; rel="hub", <url>; rel=self` (RFC 8288, without the rarely
// used parameters it does not need).
func parseLinkHeader(h string) []headerLink {
	var out []headerLink
	for len(h) > 0 {
		start := strings.IndexByte(h, '<')
		if start < 0 {
			break
		}
		end := strings.IndexByte(h[start:], '>')
		if end < 0 {
			break
		}
		link := headerLink{href: h[start+1 : start+end]}
		h = h[start+end+1:]
		// Parameters run to the next comma outside quotes.
		params, rest := splitParams(h)
		h = rest
		for p := range strings.SplitSeq(params, ";") {
			k, v, ok := strings.Cut(p, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "rel") {
				link.rel = strings.Trim(strings.TrimSpace(v), `"`)
			}
		}
		out = append(out, link)
	}
	return out
}

func splitParams(h string) (params, rest string) {
	quoted := false
	for i := 0; i < len(h); i++ {
		switch h[i] {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				return h[:i], h[i+1:]
			}
		}
	}
	return h, ""
}

// scanHead calls fn with the rel and href of every link element before the first item or
// entry, within the first maxHeadBytes, until fn returns true. A document that is not XML
// yields nothing.
func scanHead(body []byte, fn func(rel, href string) bool) {
	if t := bytes.TrimLeft(body, " \t\r\n\ufeff"); len(t) == 0 || t[0] != '<' {
		return
	}
	d := xml.NewDecoder(io.LimitReader(bytes.NewReader(body), maxHeadBytes))
	d.Strict = false
	// Head elements are ASCII; a document in another charset still has ASCII markup.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	for {
		tok, err := d.Token()
		if err != nil {
			return
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch strings.ToLower(se.Name.Local) {
		case "item", "entry":
			return
		case "link":
			var rel, href string
			for _, a := range se.Attr {
				switch strings.ToLower(a.Name.Local) {
				case "rel":
					rel = a.Value
				case "href":
					href = a.Value
				}
			}
			if rel != "" && href != "" && fn(rel, href) {
				return
			}
		}
	}
}
