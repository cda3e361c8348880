// Package parse turns the bytes of an RSS (0.9x, 1.0, 2.0), Atom (0.3, 1.0) or JSON Feed
// document into a Feed. It is pure: bytes in, values out, no network.
//
// It wraps gofeed and fixes what matters for a news monitor: it decodes documents gofeed
// rejects (UTF-16/32, charsets named only by Content-Type, legacy encodings named nowhere,
// stray non-UTF-8 bytes, unknown encoding labels), reads dates gofeed cannot, makes links
// absolute, uses a permalink guid as the link, reads the complete items of a broken or
// truncated document, bounds the work a hostile one can cause (MaxItems, MaxDepth), and says
// which feed an HTML page links to. The feedparser conformance test in feeds/normalize
// measures the result (testdata/feeds/README.md).
package parse

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"net/url"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"
	gfjson "github.com/mmcdole/gofeed/json"
	"github.com/mmcdole/gofeed/rss"
)

// ErrNotAFeed is returned, wrapped, for a document that is no RSS, Atom or JSON Feed: an empty
// body, an HTML page (the message then names the feed the page links to, if any), or anything
// else.
var ErrNotAFeed = errors.New("parse: not a feed")

// Feed is a parsed feed.
type Feed struct {
	// Title is the feed's title as given.
	Title string
	// Link is the absolute URL of the site the feed belongs to.
	Link string
	// Language is the declared language (RSS <language>, dc:language, Atom xml:lang, JSON
	// Feed language), as given.
	Language string
	// Encoding is the character encoding the document was read in, by its WHATWG name
	// (utf-8, windows-1251, euc-kr, ...; utf-16le, utf-32be for those): the one named by the
	// byte order mark, the XML declaration or the Content-Type, or else detected.
	Encoding string
	// Partial is nil when Parse read the whole document. Otherwise it says why Parse read only
	// a part: the document is broken or truncated, nests elements deeper than MaxDepth, or
	// has more than MaxItems items. Items then hold the items that were complete before that
	// point; the feed's own fields are read as far as they go.
	Partial error
	// Items are in document order.
	Items []Item
}

// Item is one entry of a feed. Text fields are as the feed gave them and may contain HTML;
// JSON Feed's plain-text fields (title, summary, content_text) are HTML-escaped so that every
// format yields HTML.
type Item struct {
	// GUID is the RSS guid, Atom id or JSON Feed id.
	GUID string
	// GUIDIsPermaLink is the RSS isPermaLink attribute, true when absent (RSS 2.0); false for
	// Atom and JSON Feed.
	GUIDIsPermaLink bool
	// Link is the item's absolute URL: its link resolved against xml:base and then against the
	// feed URL; else a permalink guid that is an absolute http(s) URL; else JSON Feed's
	// external_url. Empty when the item has none.
	Link string
	// Title, Summary (description, summary) and Content (content:encoded, Atom content,
	// content_html) are raw.
	Title, Summary, Content string
	// Published and Updated are in UTC; nil when absent or unreadable.
	Published, Updated *time.Time
	// Authors are names, or e-mail addresses for authors without a name.
	Authors []string
	// Categories are RSS categories, Atom category labels (else terms), JSON Feed tags.
	Categories []string
	// Language is the item's own language (dc:language, JSON Feed item language), if declared.
	Language string
}

// MaxItems is the most items Parse reads from a document. Feeds list their newest items
// first and rarely hold more than a few hundred; a document with more is an archive or an
// attack, and reading the first MaxItems bounds the work one poll can cause.
const MaxItems = 10_000

// MaxDepth is the deepest element nesting Parse follows. Feeds nest a dozen levels at most;
// deeper nesting only costs the parser memory and stack.
const MaxDepth = 256

