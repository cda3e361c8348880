package opml_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newswatch/newswatch/feeds/opml"
)

func parseFile(t *testing.T, name string) opml.Document {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := opml.Parse(f, opml.Limits{})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return doc
}

func nothingKnown() opml.Known {
	return opml.Known{IDTaken: func(string) bool { return false }, URLOf: func(string) (string, bool) { return "", false }}
}

// TestReadersExports reads OPML files shaped like the exports of popular readers.
func TestReadersExports(t *testing.T) {
	tests := []struct {
		file     string
		title    string
		ids      []string
		tags     map[string][]string
		problems []string // kind:line
	}{
		{
			file: "miniflux.opml", title: "Miniflux",
			ids:  []string{"hacker-news-front-page", "lwn-net", "bbc-news-world", "le-monde-fr-actualites-et-infos-en-france-et-dans-le-monde", "lenta-ru"},
			tags: map[string][]string{"lwn-net": {"all"}, "lenta-ru": {"world-news"}},
		},
		{
			file: "inoreader.opml", title: "Subscriptions from Inoreader [https://www.inoreader.com]",
			ids:      []string{"krebs-on-security", "schneier-on-security", "ars-technica"},
			tags:     map[string][]string{"ars-technica": {"tech"}},
			problems: []string{"duplicate:13"},
		},
		{
			file: "freshrss.opml", title: "FreshRSS",
			ids:      []string{"the-guardian-observer-world", "reuters-via-google-news"},
			problems: []string{"invalid:11", "skipped:12"},
		},
		{
			file: "feedly.opml", title: "Analyst subscriptions in feedly Cloud",
			ids:  []string{"oilprice-com", "carbon-brief", "nasa-breaking-news"},
			tags: map[string][]string{"nasa-breaking-news": {"space", "government"}, "carbon-brief": {"energy"}},
		},
		{file: "latin1.opml", title: "Thunderbird", ids: []string{"suddeutsche"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			doc := parseFile(t, tt.file)
			if doc.Title != tt.title {
				t.Errorf("title %q, want %q", doc.Title, tt.title)
			}
			planned, problems := opml.Plan(doc, nothingKnown())
			var ids []string
			for _, p := range planned {
				ids = append(ids, p.ID)
				if want, ok := tt.tags[p.ID]; ok && !slices.Equal(p.Tags, want) {
					t.Errorf("%s tags %v, want %v", p.ID, p.Tags, want)
				}
			}
			if !slices.Equal(ids, tt.ids) {
				t.Errorf("ids %q, want %q", ids, tt.ids)
			}
			var got []string
			for _, p := range problems {
				got = append(got, fmt.Sprintf("%s:%d", p.Kind, p.Line))
			}
			if !slices.Equal(got, tt.problems) {
				t.Errorf("problems %v, want %v (%+v)", got, tt.problems, problems)
			}
		})
	}
}

func TestFreshRSSEntitiesInURL(t *testing.T) {
	doc := parseFile(t, "freshrss.opml")
	want := "https://news.google.com/rss/search?q=site:reuters.com&hl=en-US&gl=US&ceid=US:en"
	if doc.Outlines[1].XMLURL != want {
		t.Errorf("xmlUrl %q, want %q", doc.Outlines[1].XMLURL, want)
	}
}

