package normalize

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/feeds/parse"
)

// Field caps: the most bytes of each article field newswatch keeps. Real news items stay far
// below them; an item over one is cut (at a character boundary) and counted, so one hostile
// item can neither block its feed nor grow the article stream without bound. With these caps
// an article event stays well under the 1 MiB max_payload of a default NATS server.
const (
	MaxTitleBytes    = 2 << 10
	MaxURLBytes      = 4 << 10 // URL, Link and GUID each
	MaxSummaryBytes  = 16 << 10
	MaxContentBytes  = 256 << 10
	MaxListItemBytes = 256 // one author or category
	MaxListItems     = 32  // authors, categories
)

// rawSlack is how much longer than a cap a raw (HTML) field may be before normalizing: markup
// and entities shrink when turned into text, but nothing is worth decoding megabytes for.
const rawSlack = 4

// CapItem cuts an item's raw fields to a few times the caps before normalizing, so that the
// cost of normalizing a hostile item is bounded too. It reports the fields it cut.
func CapItem(it parse.Item) (parse.Item, []string) {
	var cut []string
	capRaw := func(name string, s *string, limit int) {
		if len(*s) > limit*rawSlack {
			*s = truncate(*s, limit*rawSlack)
			cut = append(cut, name)
		}
	}
	capRaw("title", &it.Title, MaxTitleBytes)
	capRaw("summary", &it.Summary, MaxSummaryBytes)
	capRaw("content", &it.Content, MaxContentBytes)
	capRaw("link", &it.Link, MaxURLBytes)
	capRaw("guid", &it.GUID, MaxURLBytes)
	if len(it.Authors) > MaxListItems*rawSlack {
		it.Authors, cut = it.Authors[:MaxListItems*rawSlack], append(cut, "authors")
	}
	if len(it.Categories) > MaxListItems*rawSlack {
		it.Categories, cut = it.Categories[:MaxListItems*rawSlack], append(cut, "categories")
	}
	return it, cut
}

// CapArticle cuts each field of a normalized article to its cap and reports the fields it
// cut. The id is not touched: it was derived before, from the link or guid as given.
func CapArticle(a events.Article) (events.Article, []string) {
	var cut []string
	capField := func(name string, s *string, limit int) {
		if len(*s) > limit {
			*s = truncate(*s, limit)
			cut = append(cut, name)
		}
	}
	capField("title", &a.Title, MaxTitleBytes)
	capField("summary", &a.Summary, MaxSummaryBytes)
	capField("content", &a.Content, MaxContentBytes)
	capField("url", &a.URL, MaxURLBytes)
	capField("link", &a.Link, MaxURLBytes)
	capField("guid", &a.GUID, MaxURLBytes)
	a.Authors = capList("authors", a.Authors, &cut)
	a.Categories = capList("categories", a.Categories, &cut)
	return a, cut
}

func capList(name string, in []string, cut *[]string) []string {
	over := len(in) > MaxListItems
	if over {
		in = in[:MaxListItems]
	}
	copied := false
	for i, s := range in {
		if len(s) > MaxListItemBytes {
			if !copied {
				in, copied = append([]string(nil), in...), true // keep the caller's slice
			}
			in[i], over = truncate(s, MaxListItemBytes), true
		}
	}
	if over {
		*cut = append(*cut, name)
	}
	return in
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.Clone(s[:n]) // let the rest of a huge field be collected
}

// OversizeError says which fields of an item were over their caps.
func OversizeError(n int, fields []string) error {
	return fmt.Errorf("%d item(s) over a field cap, cut: %s", n, strings.Join(fields, ", "))
}
