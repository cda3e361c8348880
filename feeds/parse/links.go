package parse

import (
	"bytes"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// maxFeedLinks bounds how many announced feeds FeedLinks returns for one page.
const maxFeedLinks = 20

// FeedLink is a feed an HTML page announces with <link rel="alternate" type="...">.
type FeedLink struct {
	URL, Title, Type string
}

// FeedLinks returns the feeds an HTML page's head announces (RSS Autodiscovery, RFC 4287, JSON
// Feed), in page order, with absolute URLs resolved against <base> and the page URL; at most
// 20, duplicates dropped.
func FeedLinks(doc []byte, pageURL string) []FeedLink {
	base, _ := url.Parse(pageURL)
	var out []FeedLink
	seen := map[string]bool{}
	z := html.NewTokenizer(bytes.NewReader(doc))
	for len(out) < maxFeedLinks {
		switch z.Next() {
		case html.ErrorToken:
			return out
		case html.EndTagToken:
			if name, _ := z.TagName(); atom.Lookup(name) == atom.Head {
				return out
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch atom.Lookup(name) {
			case atom.Body:
				return out
			case atom.Base:
				if href := attrs(z, hasAttr)["href"]; href != "" && base != nil {
					if u, err := base.Parse(href); err == nil {
						base = u
					}
				}
			case atom.Link:
				a := attrs(z, hasAttr)
				typ := strings.ToLower(strings.TrimSpace(a["type"]))
				if !isAlternate(a["rel"]) || !feedTypes[typ] || a["href"] == "" {
					continue
				}
				if u := resolveRef(base, a["href"]); u != "" && !seen[u] {
					seen[u] = true
					out = append(out, FeedLink{URL: u, Title: strings.TrimSpace(a["title"]), Type: typ})
				}
			}
		}
	}
	return out
}

// LooksLikeHTML reports whether a document is served or written as HTML.
func LooksLikeHTML(doc []byte, contentType string) bool { return looksLikeHTML(doc, contentType) }
