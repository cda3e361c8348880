// Package discover finds the feed behind an address a user pastes: the address itself when it
// is a feed, else a feed the page announces with <link rel="alternate">, else one at the usual
// paths (/feed, /rss, /atom.xml, /feed.xml, /index.xml, /rss.xml). Every request goes through
// the caller's fetcher, so the SSRF guard, per-host limit, timeout and size cap apply.
package discover

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/newswatch/newswatch/feeds/fetch"
	"github.com/newswatch/newswatch/feeds/parse"
)

// Fetcher gets a document. fetch.Fetcher implements it.
type Fetcher interface {
	Fetch(ctx context.Context, req fetch.Request) (*fetch.Response, error)
}

// ErrNoFeed is returned, wrapped, when neither the address, the feeds its page announces nor
// the usual paths lead to a feed.
var ErrNoFeed = errors.New("discover: no feed found")

// UsualPaths are tried, in order, on the site's root when a page announces no working feed.
var UsualPaths = []string{"/feed", "/rss", "/atom.xml", "/feed.xml", "/index.xml", "/rss.xml"}

// maxAnnounced bounds how many announced feeds are tried, so a page listing dozens of feeds
// costs a handful of requests.
const maxAnnounced = 4

// How a feed was found.
const (
	ViaURL   = "url"   // the address is a feed
	ViaLink  = "link"  // the page announces it
	ViaGuess = "guess" // found at one of the usual paths
)

// Found is the feed an address leads to.
type Found struct {
	// URL is the feed's address.
	URL string `json:"url"`
	// Title is the feed's own title.
	Title string `json:"title,omitempty"`
	// Via says how it was found: url, link or guess.
	Via string `json:"via"`
	// Announced are all the feeds the page announced, when it was a page.
	Announced []parse.FeedLink `json:"announced,omitempty"`
	// Feed is the parsed feed, for callers that want its items.
	Feed *parse.Feed `json:"-"`
}

// Find resolves an address to a feed.
func Find(ctx context.Context, f Fetcher, address string) (Found, error) {
	u, err := url.Parse(address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Found{}, fmt.Errorf("discover %q: use an http:// or https:// address", address)
	}
	resp, err := f.Fetch(ctx, fetch.Request{URL: address})
	if err != nil {
		return Found{}, fmt.Errorf("discover %s: %w", address, err)
	}
	page := firstNonEmpty(resp.FinalURL, address)
	doc, perr := parse.Parse(resp.Body, resp.ContentType, page)
	if perr == nil {
		return Found{URL: address, Title: doc.Title, Via: ViaURL, Feed: doc}, nil
	}
	if !parse.LooksLikeHTML(resp.Body, resp.ContentType) {
		return Found{}, fmt.Errorf("discover %s: %w", address, perr)
	}
	announced := parse.FeedLinks(resp.Body, page)
	var tried []string
	for i, l := range announced {
		if i == maxAnnounced {
			break
		}
		if found, ok := try(ctx, f, l.URL); ok {
			found.Via, found.Announced = ViaLink, announced
			return found, nil
		}
		tried = append(tried, l.URL)
	}
	root, _ := url.Parse(page)
	for _, p := range UsualPaths {
		candidate := (&url.URL{Scheme: root.Scheme, Host: root.Host, Path: p}).String()
		if found, ok := try(ctx, f, candidate); ok {
			found.Via, found.Announced = ViaGuess, announced
			return found, nil
		}
		tried = append(tried, candidate)
		if ctx.Err() != nil {
			break
		}
	}
	return Found{}, fmt.Errorf("%w at %s (tried %s): give the feed's own address", ErrNoFeed, address, strings.Join(tried, ", "))
}

// try fetches and parses one candidate.
func try(ctx context.Context, f Fetcher, candidate string) (Found, bool) {
	resp, err := f.Fetch(ctx, fetch.Request{URL: candidate})
	if err != nil {
		return Found{}, false
	}
	doc, err := parse.Parse(resp.Body, resp.ContentType, firstNonEmpty(resp.FinalURL, candidate))
	if err != nil {
		return Found{}, false
	}
	return Found{URL: candidate, Title: doc.Title, Feed: doc}, true
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