// TestPlanTwoHundred: a 200-feed file with duplicates, clashing titles and broken entries
// imports every good feed under a unique id and reports the rest.
func TestPlanTwoHundred(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><opml version="2.0"><head><title>Big</title></head><body><outline text="News">` + "\n")
	for i := range 200 {
		switch {
		case i%20 == 7: // duplicate of the previous feed, with another scheme and a trailing slash
			fmt.Fprintf(&b, `<outline text="Copy %d" xmlUrl="http://site%d.example/feed/"/>`+"\n", i, i-1)
		case i%25 == 3:
			fmt.Fprintf(&b, `<outline text="Broken %d" xmlUrl="not a url %d"/>`+"\n", i, i)
		default:
			fmt.Fprintf(&b, `<outline text="Daily News" xmlUrl="https://site%d.example/feed"/>`+"\n", i)
		}
	}
	b.WriteString(`</outline></body></opml>`)
	doc, err := opml.Parse(strings.NewReader(b.String()), opml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	known := opml.Known{
		IDTaken: func(id string) bool { return id == "daily-news" },
		URLOf: func(u string) (string, bool) {
			return "configured", opml.URLKey(u) == opml.URLKey("https://site0.example/feed")
		},
	}
	planned, problems := opml.Plan(doc, known)
	kinds := map[string]int{}
	for _, p := range problems {
		kinds[p.Kind]++
	}
	if kinds[opml.ProblemDuplicate] != 11 || kinds[opml.ProblemInvalid] != 8 {
		t.Errorf("problems %v, want 11 duplicates (10 in the file, 1 configured) and 8 invalid", kinds)
	}
	if len(planned)+len(problems) != 200 {
		t.Errorf("%d planned + %d problems, want 200", len(planned), len(problems))
	}
	seen := map[string]bool{}
	for _, p := range planned {
		if seen[p.ID] || p.ID == "daily-news" {
			t.Errorf("id %s not unique", p.ID)
		}
		seen[p.ID] = true
	}
	if planned[0].ID != "daily-news-2" {
		t.Errorf("first id %s, want daily-news-2 (daily-news is taken)", planned[0].ID)
	}
}

func TestHostile(t *testing.T) {
	laughs := `<?xml version="1.0"?>
<!DOCTYPE opml [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<opml version="2.0"><head><title>&lol9;</title></head><body><outline text="&lol9;" xmlUrl="https://x.example/feed"/></body></opml>`
	external := `<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<opml version="2.0"><body><outline text="&xxe;" xmlUrl="https://x.example/feed"/></body></opml>`
	deep := `<opml version="2.0"><body>` + strings.Repeat(`<outline text="f">`, 100000) + strings.Repeat(`</outline>`, 100000) + `</body></opml>`
	var many strings.Builder
	many.WriteString(`<opml version="2.0"><body>`)
	for i := range 30000 {
		fmt.Fprintf(&many, `<outline text="f%d" xmlUrl="https://x.example/%d"/>`, i, i)
	}
	many.WriteString(`</body></opml>`)
	huge := `<opml version="2.0"><head><title>` + strings.Repeat("a", 9<<20) + `</title></head></opml>`
	tests := []struct {
		name string
		doc  string
		want error
	}{
		{"billion laughs", laughs, nil},
		{"external entity", external, nil},
		{"deeply nested", deep, opml.ErrTooDeep},
		{"too many outlines", many.String(), opml.ErrTooMany},
		{"huge", huge, opml.ErrTooLarge},
		{"not opml", `<rss version="2.0"><channel/></rss>`, opml.ErrNotOPML},
		{"html", `<!doctype html><html><body>hi</body></html>`, nil},
		{"empty", ``, opml.ErrNotOPML},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := opml.Parse(strings.NewReader(tt.doc), opml.Limits{})
			if err == nil {
				t.Fatalf("parsed without error: %d outlines, title %d bytes", len(doc.Outlines), len(doc.Title))
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if strings.Contains(doc.Title, "lollol") || strings.Contains(doc.Title, "root:") {
				t.Errorf("an entity was expanded: %q", doc.Title[:min(40, len(doc.Title))])
			}
		})
	}
}

func TestWriteReadsBack(t *testing.T) {
	subs := []opml.Subscription{
		{ID: "bbc-world", Title: "BBC <World> & more", XMLURL: "https://feeds.bbci.co.uk/news/world/rss.xml?a=1&b=2", Categories: []string{"world", "uk"}},
		{ID: "lwn", Title: "LWN", XMLURL: "https://lwn.net/headlines/rss"},
		{ID: "guardian", Title: "Guardian", XMLURL: "https://www.theguardian.com/world/rss", Categories: []string{"world"}},
	}
	var buf bytes.Buffer
	if err := opml.Write(&buf, "newswatch feeds", subs, time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `<opml version="2.0">`) || !strings.Contains(buf.String(), "<dateCreated>Wed, 02 Dec 2026 12:00:00 +0000</dateCreated>") {
		t.Errorf("not OPML 2.0 with a dateCreated:\n%s", buf.String())
	}
	doc, err := opml.Parse(&buf, opml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	planned, problems := opml.Plan(doc, nothingKnown())
	if len(problems) > 0 || len(planned) != 3 {
		t.Fatalf("round trip: %+v, problems %+v", planned, problems)
	}
	got := map[string]opml.Planned{}
	for _, p := range planned {
		got[p.URL] = p
	}
	for _, s := range subs {
		p := got[s.XMLURL]
		if p.Title != s.Title || !slices.Equal(p.Tags, s.Categories) {
			t.Errorf("%s came back as %+v", s.ID, p)
		}
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Le Monde.fr - Actualités": "le-monde-fr-actualites",
		"  --Hello,  World!-- ":    "hello-world",
		"Лента.ру":                 "",
		"ﬁnance Ｔｉｍｅｓ":             "finance-times",
		strings.Repeat("ab ", 50):  strings.TrimSuffix(strings.Repeat("ab-", 20), "-"),
	} {
		if got := opml.Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"miniflux.opml", "inoreader.opml", "freshrss.opml", "feedly.opml", "latin1.opml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := opml.Parse(bytes.NewReader(data), opml.Limits{MaxBytes: 1 << 20, MaxDepth: 8, MaxOutlines: 500})
		if err != nil {
			return
		}
		planned, _ := opml.Plan(doc, nothingKnown())
		for _, p := range planned {
			if p.ID == "" || len(p.ID) > opml.MaxIDLen {
				t.Fatalf("bad id %q", p.ID)
			}
		}
	})
}