// Parse parses body, a feed served with the given Content-Type from feedURL. feedURL is the
// base for relative links; when it is not an http(s) URL (a file:// feed, or empty), the feed's
// own site link is used instead.
//
// A broken or truncated document still yields what it holds: the feed's own fields and every
// item that was complete before the fault (an item cut off midway is dropped, never half
// published), with Feed.Partial saying what was wrong; so does a document beyond MaxItems or
// MaxDepth. Parse returns an error only when nothing can be read: an empty document, one that
// is no feed (ErrNotAFeed), or one broken before its title, link or first item.
func Parse(body []byte, contentType, feedURL string) (*Feed, error) {
	return parseDoc(body, contentType, feedURL, minLift)
}

// parseDoc is Parse, lifting CDATA sections of at least liftSize bytes (0: none).
func parseDoc(body []byte, contentType, feedURL string, liftSize int) (*Feed, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, fmt.Errorf("%w: empty document", ErrNotAFeed)
	}
	doc, enc, err := toUTF8(body, contentType)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	kind := gofeed.DetectFeedType(bytes.NewReader(doc[:min(len(doc), 4096)]))
	if kind == gofeed.FeedTypeUnknown {
		return nil, notAFeed(doc, contentType, feedURL)
	}
	var partial error
	if kind != gofeed.FeedTypeJSON {
		doc = xmlChars(doc)
		if kind == gofeed.FeedTypeAtom {
			doc = decodeBase64Modes(fixAtomNamespace(doc))
		}
		if tooDeep, items := xmlShape(doc, MaxDepth); tooDeep || items > MaxItems {
			partial = limitError(tooDeep, items)
			doc = cutXML(doc, MaxItems, MaxDepth)
		}
	}
	if kind == gofeed.FeedTypeRSS && liftSize > 0 {
		if f, ok := parseLifted(doc, feedURL, liftSize); ok {
			f.Encoding, f.Partial = enc, partial
			return f, nil
		}
	}
	gf, err := runGofeed(doc)
	if err != nil {
		partial = fmt.Errorf("parse: broken or truncated %s document: %w", kindName(kind), err)
		if gf, err = runGofeed(recoverDoc(kind, doc)); err != nil || (gf.Title == "" && gf.Link == "" && len(gf.Items) == 0) {
			return nil, partial
		}
	}
	if jf, ok := gf.OriginalFeed().(*gfjson.Feed); ok && jf.Version == "" && len(jf.Items) == 0 {
		return nil, fmt.Errorf("%w (JSON without JSON Feed fields)", ErrNotAFeed)
	}
	if len(gf.Items) > MaxItems { // a JSON Feed: XML was cut before parsing
		partial = limitError(false, len(gf.Items))
		gf.Items = gf.Items[:MaxItems]
	}
	f := convertFeed(gf, feedURL)
	f.Encoding = enc
	f.Partial = partial
	return f, nil
}

func limitError(tooDeep bool, items int) error {
	if tooDeep {
		return fmt.Errorf("parse: elements nested deeper than %d levels; read up to the first such element", MaxDepth)
	}
	return fmt.Errorf("parse: %d items, more than %d; read the first %d", items, MaxItems, MaxItems)
}

// recoverDoc returns the readable part of a broken document of the given kind, or nil.
func recoverDoc(kind gofeed.FeedType, doc []byte) []byte {
	if kind == gofeed.FeedTypeJSON {
		return recoverJSON(doc)
	}
	return cutXML(doc, MaxItems, MaxDepth)
}

// parseLifted parses an RSS document with its large CDATA sections lifted out (cdata.go). It
// reports false when there is nothing to lift, or when the lifted document fails to parse or
// leaves a placeholder where restoreFeed does not put the bytes back: the caller then parses
// the document whole, which gives the same result or the same fault.
func parseLifted(doc []byte, feedURL string, liftSize int) (*Feed, bool) {
	l, ok := liftCDATA(doc, liftSize)
	if !ok {
		return nil, false
	}
	gf, err := runGofeed(l.doc)
	if err != nil {
		return nil, false
	}
	f := convertFeed(gf, feedURL)
	if !l.restoreFeed(f) {
		return nil, false
	}
	return f, true
}

