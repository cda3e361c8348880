package parse

import (
	"bytes"
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// feedTypes are the link types that announce a feed (RSS Autodiscovery, RFC 4287, JSON Feed).
var feedTypes = map[string]bool{
	"application/rss+xml":   true,
	"application/atom+xml":  true,
	"application/feed+json": true,
	"application/rdf+xml":   true,
}

// notAFeed builds the error for a document that is no feed, naming the feed an HTML page links
// to so that the user knows which URL to configure instead.
func notAFeed(doc []byte, contentType, feedURL string) error {
	if !looksLikeHTML(doc, contentType) {
		return fmt.Errorf("%w (no RSS, Atom or JSON Feed document; it starts with %q)", ErrNotAFeed, preview(doc))
	}
	if link := alternateFeedLink(doc, feedURL); link != "" {
		return fmt.Errorf("%w (HTML page); it links a feed at %s", ErrNotAFeed, link)
	}
	return fmt.Errorf("%w (HTML page, and it links no feed)", ErrNotAFeed)
}

// looksLikeHTML reports whether the document is served or written as HTML.
func looksLikeHTML(doc []byte, contentType string) bool {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && (mt == "text/html" || mt == "application/xhtml+xml") {
		return true
	}
	head := bytes.ToLower(doc[:min(len(doc), 1024)])
	for _, marker := range []string{"<!doctype html", "<html", "<head", "<body"} {
		if bytes.Contains(head, []byte(marker)) {
			return true
		}
	}
	return false
}

// alternateFeedLink returns the absolute URL of the first feed the page's head announces, or "".
func alternateFeedLink(doc []byte, pageURL string) string {
	if links := FeedLinks(doc, pageURL); len(links) > 0 {
		return links[0].URL
	}
	return ""
}

func attrs(z *html.Tokenizer, more bool) map[string]string {
	m := make(map[string]string)
	for more {
		var k, v []byte
		k, v, more = z.TagAttr()
		m[string(k)] = string(v)
	}
	return m
}

func isAlternate(rel string) bool {
	for _, r := range strings.Fields(rel) {
		if strings.EqualFold(r, "alternate") {
			return true
		}
	}
	return false
}

// preview returns the first characters of a document for an error message.
func preview(doc []byte) string {
	doc = bytes.TrimSpace(doc)
	n := 0
	for i := 0; i < 40 && n < len(doc); i++ {
		_, size := utf8.DecodeRune(doc[n:])
		n += size
	}
	return string(doc[:n])
}
