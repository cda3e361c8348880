package main

import (
	"bytes"
	"fmt"
	"html"
	"math/rand/v2"
	"net/http"
	"time"
)

// corpus generates the benchmark's feeds: feed f at version v is an RSS 2.0 document whose
// items are numbered v+items-1 down to v, newest first, so each version adds one item and drops
// the oldest. Every item is a pure function of (feed, item number): the same bytes on every
// request and in every run, so two readers (newswatch, Miniflux, a bare parser) see the same
// files without any being stored.
type corpus struct {
	items    int
	itemSize int
}

// epoch is the publication time of item 0 of every feed; item n is n×10 minutes later.
var epoch = time.Date(2026, 1, 5, 6, 0, 0, 0, time.UTC)

var words = []string{
	"government", "minister", "election", "parliament", "talks", "ceasefire", "market", "shares",
	"inflation", "central", "bank", "rates", "storm", "flooding", "coast", "rescue", "officials",
	"said", "on", "Tuesday", "after", "the", "report", "a", "new", "agreement", "between", "and",
	"energy", "prices", "rose", "fell", "percent", "analysts", "expect", "further", "pressure",
	"in", "of", "to", "with", "court", "ruling", "appeal", "protest", "capital", "thousands",
	"police", "investigation", "company", "results", "quarter", "profit", "workers", "strike",
	"union", "summit", "leaders", "trade", "tariffs", "exports", "shipping", "port", "health",
	"hospital", "vaccine", "outbreak", "scientists", "study", "climate", "emissions", "targets",
}

var places = []string{"Berlin", "Lagos", "Jakarta", "Lima", "Seoul", "Nairobi", "Oslo", "Quito", "Manila", "Kyiv"}

// lastModified is when version v of a feed last changed: its newest item's time.
func (c corpus) lastModified(v int) time.Time {
	return epoch.Add(time.Duration(v+c.items-1) * 10 * time.Minute)
}

// etag is version v's entity tag.
func (c corpus) etag(feed, v int) string { return fmt.Sprintf(`"f%d-v%d"`, feed, v) }

// doc renders version v of feed f.
func (c corpus) doc(feed, v int) []byte {
	var b bytes.Buffer
	b.Grow(c.items*c.itemSize + 1024)
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>Bench Wire %d</title>
<link>https://wire%d.bench.example/</link>
<atom:link href="https://wire%d.bench.example/feed.xml" rel="self" type="application/rss+xml"/>
<description>World news from bench wire %d</description>
<language>en</language>
<lastBuildDate>%s</lastBuildDate>
`, feed, feed, feed, feed, c.lastModified(v).Format(time.RFC1123Z))
	for n := v + c.items - 1; n >= v; n-- {
		c.item(&b, feed, n)
	}
	b.WriteString("</channel>\n</rss>\n")
	return b.Bytes()
}

// item writes item n of a feed: a title, a summary, an HTML body (paragraphs, links,
// emphasis, an image) filled to about itemSize bytes, an author and categories.
func (c corpus) item(b *bytes.Buffer, feed, n int) {
	r := rand.New(rand.NewPCG(uint64(feed), uint64(n)))
	start := b.Len()
	place := places[r.IntN(len(places))]
	title := fmt.Sprintf("%s: %s %s %s as %s %s", place, sentence(r, 3), "&", sentence(r, 2), sentence(r, 3), "say")
	link := fmt.Sprintf("https://wire%d.bench.example/%s/story-%d-%d", feed, place, feed, n)
	fmt.Fprintf(b, "<item>\n<title>%s</title>\n<link>%s</link>\n<guid isPermaLink=\"false\">wire%d-%d</guid>\n",
		html.EscapeString(title), link, feed, n)
	fmt.Fprintf(b, "<pubDate>%s</pubDate>\n<dc:creator>Reporter %d</dc:creator>\n<category>%s</category><category>World</category>\n",
		epoch.Add(time.Duration(n)*10*time.Minute).Format(time.RFC1123Z), r.IntN(40), place)
	summary := fmt.Sprintf("<p>%s. <em>%s</em>.</p>", sentence(r, 25), sentence(r, 8))
	fmt.Fprintf(b, "<description>%s</description>\n<content:encoded><![CDATA[", html.EscapeString(summary))
	fmt.Fprintf(b, `<figure><img src="https://img.bench.example/%d/%d.jpg" alt="%s" width="800" height="450"/></figure>`, feed, n, place)
	para := 0
	for b.Len()-start < c.itemSize-200 {
		para++
		fmt.Fprintf(b, "\n<p>%s, <a href=\"https://wire%d.bench.example/topic/%s\">%s</a> %s. <strong>%s</strong> %s.</p>",
			sentence(r, 18), feed, words[r.IntN(len(words))], sentence(r, 3), sentence(r, 20), sentence(r, 4), sentence(r, 16))
		if para%4 == 0 {
			fmt.Fprintf(b, "\n<h2>%s</h2>\n<ul><li>%s</li><li>%s</li></ul>", sentence(r, 5), sentence(r, 9), sentence(r, 9))
		}
	}
	b.WriteString("]]></content:encoded>\n</item>\n")
}

func sentence(r *rand.Rand, n int) string {
	var b bytes.Buffer
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[r.IntN(len(words))])
	}
	return b.String()
}

// header sets a version's validators and type on a response.
func (c corpus) header(h http.Header, feed, v int) {
	h.Set("Content-Type", "application/rss+xml; charset=utf-8")
	h.Set("ETag", c.etag(feed, v))
	h.Set("Last-Modified", c.lastModified(v).Format(http.TimeFormat))
}
