package parse

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newswatch/newswatch/feeds/fetch"
)

// testdata is the repository's feed corpus (see its README.md).
const testdata = "../../testdata/feeds"

const feedURL = "https://news.example.com/feeds/world.rss"

func readFeed(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t *testing.T, body []byte, contentType, url string) *Feed {
	t.Helper()
	f, err := Parse(body, contentType, url)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

// itemWant is what a test expects of one item; empty fields are not checked, except that
// published "-" means no date.
type itemWant struct {
	i                  int
	title, link, guid  string
	perma              bool
	published, updated string // RFC 3339, "-" for none
}

// testdataCases are the expected parses of the testdata feeds.
var testdataCases = []struct {
	file, contentType, url string
	title, link, lang      string
	items                  int
	want                   []itemWant
}{
	{file: "newswatch/world-news.rss", url: feedURL, title: "Example News – World",
		link: "https://news.example.com/world/", lang: "en-gb", items: 20, want: []itemWant{
			{i: 0, title: "North Korean shells found in Russian arsenals, Seoul says",
				link: "https://news.example.com/world/2024/07/dprk-shells-russia", perma: true,
				guid: "https://news.example.com/world/2024/07/dprk-shells-russia", published: "2024-07-16T01:15:00Z"},
			{i: 1, guid: "nw-000002", perma: false, link: "https://news.example.com/world/2024/07/kremlin-dprk-talks?utm_source=rss&utm_medium=feed&UTM_Campaign=world&id=42&fbclid=abc#comments"},
			{i: 2, link: "https://news.example.com/world/2024/07/rail-link-tumen"}, // relative link
			{i: 3, published: "-", updated: "-"},
			{i: 4, link: "https://news.example.com/world/2024/07/envoy-visits-pyongyang", perma: true}, // guid as link
			{i: 5, link: "", guid: "urn:uuid:6d1c8f2e-0000-4000-8000-000000000006"},
			{i: 6, title: "Москва и Пхеньян подписали соглашение о военном сотрудничестве"},
			{i: 7, title: "북한군, 러시아 파병 확인"},
			{i: 8, published: "2024-07-16T06:28:00Z"}, // "Tue, 16 Jul, 2024 06:28:00 UTC"
			{i: 9, published: "2024-07-01T00:00:00Z"}, // dc:date 2024-07
			{i: 10, title: "Q&amp;A: what the pact means"},
			{i: 13, published: "2100-01-01T00:00:00Z"},
		}},
	{file: "newswatch/asia-wire.atom", url: "https://www.example.net/news/asia.atom", title: "Example Wire: Asia",
		link: "https://www.example.net/news/asia/", lang: "en-US", items: 3, want: []itemWant{
			{i: 0, link: "https://www.example.net/news/asia/2024/07/defence-pact.html?utm_source=atom",
				guid: "tag:example.net,2024:asia/defence-pact", published: "2024-07-17T22:30:00Z", updated: "2024-07-18T08:00:00Z"},
			{i: 1, link: "https://www.example.net/news/asia/2024/07/border-crossing.html", published: "2024-07-17T00:00:00Z"},
			{i: 2, link: "", published: "2024-07-01T00:00:00Z"},
		}},
	{file: "newswatch/world-news-cp1251.rss", contentType: "application/rss+xml; charset=windows-1251", url: "https://ru.example.com/feeds/world.rss",
		title: "Пример Новости — Мир", link: "https://ru.example.com/world/", lang: "ru", items: 3, want: []itemWant{
			{i: 0, title: "Россия и КНДР провели совместные учения", published: "2024-07-17T06:30:00Z"},
			{i: 2, link: "https://ru.example.com/world/2024/07/eksperty", published: "-"},
		}},
	{file: "newswatch/world-news-cp1251.rss", url: "https://ru.example.com/feeds/world.rss", // no charset: detected
		title: "Пример Новости — Мир", link: "https://ru.example.com/world/", lang: "ru", items: 3, want: []itemWant{
			{i: 0, title: "Россия и КНДР провели совместные учения"},
		}},
	{file: "gofeed/testdata/parser/rss/rss_channel_item_xml_base.xml", url: feedURL, title: "t", items: 1, want: []itemWant{
		{i: 0, title: "i", link: "http://example.org/feeds/post/1"}, // xml:base beats the feed URL
	}},
	{file: "gofeed/testdata/parser/universal/rss_feed_bom.xml", title: "Feed Title", items: 0},
	{file: "gofeed/testdata/translator/atom/feed_item_link_-_atom10_feed_entry_link.xml", items: 1, want: []itemWant{{i: 0, link: "http://www.example.org"}}},
	{file: "gofeed/testdata/parser/rss/rdf_item_links.xml", items: 1},
	{file: "gofeed/testdata/parser/universal/json11_feed.json", title: "title", link: "https://sample-json-feed.com", items: 1, want: []itemWant{
		{i: 0, title: "title", guid: "id", link: "https://sample-json-feed.com/id",
			published: "2019-10-12T07:20:50.52Z", updated: "2019-10-12T07:20:50.52Z"},
	}},
	{file: "feedparser/tests/json/example.json", title: "My Example Feed", link: "https://example.org/", items: 2, want: []itemWant{
		{i: 0, title: "post 2", guid: "2", link: "https://example.org/second-item", published: "-"},
		{i: 1, guid: "1", link: "https://example.org/initial-post"},
	}},
	{file: "feedparser/tests/wellformed/rdf/rdf_item_link.xml", items: 1, want: []itemWant{{i: 0, link: "http://example.com/1"}}},
	{file: "feedparser/tests/wellformed/rss/item_guid_isPermaLink_map_link.xml", items: 1, want: []itemWant{
		{i: 0, guid: "http://guid.example.com/", perma: true, link: "http://guid.example.com/"},
	}},
	{file: "feedparser/tests/wellformed/rss/item_guid_not_permalink.xml", items: 1, want: []itemWant{
		{i: 0, guid: "http://guid.example.com/", perma: false, link: ""},
	}},
	{file: "feedparser/tests/wellformed/base/http_item_link_base_docuri.xml", url: "http://127.0.0.1:8097/feed.xml", items: 1, want: []itemWant{
		{i: 0, link: "http://127.0.0.1:8097/relative/uri"},
	}},
	{file: "feedparser/tests/encoding/utf-16le-bom.xml", items: 0},
	{file: "feedparser/tests/encoding/utf-16be-autodetect.xml", items: 0},
	{file: "feedparser-x80/tests/encoding/x80_koi8-r.xml", title: "\u2500", items: 0},
	{file: "feedparser-x80/tests/encoding/x80_windows-1251.xml", title: "\u0402", items: 0},
}

func TestParseTestdata(t *testing.T) {
	for _, tc := range testdataCases {
		t.Run(tc.file, func(t *testing.T) {
			f := mustParse(t, readFeed(t, tc.file), tc.contentType, tc.url)
			if f.Title != tc.title || f.Link != tc.link || f.Language != tc.lang {
				t.Errorf("feed = %q %q %q, want %q %q %q", f.Title, f.Link, f.Language, tc.title, tc.link, tc.lang)
			}
			if len(f.Items) != tc.items {
				t.Fatalf("%d items, want %d", len(f.Items), tc.items)
			}
			for _, w := range tc.want {
				checkItem(t, f.Items[w.i], w)
			}
		})
	}
}

func checkItem(t *testing.T, it Item, w itemWant) {
	t.Helper()
	if w.title != "" && it.Title != w.title {
		t.Errorf("item %d title = %q, want %q", w.i, it.Title, w.title)
	}
	if (w.link != "" || w.guid != "") && it.Link != w.link {
		t.Errorf("item %d link = %q, want %q", w.i, it.Link, w.link)
	}
	if w.guid != "" && (it.GUID != w.guid || it.GUIDIsPermaLink != w.perma) {
		t.Errorf("item %d guid = %q permalink %v, want %q %v", w.i, it.GUID, it.GUIDIsPermaLink, w.guid, w.perma)
	}
	checkTime(t, "published", it.Published, w.published)
	checkTime(t, "updated", it.Updated, w.updated)
}

func checkTime(t *testing.T, what string, got *time.Time, want string) {
	t.Helper()
	switch {
	case want == "":
	case want == "-" && got != nil:
		t.Errorf("%s = %v, want none", what, got)
	case want == "-":
	case got == nil:
		t.Errorf("%s = nil, want %s", what, want)
	case got.Location() != time.UTC:
		t.Errorf("%s = %v, not in UTC", what, got)
	case got.Format(time.RFC3339Nano) != want:
		t.Errorf("%s = %s, want %s", what, got.Format(time.RFC3339Nano), want)
	}
}

func TestParseItemFields(t *testing.T) {
	f := mustParse(t, readFeed(t, "newswatch/world-news.rss"), "application/rss+xml", feedURL)
	it := f.Items[0]
	if !strings.Contains(it.Content, "<p>The Kremlin declined") || !strings.Contains(it.Summary, `Pyongyang’s shipments & "advisers"`) {
		t.Errorf("content/summary not raw HTML: %q / %q", it.Content, it.Summary)
	}
	if strings.Join(it.Authors, "|") != "Kim Min-jun" || strings.Join(it.Categories, "|") != "World|Asia" {
		t.Errorf("authors %q categories %q", it.Authors, it.Categories)
	}
	if got := f.Items[11].Authors; len(got) != 1 || got[0] != "Jane Roe" {
		t.Errorf("RSS <author> = %q, want [Jane Roe]", got)
	}
	atom := mustParse(t, readFeed(t, "newswatch/asia-wire.atom"), "", "")
	if got := atom.Items[1].Authors; len(got) != 1 || got[0] != "desk@example.net" {
		t.Errorf("author without name = %q, want the e-mail address", got)
	}
	if got := strings.Join(atom.Items[0].Categories, "|"); got != "Asia|defence" {
		t.Errorf("atom categories = %q, want label else term", got)
	}
	// No http(s) feed URL: relative links resolve against the feed's site link.
	if got := atom.Items[0].Link; got != "https://www.example.net/news/asia/2024/07/defence-pact.html?utm_source=atom" {
		t.Errorf("link without feed URL = %q", got)
	}
	ru := mustParse(t, readFeed(t, "newswatch/world-news-cp1251.rss"), "text/xml; charset=windows-1251", "file:///srv/feeds/ru.xml")
	if got := ru.Items[2].Link; got != "https://ru.example.com/world/2024/07/eksperty" {
		t.Errorf("file:// feed: relative link = %q, want it resolved against the site link", got)
	}
}

func TestParseJSONFeedPlainText(t *testing.T) {
	doc := `{"version":"https://jsonfeed.org/version/1.1","title":"J","language":"en",
	  "items":[{"id":"1","url":"/a","title":"a < b & c","summary":"x <y>","content_text":"1 < 2","language":"ko","date_published":"2024-07"},
	           {"id":"2","external_url":"https://elsewhere.example/x","content_html":"<p>hi</p>"}]}`
	f := mustParse(t, []byte(doc), "application/feed+json", "https://j.example/feed.json")
	it := f.Items[0]
	if it.Title != "a &lt; b &amp; c" || it.Summary != "x &lt;y&gt;" || it.Content != "1 &lt; 2" {
		t.Errorf("plain-text fields not escaped: %q %q %q", it.Title, it.Summary, it.Content)
	}
	if it.Language != "ko" || f.Language != "en" {
		t.Errorf("languages = %q / %q", it.Language, f.Language)
	}
	if it.Link != "https://j.example/a" {
		t.Errorf("relative url = %q", it.Link)
	}
	checkTime(t, "published", it.Published, "2024-07-01T00:00:00Z")
	if got := f.Items[1]; got.Link != "https://elsewhere.example/x" || got.Content != "<p>hi</p>" {
		t.Errorf("external_url item: link %q content %q", got.Link, got.Content)
	}
}

func TestParseNotAFeed(t *testing.T) {
	tests := []struct {
		name, body, contentType, wantMsg string
	}{
		{"html page", string(readFeed(t, "newswatch/world-page.html")), "text/html; charset=utf-8",
			"parse: not a feed (HTML page); it links a feed at https://news.example.com/feeds/world.rss"},
		{"html sniffed", `<html><head><base href="https://cdn.example.org/x/"><link rel="Alternate Feed" type="Application/Atom+XML" href="atom.xml"></head></html>`, "",
			"parse: not a feed (HTML page); it links a feed at https://cdn.example.org/x/atom.xml"},
		{"html without feed", `<!DOCTYPE html><title>Hi</title><body><link rel=alternate type=application/rss+xml href=/late.rss>`, "text/html",
			"parse: not a feed (HTML page, and it links no feed)"},
		{"empty", "", "", "parse: not a feed: empty document"},
		{"blank", " \r\n\t", "", "parse: not a feed: empty document"},
		{"garbage", "hello world", "text/plain", `parse: not a feed (no RSS, Atom or JSON Feed document; it starts with "hello world")`},
		{"other xml", `<?xml version="1.0"?><sitemap/>`, "", "parse: not a feed"},
		{"json api error", `{"error":"rate limited"}`, "application/json", "parse: not a feed (JSON without JSON Feed fields)"},
		{"binary", "\x89PNG\r\n\x1a\n\x00\x00", "image/png", "parse: not a feed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse([]byte(tc.body), tc.contentType, feedURL)
			if !errors.Is(err, ErrNotAFeed) || f != nil {
				t.Fatalf("Parse = %v, %v; want ErrNotAFeed", f, err)
			}
			if !strings.HasPrefix(err.Error(), tc.wantMsg) {
				t.Errorf("error = %q, want prefix %q", err, tc.wantMsg)
			}
		})
	}
}

// TestParseHTMLPageServed fetches a site's HTML page, as a user who configured the page
// instead of its feed gets it, and parses it: a not-a-feed error naming the feed to use.
func TestParseHTMLPageServed(t *testing.T) {
	page := readFeed(t, "newswatch/world-page.html")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	}))
	defer srv.Close()
	f := fetch.New(fetch.Config{AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	defer f.CloseIdleConnections()
	resp, err := f.Fetch(t.Context(), fetch.Request{URL: srv.URL + "/world/"})
	if err != nil {
		t.Fatal(err)
	}
	feed, err := Parse(resp.Body, resp.ContentType, resp.FinalURL)
	if !errors.Is(err, ErrNotAFeed) || feed != nil {
		t.Fatalf("Parse = %v, %v; want ErrNotAFeed", feed, err)
	}
	if want := "parse: not a feed (HTML page); it links a feed at " + srv.URL + "/feeds/world.rss"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}