// noImageScan is gofeed's RSS translator without the item image scan; it holds no state.
var noImageScan = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}

// runGofeed runs gofeed on a UTF-8 document. The recover is a last line of defence: a panic in
// a third-party parser on hostile input must not take the daemon down.
func runGofeed(doc []byte) (f *gofeed.Feed, err error) {
	if doc == nil {
		return nil, errors.New("nothing to recover")
	}
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("feed parser failed: %v", r)
		}
	}()
	p := gofeed.NewParser()
	p.KeepOriginalFeed = true
	// No article has an image field: gofeed's fallback that finds one runs a full HTML parse
	// of every item's content and description, about a sixth of what parsing allocates.
	p.RSSTranslator = noImageScan
	return p.Parse(bytes.NewReader(doc))
}

func kindName(k gofeed.FeedType) string {
	switch k {
	case gofeed.FeedTypeAtom:
		return "Atom"
	case gofeed.FeedTypeJSON:
		return "JSON Feed"
	}
	return "RSS"
}

func convertFeed(gf *gofeed.Feed, feedURL string) *Feed {
	base := baseURL(feedURL, gf.Link)
	f := &Feed{
		Title:    gf.Title,
		Link:     resolveRef(base, gf.Link),
		Language: languageTag(gf.Language),
		Items:    make([]Item, 0, len(gf.Items)),
	}
	var rssItems []*rss.Item
	var jsonItems []*gfjson.Item
	switch orig := gf.OriginalFeed().(type) {
	case *rss.Feed:
		rssItems = orig.Items
	case *gfjson.Feed:
		jsonItems = orig.Items
	}
	for i, gi := range gf.Items {
		if gi == nil {
			continue
		}
		it := convertItem(gi, base)
		applyExtensions(&it, gi.Extensions)
		if len(rssItems) == len(gf.Items) && rssItems[i] != nil {
			applyRSS(&it, rssItems[i])
		}
		if len(jsonItems) == len(gf.Items) && jsonItems[i] != nil {
			applyJSON(&it, jsonItems[i])
		}
		for _, l := range gi.Links {
			if it.Link != "" {
				break
			}
			it.Link = resolveRef(base, l)
		}
		f.Items = append(f.Items, it)
	}
	return f
}

// baseURL is the URL relative links are resolved against: the feed URL when it is http(s),
// else the feed's site link when that is.
func baseURL(feedURL, siteLink string) *url.URL {
	for _, s := range []string{feedURL, siteLink} {
		if u, err := url.Parse(strings.TrimSpace(s)); err == nil && isHTTP(u) && u.Host != "" {
			return u
		}
	}
	return nil
}

func isHTTP(u *url.URL) bool {
	return strings.EqualFold(u.Scheme, "http") || strings.EqualFold(u.Scheme, "https")
}

// resolveRef makes ref absolute against base; it returns ref trimmed when it is already
// absolute, cannot be parsed, or there is no base.
func resolveRef(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" || base == nil {
		return ref
	}
	u, err := url.Parse(ref)
	if err != nil || u.IsAbs() {
		return ref
	}
	return base.ResolveReference(u).String()
}

func convertItem(gi *gofeed.Item, base *url.URL) Item {
	it := Item{
		GUID:       strings.TrimSpace(gi.GUID),
		Link:       resolveRef(base, gi.Link),
		Title:      gi.Title,
		Summary:    gi.Description,
		Content:    gi.Content,
		Published:  itemTime(gi.PublishedParsed, gi.Published),
		Updated:    itemTime(gi.UpdatedParsed, gi.Updated),
		Categories: gi.Categories,
	}
	for _, p := range gi.Authors {
		if p == nil {
			continue
		}
		if name := authorName(p.Name); name != "" {
			it.Authors = append(it.Authors, name)
		} else if email := authorName(p.Email); email != "" {
			it.Authors = append(it.Authors, email) // a name when it is "Name <mail>"
		}
	}
	if gi.DublinCoreExt != nil && len(gi.DublinCoreExt.Language) > 0 {
		it.Language = languageTag(gi.DublinCoreExt.Language[0])
	}
	return it
}

