package parse

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestParseTruncated cuts feeds at many points and checks that each cut yields exactly the
// items that were complete before it, as the whole feed has them, and says it was partial.
func TestParseTruncated(t *testing.T) {
	tests := []struct {
		file, endTag, kind string
	}{
		{"newswatch/world-news.rss", "</item>", "RSS"},
		{"newswatch/asia-wire.atom", "</entry>", "Atom"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			full := readFeed(t, tc.file)
			whole := mustParse(t, full, "", feedURL)
			if whole.Partial != nil {
				t.Fatalf("whole feed: Partial = %v", whole.Partial)
			}
			root := bytes.Index(full, []byte("<channel>"))
			if root < 0 {
				root = bytes.Index(full, []byte("<title"))
			}
			for n := root + 10; n < len(full)-1; n += 193 {
				f, err := Parse(full[:n], "", feedURL)
				if err != nil {
					// Nothing to read yet: cut before the feed's title and first item.
					if bytes.Contains(full[:n], []byte("</title>")) {
						t.Fatalf("cut at %d: %v", n, err)
					}
					continue
				}
				want := bytes.Count(full[:n], []byte(tc.endTag))
				if len(f.Items) != want {
					t.Fatalf("cut at %d: %d items, want the %d complete ones", n, len(f.Items), want)
				}
				for i, it := range f.Items {
					w := whole.Items[i]
					if it.Title != w.Title || it.Link != w.Link || it.GUID != w.GUID || it.Content != w.Content {
						t.Fatalf("cut at %d: item %d = %+v, want %+v", n, i, it, w)
					}
				}
				if f.Partial == nil || !strings.HasPrefix(f.Partial.Error(), "parse: broken or truncated "+tc.kind+" document: ") {
					t.Fatalf("cut at %d: Partial = %v", n, f.Partial)
				}
			}
		})
	}
}

func TestParseBroken(t *testing.T) {
	tests := []struct {
		name, doc string
		items     int
		title     string
		partial   string // prefix; "" for none
	}{
		{"json cut in an item", `{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[{"id":"1","title":"one"},{"id":"2","tit`,
			1, "J", "parse: broken or truncated JSON Feed document: "},
		{"json cut between items", `{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"1"},`, 1, "", "parse: broken or truncated JSON Feed document: "},
		{"json cut before items", `{"version":"https://jsonfeed.org/version/1.1","title":"J","ite`, 0, "J", "parse: broken or truncated JSON Feed document: "},
		{"last end tag cut", `<rss><channel><title>T</title><item><title>a</title></item></channel></rss`, 1, "T", "parse: broken or truncated RSS document: "},
		{"syntax error mid-feed", `<rss><channel><title>T</title><item><title>a</title></item><item><title>b</title></item><item><title>c<</title></item></channel></rss>`,
			2, "T", "parse: broken or truncated RSS document: "},
		{"control characters", "<rss><channel><title>T\x0c</title><item><title>a\x01b</title></item><item><title>c\uFFFF</title></item></channel></rss>", 2, "T\uFFFD", ""},
		{"rdf cut", `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><channel><title>R</title></channel><item><title>a</title><link>http://x.example/a</link></item><item><title>b</ti`,
			1, "R", "parse: broken or truncated RSS document: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := mustParse(t, []byte(tc.doc), "", feedURL)
			if len(f.Items) != tc.items || f.Title != tc.title {
				t.Errorf("%d items, title %q; want %d, %q", len(f.Items), f.Title, tc.items, tc.title)
			}
			switch {
			case tc.partial == "" && f.Partial != nil:
				t.Errorf("Partial = %v, want nil", f.Partial)
			case tc.partial != "" && (f.Partial == nil || !strings.HasPrefix(f.Partial.Error(), tc.partial)):
				t.Errorf("Partial = %v, want prefix %q", f.Partial, tc.partial)
			}
		})
	}
	if f := mustParse(t, []byte("<rss><channel><title>T\x0c</title><item><title>a\x01b</title></item></channel></rss>"), "", ""); f.Items[0].Title != "a\uFFFDb" {
		t.Errorf("control character: title %q", f.Items[0].Title)
	}
	cdata := mustParse(t, readFeed(t, "feedparser/tests/illformed/rss_incomplete_cdata.xml"), "", "")
	if cdata.Title != "can feedparser read this xml" || len(cdata.Items) != 0 || cdata.Partial == nil {
		t.Errorf("incomplete CDATA: title %q, %d items, Partial %v", cdata.Title, len(cdata.Items), cdata.Partial)
	}
	for _, doc := range []string{`<?xml version="1.0"?><rss versi`, `<rss><chan`, `{"versi`} {
		if f, err := Parse([]byte(doc), "", feedURL); err == nil {
			t.Errorf("%q: nothing to read, but Parse = %+v", doc, f)
		}
	}
}

