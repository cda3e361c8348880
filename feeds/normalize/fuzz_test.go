package normalize

import (
	"flag"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/newswatch/newswatch/feeds/parse"
)

// seedFeeds returns every document in testdata, the whole feed corpus (see corpusDocs).
// When fuzzing, it returns every eighth, and all of newswatch's own: the engine runs each
// seed with coverage before it starts, about 7 ms apiece, and the whole corpus would spend
// most of a short fuzzing run on that.
func seedFeeds(f *testing.F) [][]byte {
	f.Helper()
	fl := flag.Lookup("test.fuzz")
	return readCorpus(f, fl != nil && fl.Value.String() != "")
}

func readCorpus(f *testing.F, sample bool) [][]byte {
	f.Helper()
	var docs [][]byte
	for i, path := range corpusDocs(f) {
		if sample && i%8 != 0 && !strings.Contains(path, "newswatch") {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		docs = append(docs, b)
	}
	return docs
}

// seedURLs returns the feed and item links of every feed in testdata, as written and as
// resolved, for FuzzCanonicalURL.
func seedURLs(f *testing.F) []string {
	f.Helper()
	seen := map[string]bool{}
	var urls []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			urls = append(urls, s)
		}
	}
	for _, doc := range readCorpus(f, false) {
		feed, err := parse.Parse(doc, "", "")
		if err != nil {
			continue
		}
		add(feed.Link)
		for _, it := range feed.Items {
			add(it.Link)
			add(it.GUID)
		}
	}
	if len(urls) < 100 {
		f.Fatalf("only %d URLs in the corpus", len(urls))
	}
	return urls
}

// FuzzParseNormalize parses a document and normalizes every item. Besides not panicking,
// the articles must keep the promises the rest of newswatch relies on.
func FuzzParseNormalize(f *testing.F) {
	for _, doc := range seedFeeds(f) {
		f.Add(doc, "")
	}
	f.Add([]byte(`<?xml version="1.0" encoding="koi8-r"?><rss><channel><item><title>\xc1</title></item></channel></rss>`), "text/xml; charset=cp1251")
	f.Add([]byte("\xff\xfe<\x00r\x00"), "")
	now := time.Date(2024, 7, 20, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		feed, err := parse.Parse(body, contentType, "https://news.example.com/feeds/world.rss")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "parse: ") {
				t.Fatalf("error without the parse: prefix: %v", err)
			}
			return
		}
		for _, it := range feed.Items {
			a, err := Article("fuzz", feed.Language, it, now)
			if err != nil {
				continue
			}
			if len(a.ID) != 32 {
				t.Fatalf("id %q", a.ID)
			}
			if a.URL != "" {
				if c, err := CanonicalURL(a.URL); err != nil || c != a.URL {
					t.Fatalf("URL %q is not canonical: %q, %v", a.URL, c, err)
				}
			}
			for _, s := range []string{a.Title, a.Summary, a.Content} {
				if !utf8.ValidString(s) || s != strings.TrimSpace(s) || strings.Contains(s, "  ") {
					t.Fatalf("text not clean: %q", s)
				}
			}
			if a.PublishedAt.Location() != time.UTC || a.PublishedAt.After(now.Add(MaxFutureSkew)) {
				t.Fatalf("published_at %v", a.PublishedAt)
			}
		}
	})
}

// FuzzCanonicalURL checks that canonical URLs are fixed points and are absolute http(s)
// URLs without fragment.
func FuzzCanonicalURL(f *testing.F) {
	for _, s := range []string{
		"https://example.com/a?utm_source=x&id=1#frag",
		"HTTP://Example.COM:80",
		"http://[2001:db8::1]:8080/a?b",
		"https://bücher.example/straße?q=ä",
		"https://user:p%40ss@example.com/a%2Fb;x=1?a=%zz&&utm_medium=y",
		"http://[fe80::1%25en0]/", // an error: zones are refused
		"https://example.com/a b?c d",
		"https://example.com./",
	} {
		f.Add(s)
	}
	for _, s := range seedURLs(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := CanonicalURL(raw)
		if err != nil {
			return
		}
		again, err := CanonicalURL(c)
		if err != nil || again != c {
			t.Fatalf("CanonicalURL(%q) = %q, then %q, %v", raw, c, again, err)
		}
		u, err := url.Parse(c)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" || strings.Contains(c, "#") {
			t.Fatalf("CanonicalURL(%q) = %q: not an absolute http(s) URL without fragment (%v)", raw, c, err)
		}
	})
}