// authorName returns the name in an author string, without the e-mail address of the
// "Name <mail@example.com>" form (gofeed already reads "mail@example.com (Name)").
func authorName(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '<'); i > 0 && strings.HasSuffix(s, ">") && strings.Contains(s[i:], "@") {
		if name := strings.TrimSpace(s[:i]); name != "" {
			return strings.Trim(name, `"`)
		}
	}
	return s
}

// languageTag returns a language as declared, trimmed, with the underscores of POSIX locale
// names (en_US) made the hyphens of a BCP 47 tag (en-US).
func languageTag(s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "_", "-")
}

// itemTime returns gofeed's parsed time in UTC, else the raw string read by parseDate.
func itemTime(parsed *time.Time, raw string) *time.Time {
	if parsed != nil {
		t := parsed.UTC()
		return &t
	}
	if t, ok := parseDate(raw); ok {
		return &t
	}
	return nil
}

// applyRSS adds what gofeed's universal item drops: isPermaLink, and a permalink guid as the
// link of an item without <link>.
func applyRSS(it *Item, ri *rss.Item) {
	if ri.GUID == nil {
		return
	}
	it.GUIDIsPermaLink = !strings.EqualFold(strings.TrimSpace(ri.GUID.IsPermalink), "false")
	if it.Link != "" || !it.GUIDIsPermaLink {
		return
	}
	if u, err := url.Parse(it.GUID); err == nil && isHTTP(u) && u.Host != "" {
		it.Link = it.GUID
	}
}

// applyExtensions fills in what an item says only through extensions: a media:title when it
// has no title, iTunes and Media RSS categories, and DCMI Terms dates (dcterms:issued,
// dcterms:created, dcterms:modified) when it has no RSS or Atom ones.
func applyExtensions(it *Item, exts ext.Extensions) {
	if len(exts) == 0 {
		return
	}
	media, itunes, dcterms := exts["media"], exts["itunes"], exts["dcterms"]
	if strings.TrimSpace(it.Title) == "" {
		if v := extValue(media["title"]); v != "" {
			it.Title = v
		}
	}
	for _, e := range media["category"] {
		it.Categories = append(it.Categories, e.Value)
	}
	it.Categories = appendITunesCategories(it.Categories, itunes["category"], 0)
	if it.Published == nil {
		it.Published = itemTime(nil, extValue(dcterms["issued"]))
	}
	if it.Published == nil {
		it.Published = itemTime(nil, extValue(dcterms["created"]))
	}
	if it.Updated == nil {
		it.Updated = itemTime(nil, extValue(dcterms["modified"]))
	}
}

// maxCategoryDepth bounds the nesting of iTunes categories followed.
const maxCategoryDepth = 4

func appendITunesCategories(out []string, cats []ext.Extension, depth int) []string {
	if depth >= maxCategoryDepth {
		return out
	}
	for _, c := range cats {
		if t := c.Attrs["text"]; t != "" {
			out = append(out, t)
		}
		out = appendITunesCategories(out, c.Children["category"], depth+1)
	}
	return out
}

// extValue returns the trimmed text of the first of exts, or "".
func extValue(exts []ext.Extension) string {
	if len(exts) == 0 {
		return ""
	}
	return strings.TrimSpace(exts[0].Value)
}

// applyJSON adds the item language and escapes JSON Feed's plain-text fields into HTML.
func applyJSON(it *Item, ji *gfjson.Item) {
	it.Language = languageTag(ji.Language)
	it.Title = html.EscapeString(ji.Title)
	it.Summary = html.EscapeString(ji.Summary)
	if ji.ContentHTML == "" {
		it.Content = html.EscapeString(ji.ContentText)
	}
}