// heapGrowth runs f and returns how much the live heap grew at most while it ran, sampled
// every millisecond, and how long f took.
func heapGrowth(f func()) (peak uint64, took time.Duration) {
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	done := make(chan struct{})
	sampled := make(chan uint64)
	go func() {
		var m runtime.MemStats
		var top uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&m)
			top = max(top, m.HeapAlloc)
			select {
			case <-done:
				sampled <- top
				return
			case <-tick.C:
			}
		}
	}()
	start := time.Now()
	f()
	took = time.Since(start)
	close(done)
	top := <-sampled
	if top < base.HeapAlloc {
		return 0, took
	}
	return top - base.HeapAlloc, took
}

// TestParseHugeFeed parses a 7 MB feed with 100,000 items: Parse reads the first MaxItems,
// in bounded time and memory, and says so.
func TestParseHugeFeed(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Huge</title>`)
	for i := range 100_000 {
		fmt.Fprintf(&b, "<item><title>Item %d</title><link>https://huge.example/%d</link><pubDate>Tue, 16 Jul 2024 06:28:00 GMT</pubDate></item>\n", i, i)
	}
	b.WriteString(`</channel></rss>`)
	doc := b.Bytes()
	var f *Feed
	var err error
	peak, took := heapGrowth(func() { f, err = Parse(doc, "application/rss+xml", feedURL) })
	t.Logf("%d MB, 100,000 items: %s, heap grew by at most %d MB", len(doc)>>20, took, peak>>20)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Items) != MaxItems || f.Items[MaxItems-1].Title != fmt.Sprint("Item ", MaxItems-1) {
		t.Errorf("%d items, want the first %d", len(f.Items), MaxItems)
	}
	if f.Partial == nil || !strings.Contains(f.Partial.Error(), "100000 items, more than 10000") {
		t.Errorf("Partial = %v", f.Partial)
	}
	// Without the race detector it takes about 0.2 s and 60 MB; with it, a few times that.
	if took > 20*time.Second || peak > 512<<20 {
		t.Errorf("took %s and %d MB of heap", took, peak>>20)
	}
}

// TestParseDeepNesting feeds documents nested a million levels deep (7 to 11 MB, the size
// the fetcher allows) in the places parsers recurse: extension elements, unknown elements,
// XHTML content, and an element never closed.
func TestParseDeepNesting(t *testing.T) {
	const depth = 1_000_000
	head := `<rss xmlns:x="urn:x"><channel><title>Deep</title><item><title>before</title></item><item><title>bomb</title>`
	tests := []struct {
		name, doc string
	}{
		{"extension elements", head + strings.Repeat("<x:a>", depth) + strings.Repeat("</x:a>", depth) + `</item></channel></rss>`},
		{"unknown elements", head + strings.Repeat("<a>", depth) + strings.Repeat("</a>", depth) + `</item></channel></rss>`},
		{"never closed", head + strings.Repeat("<a>", depth)},
		{"atom xhtml", `<feed xmlns="http://www.w3.org/2005/Atom"><title>Deep</title><entry><title>before</title></entry><entry><content type="xhtml">` +
			strings.Repeat("<div>", depth) + strings.Repeat("</div>", depth) + `</content></entry></feed>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f *Feed
			var err error
			peak, took := heapGrowth(func() { f, err = Parse([]byte(tc.doc), "", feedURL) })
			if err != nil {
				t.Fatal(err)
			}
			if f.Title != "Deep" || len(f.Items) != 1 || f.Items[0].Title != "before" {
				t.Errorf("title %q, %d items; want the item before the deep one", f.Title, len(f.Items))
			}
			if f.Partial == nil {
				t.Error("Partial = nil")
			}
			if took > 5*time.Second || peak > 64<<20 {
				t.Errorf("took %s and %d MB of heap", took, peak>>20)
			}
		})
	}
}

