package normalize

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/newswatch/newswatch/feeds/parse"
)

// result answers feedparser paths from one parser's output, normalized for comparing.
type result struct {
	value func(p []any, norm string) string
}

// conformanceNow is the time Article takes as "now": after every date in the corpus.
var conformanceNow = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func newswatchResult(body []byte, contentType, docURL string) result {
	f, err := parse.Parse(body, contentType, docURL)
	return result{func(p []any, norm string) string {
		if err != nil {
			return ""
		}
		switch norm {
		case "feed.title", "feed.title_detail.value":
			return Text(f.Title)
		case "feed.link":
			return f.Link
		case "feed.language":
			return f.Language
		case "encoding":
			return canonicalEncoding(f.Encoding)
		case "len(entries)":
			return strconv.Itoa(len(f.Items))
		}
		i := index(p, 1)
		if i < 0 || i >= len(f.Items) {
			return ""
		}
		it := f.Items[i]
		if norm == "entries.#.id" || norm == "entries.#.guid" {
			return it.GUID
		}
		a, err := Article("conformance", f.Language, it, conformanceNow)
		if err != nil {
			// The poller drops an item without link, guid or title; give it a guid so
			// that its other fields are still compared.
			it.GUID = "placeholder"
			a, _ = Article("conformance", f.Language, it, conformanceNow)
		}
		switch norm {
		case "entries.#.title", "entries.#.title_detail.value":
			return a.Title
		case "entries.#.link":
			return a.Link
		case "entries.#.published_parsed":
			return timeString(it.Published)
		case "entries.#.updated_parsed":
			return timeString(it.Updated)
		case "entries.#.summary", "entries.#.description", "entries.#.summary_detail.value":
			return a.Summary
		case "entries.#.content.#.value":
			return a.Content
		case "entries.#.author", "entries.#.author_detail.name":
			return first(a.Authors)
		case "entries.#.tags.#.term":
			return nth(a.Categories, index(p, 3))
		case "entries.#.language":
			return a.Language
		}
		return ""
	}}
}

// gofeedResult answers the same paths from gofeed's own output, with the same text
// normalization, for the comparison figure. gofeed reports no encoding.
func gofeedResult(body []byte) result {
	f, err := gofeed.NewParser().Parse(bytes.NewReader(body))
	return result{func(p []any, norm string) string {
		if err != nil {
			return ""
		}
		switch norm {
		case "feed.title", "feed.title_detail.value":
			return Text(f.Title)
		case "feed.link":
			return f.Link
		case "feed.language":
			return f.Language
		case "len(entries)":
			return strconv.Itoa(len(f.Items))
		}
		i := index(p, 1)
		if i < 0 || i >= len(f.Items) {
			return ""
		}
		it := f.Items[i]
		switch norm {
		case "entries.#.title", "entries.#.title_detail.value":
			return Text(it.Title)
		case "entries.#.link":
			return it.Link
		case "entries.#.id", "entries.#.guid":
			return it.GUID
		case "entries.#.published_parsed":
			return timeString(it.PublishedParsed)
		case "entries.#.updated_parsed":
			return timeString(it.UpdatedParsed)
		case "entries.#.summary", "entries.#.description", "entries.#.summary_detail.value":
			return Text(it.Description)
		case "entries.#.content.#.value":
			return Text(it.Content)
		case "entries.#.author", "entries.#.author_detail.name":
			if len(it.Authors) > 0 && it.Authors[0] != nil {
				return strings.TrimSpace(it.Authors[0].Name)
			}
		case "entries.#.tags.#.term":
			return nth(it.Categories, index(p, 3))
		case "entries.#.language":
			if it.DublinCoreExt != nil {
				return first(it.DublinCoreExt.Language)
			}
		}
		return ""
	}}
}

func index(p []any, i int) int {
	if i < len(p) {
		if f, ok := p[i].(float64); ok {
			return int(f)
		}
	}
	return -1
}

func first(s []string) string { return nth(s, 0) }

func nth(s []string, i int) string {
	if i < 0 || i >= len(s) {
		return ""
	}
	return s[i]
}

func timeString(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}
