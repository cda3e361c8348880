// Package normalize turns parsed feed items into article events: canonical URLs, stable
// article ids, plain text, UTC times. It is pure: values in, values out.
package normalize

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/feeds/parse"
)

// ErrNoIdentity is returned by Article for an item with no link, no guid and no title: nothing
// would tell it apart from the next one.
var ErrNoIdentity = errors.New("normalize: item has no link, guid or title")

// MaxFutureSkew is how far in the future a publication time may lie. Feeds in a wrong time
// zone are commonly off by up to 14 hours; beyond a day, the date is wrong (or an event
// listing), and believing it would keep the item at the top of every "latest" list and out of
// every time window, so Article uses the time it first saw the item, as for a missing date.
const MaxFutureSkew = 24 * time.Hour

// summaryRunes is the length of a summary made from the content.
const summaryRunes = 300

// ArticleID returns the stable id of an article: the first 32 hex digits of
// sha256("url\x00" + canonicalURL), or, without a canonical URL, of
// sha256("guid\x00" + feedID + "\x00" + guid). A URL-based id is the same in every feed, so one
// story linked from two feeds is one article; a guid is only unique within its feed. It
// returns "" when both canonicalURL and guid are empty.
func ArticleID(canonicalURL, feedID, guid string) string {
	switch {
	case canonicalURL != "":
		return hashID("url", canonicalURL)
	case guid != "":
		return hashID("guid", feedID, guid)
	}
	return ""
}

// hashID returns the first 32 hex digits of the sha256 of the parts joined by NUL bytes.
func hashID(parts ...string) string {
	h := sha256.New()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(p))
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))[:32]
}

// Article builds the article event for an item of the feed feedID, first seen at now.
//
// The id is ArticleID's. For an item with neither a canonical URL nor a guid it hashes the
// feed id and the link as given (a link that is no http(s) URL, or a relative one in a file://
// feed), else the feed id, the plain-text title and the publication time given by the feed (if
// any), so that it stays the same from poll to poll. Title, Summary and Content are Text of the item's fields; an item
// without a summary gets the first ~300 characters of its content, cut between words.
// PublishedAt is the item's publication time, else its update time, in UTC; when it has
// neither, or both lie more than MaxFutureSkew after now, PublishedAt is now and
// PublishedEstimated is true. Authors and categories are trimmed, with blanks and duplicates
// (ignoring case) dropped. Language is the item's, else feedLang.
func Article(feedID, feedLang string, it parse.Item, now time.Time) (events.Article, error) {
	now = now.UTC()
	a := events.Article{
		FeedID:      feedID,
		Link:        it.Link,
		GUID:        it.GUID,
		Title:       Text(it.Title),
		Summary:     Text(it.Summary),
		Content:     Text(it.Content),
		FirstSeenAt: now,
		Authors:     cleanList(it.Authors),
		Categories:  cleanList(it.Categories),
		Language:    strings.TrimSpace(it.Language),
	}
	if a.Language == "" {
		a.Language = strings.TrimSpace(feedLang)
	}
	if a.Summary == "" {
		a.Summary = excerpt(a.Content, summaryRunes)
	}
	if a.Link != "" {
		a.URL, _ = CanonicalURL(a.Link) // an unusable link leaves URL empty; the guid identifies
	}
	a.PublishedAt, a.PublishedEstimated = publishedAt(it, now)
	a.ID = ArticleID(a.URL, feedID, a.GUID)
	switch {
	case a.ID != "":
	case a.Link != "":
		a.ID = hashID("link", feedID, a.Link)
	case a.Title != "":
		var published string
		if p := firstTime(it.Published, it.Updated); p != nil {
			published = p.UTC().Format(time.RFC3339Nano)
		}
		a.ID = hashID("title", feedID, a.Title, published)
	default:
		return events.Article{}, ErrNoIdentity
	}
	return a, nil
}

// publishedAt picks the item's publication time, else its update time, ignoring times too
// far in the future; without one it returns now, estimated.
func publishedAt(it parse.Item, now time.Time) (time.Time, bool) {
	for _, t := range []*time.Time{it.Published, it.Updated} {
		if t != nil && !t.IsZero() && !t.After(now.Add(MaxFutureSkew)) {
			return t.UTC(), false
		}
	}
	return now, true
}

func firstTime(ts ...*time.Time) *time.Time {
	for _, t := range ts {
		if t != nil {
			return t
		}
	}
	return nil
}

// cleanList trims each value, collapses its inner white space, and drops blanks and
// duplicates (ignoring case), keeping the first spelling and the order.
func cleanList(in []string) []string {
	var out []string
	var seen map[string]bool // only for long lists: a hostile feed may repeat a tag 100,000 times
	if len(in) > 16 {
		seen = make(map[string]bool, len(in))
	}
	for _, s := range in {
		s = strings.Join(strings.Fields(s), " ")
		if s == "" {
			continue
		}
		if seen != nil {
			key := strings.ToLower(s)
			if seen[key] {
				continue
			}
			seen[key] = true
		} else if slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, s) }) {
			continue
		}
		out = append(out, s)
	}
	return out
}

// excerpt returns text cut to at most n runes, at the last space if there is one in the second
// half of the cut, with "…" appended when anything was cut.
func excerpt(text string, n int) string {
	i, count := 0, 0
	for i < len(text) && count < n {
		_, size := utf8.DecodeRuneInString(text[i:])
		i += size
		count++
	}
	if i >= len(text) {
		return text
	}
	cut := text[:i]
	if sp := strings.LastIndexFunc(cut, unicode.IsSpace); sp > len(cut)/2 {
		cut = cut[:sp]
	}
	return strings.TrimRightFunc(cut, func(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune(",;:-–—", r) }) + "…"
}