func TestXMLShape(t *testing.T) {
	tests := []struct {
		doc   string
		deep  bool
		items int
	}{
		{`<rss><channel><item/><item></item><item><title>x</title></item></channel></rss>`, false, 2},
		{`<feed><atom:entry></atom:entry><entry><![CDATA[</entry><a><a><a><a>]]></entry><!-- </entry> --></feed>`, false, 2},
		{`<?xml version="1.0"?><!DOCTYPE rss><rss><a><b><c><d>`, true, 0},
		{`<rss><br><br><br/><br/>`, false, 0},
		{`<rss><br><br><br><br>`, true, 0},
	}
	for _, tc := range tests {
		deep, items := xmlShape([]byte(tc.doc), 4)
		if deep != tc.deep || items != tc.items {
			t.Errorf("xmlShape(%q) = %v, %d; want %v, %d", tc.doc, deep, items, tc.deep, tc.items)
		}
	}
}

func TestAtomFixups(t *testing.T) {
	f := mustParse(t, []byte(`<?xml version="1.0"?><feed version="0.3" xmlns="http://purl.org/echo/"><title>Echo</title><entry><title type="text/html" mode="base64">PGI+Qm9sZDwvYj4gJmFtcDsgbW9yZQ==</title></entry></feed>`), "", "")
	if f.Title != "Echo" || len(f.Items) != 1 || f.Items[0].Title != "<b>Bold</b> &amp; more" {
		t.Errorf("title %q, items %+v", f.Title, f.Items)
	}
	for _, doc := range []string{`<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>`, `<rss xmlns="urn:x"/>`} {
		if got := string(fixAtomNamespace([]byte(doc))); got != doc {
			t.Errorf("fixAtomNamespace(%q) = %q", doc, got)
		}
	}
}

// firstForbiddenBytewise is firstForbiddenXMLByte a byte at a time.
func firstForbiddenBytewise(b []byte) int {
	for i, c := range b {
		if forbiddenXMLByte(b, i, c) {
			return i
		}
	}
	return -1
}

// BenchmarkFirstForbiddenXMLByte scans a 440 KB feed without a forbidden character, as
// xmlChars does for every document: eight bytes at a time, and a byte at a time.
func BenchmarkFirstForbiddenXMLByte(b *testing.B) {
	doc := benchFeed(20, 22000)
	for _, c := range []struct {
		name string
		scan func([]byte) int
	}{{"words", firstForbiddenXMLByte}, {"bytewise", firstForbiddenBytewise}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				if c.scan(doc) >= 0 {
					b.Fatal("found a forbidden character")
				}
			}
		})
	}
}

// TestFirstForbiddenXMLByte puts each forbidden character, and characters next to them that
// are allowed, at every offset of a buffer: the word-at-a-time scan must find what a byte at
// a time finds.
func TestFirstForbiddenXMLByte(t *testing.T) {
	for _, seq := range []string{"\x00", "\x0b", "\x1f", "\uFFFE", "\uFFFF", "\t", "\n", "\r", " ", "\x7f", "\uFEFF", "\uFFFD", "\u00ef", "\xef", "\xef\xbf"} {
		for size := 1; size <= 24; size++ {
			for at := 0; at+len(seq) <= size; at++ {
				b := bytes.Repeat([]byte("a"), size)
				copy(b[at:], seq)
				if got, want := firstForbiddenXMLByte(b), firstForbiddenBytewise(b); got != want {
					t.Fatalf("%q at %d of %d bytes: %d, want %d", seq, at, size, got, want)
				}
			}
		}
	}
}
