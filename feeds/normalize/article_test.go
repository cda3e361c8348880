package normalize

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/feeds/parse"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const testdata = "../../testdata/feeds"

var now = time.Date(2024, 7, 20, 12, 0, 0, 0, time.UTC)

func ptr(t time.Time) *time.Time { return &t }

func TestArticleID(t *testing.T) {
	// Article ids are deduplication keys stored in the event log: they must never change.
	pinned := []struct{ url, feed, guid, want string }{
		{"https://example.com/a", "bbc-world", "g1", "578f46f81842f4bea07e92ed42e4b929"},
		{"", "bbc-world", "g1", "d3a1869a18b1a423da037a8af0bcd4bf"},
		{"", "", "", ""},
	}
	for _, p := range pinned {
		if got := ArticleID(p.url, p.feed, p.guid); got != p.want {
			t.Errorf("ArticleID(%q, %q, %q) = %q, want %q", p.url, p.feed, p.guid, got, p.want)
		}
	}
	sum := sha256.Sum256([]byte("url\x00https://example.com/a"))
	if got := ArticleID("https://example.com/a", "x", "y"); got != hex.EncodeToString(sum[:])[:32] {
		t.Errorf("URL id %s is not the documented sha256 prefix", got)
	}
	sum = sha256.Sum256([]byte("guid\x00bbc-world\x00g1"))
	if got := ArticleID("", "bbc-world", "g1"); got != hex.EncodeToString(sum[:])[:32] {
		t.Errorf("guid id %s is not the documented sha256 prefix", got)
	}
	if ArticleID("", "feed-a", "g1") == ArticleID("", "feed-b", "g1") {
		t.Error("guid ids must be scoped to their feed")
	}
	if ArticleID("https://example.com/a", "feed-a", "1") != ArticleID("https://example.com/a", "feed-b", "2") {
		t.Error("URL ids must not depend on feed or guid")
	}
}

func TestArticleIDAcrossTrackingCopies(t *testing.T) {
	links := []string{
		"https://news.example.com/world/story?id=42",
		"https://News.Example.com:443/world/story?utm_source=rss&id=42&utm_medium=feed#comments",
		"https://news.example.com/world/story?UTM_CAMPAIGN=x&id=42&fbclid=abc&gclid=def",
		"https://news.example.com/world/story?id=42&mc_cid=1&mc_eid=2",
	}
	var first events.Article
	for i, link := range links {
		a, err := Article("feed-"+string(rune('a'+i)), "", parse.Item{Link: link, GUID: "guid-" + link, Title: "T"}, now)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = a
			continue
		}
		if a.ID != first.ID || a.URL != first.URL {
			t.Errorf("%q: id %s url %s, want %s %s", link, a.ID, a.URL, first.ID, first.URL)
		}
	}
	other, _ := Article("feed-a", "", parse.Item{Link: "https://news.example.com/world/story?id=43", Title: "T"}, now)
	if other.ID == first.ID {
		t.Error("different query parameters gave one id")
	}
}

func TestArticleIdentity(t *testing.T) {
	pub := ptr(time.Date(2024, 7, 16, 1, 0, 0, 0, time.UTC))
	t.Run("bad link falls back to guid", func(t *testing.T) {
		a, err := Article("f", "", parse.Item{Link: "ftp://example.com/x", GUID: "g"}, now)
		if err != nil || a.URL != "" || a.Link != "ftp://example.com/x" || a.ID != ArticleID("", "f", "g") {
			t.Errorf("got %+v, %v", a, err)
		}
	})
	t.Run("bad link without guid", func(t *testing.T) {
		a, err := Article("f", "", parse.Item{Link: "/relative/x"}, now)
		b, _ := Article("g", "", parse.Item{Link: "/relative/x"}, now)
		sum := sha256.Sum256([]byte("link\x00f\x00/relative/x"))
		if err != nil || a.URL != "" || a.ID != hex.EncodeToString(sum[:])[:32] || b.ID == a.ID {
			t.Errorf("got %+v, %v", a, err)
		}
	})
	t.Run("title only is stable across polls", func(t *testing.T) {
		it := parse.Item{Title: "<b>Wire</b> brief", Published: pub}
		a1, err1 := Article("f", "", it, now)
		a2, err2 := Article("f", "", it, now.Add(time.Hour))
		if err1 != nil || err2 != nil || a1.ID == "" || a1.ID != a2.ID {
			t.Errorf("ids %q %q, errors %v %v", a1.ID, a2.ID, err1, err2)
		}
		it.Published = nil
		a3, _ := Article("f", "", it, now)
		a4, _ := Article("f", "", it, now.Add(time.Hour))
		if a3.ID == a1.ID || a3.ID != a4.ID {
			t.Errorf("undated title ids %q %q (dated %q)", a3.ID, a4.ID, a1.ID)
		}
		other, _ := Article("g", "", it, now)
		if other.ID == a3.ID {
			t.Error("title ids must be scoped to their feed")
		}
	})
	t.Run("nothing to identify", func(t *testing.T) {
		_, err := Article("f", "", parse.Item{Title: "  <img src=x> ", Summary: "text", Published: pub}, now)
		if !errors.Is(err, ErrNoIdentity) {
			t.Errorf("err = %v, want ErrNoIdentity", err)
		}
	})
}

func TestArticleTimes(t *testing.T) {
	seoul := time.FixedZone("KST", 9*3600)
	pub := time.Date(2024, 7, 16, 9, 0, 0, 0, seoul)
	upd := time.Date(2024, 7, 17, 9, 0, 0, 0, seoul)
	tests := []struct {
		name          string
		published     *time.Time
		updated       *time.Time
		want          time.Time
		wantEstimated bool
	}{
		{"published", &pub, &upd, pub.UTC(), false},
		{"updated only", nil, &upd, upd.UTC(), false},
		{"none", nil, nil, now, true},
		{"future within a day", ptr(now.Add(20 * time.Hour)), nil, now.Add(20 * time.Hour), false},
		{"future beyond a day", ptr(now.Add(25 * time.Hour)), nil, now, true},
		{"future published, sane updated", ptr(now.AddDate(1, 0, 0)), &upd, upd.UTC(), false},
		{"zero", ptr(time.Time{}), nil, now, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Article("f", "", parse.Item{Link: "https://e.example/a", Published: tc.published, Updated: tc.updated},
				now.In(seoul))
			if err != nil {
				t.Fatal(err)
			}
			if !a.PublishedAt.Equal(tc.want) || a.PublishedEstimated != tc.wantEstimated {
				t.Errorf("PublishedAt = %v estimated %v, want %v %v", a.PublishedAt, a.PublishedEstimated, tc.want, tc.wantEstimated)
			}
			if a.PublishedAt.Location() != time.UTC || a.FirstSeenAt.Location() != time.UTC || !a.FirstSeenAt.Equal(now) {
				t.Errorf("times not UTC: %v %v", a.PublishedAt, a.FirstSeenAt)
			}
		})
	}
}

func TestArticleFields(t *testing.T) {
	long := "<p>" + strings.Repeat("Pyongyang and Moscow expanded their military cooperation. ", 12) + "</p>"
	it := parse.Item{
		Link:       "https://e.example/a?utm_source=x",
		GUID:       "g",
		Title:      " <b>Title</b> &amp; more ",
		Content:    long,
		Authors:    []string{" Kim  Min-jun ", "", "kim min-jun", "Jane Roe"},
		Categories: []string{"World", " world ", "  ", "Asia"},
	}
	a, err := Article("f", " en-GB ", it, now)
	if err != nil {
		t.Fatal(err)
	}
	if a.Title != "Title & more" || a.URL != "https://e.example/a" || a.Link != it.Link || a.GUID != "g" || a.FeedID != "f" {
		t.Errorf("got %+v", a)
	}
	if strings.Join(a.Authors, "|") != "Kim Min-jun|Jane Roe" || strings.Join(a.Categories, "|") != "World|Asia" {
		t.Errorf("authors %q categories %q", a.Authors, a.Categories)
	}
	if a.Language != "en-GB" {
		t.Errorf("language = %q, want the feed's", a.Language)
	}
	n := utf8.RuneCountInString(a.Summary)
	cut := strings.TrimSuffix(a.Summary, "…")
	if n < 150 || n > 301 || cut == a.Summary || !strings.HasPrefix(a.Content, cut) || a.Content[len(cut)] != ' ' {
		t.Errorf("summary (%d runes) is not the content cut between words: %q", n, a.Summary)
	}
	it.Language, it.Summary = "ru", "<p>Own summary</p>"
	a, _ = Article("f", "en-GB", it, now)
	if a.Language != "ru" || a.Summary != "Own summary" {
		t.Errorf("language %q summary %q", a.Language, a.Summary)
	}
}

func TestExcerpt(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short text", 300, "short text"},
		{"one two three four", 12, "one two…"},
		{"one two, three", 9, "one two…"},
		{"北朝鮮とロシアが軍事協力を拡大", 5, "北朝鮮とロ…"},
		{"Москва и Пхеньян подписали", 12, "Москва и…"},
	}
	for _, tc := range tests {
		if got := excerpt(tc.in, tc.n); got != tc.want {
			t.Errorf("excerpt(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// TestArticleGolden normalizes whole test feeds and compares with golden files; run
// `go test ./feeds/normalize -run Golden -update` after a deliberate change, and review the diff.
func TestArticleGolden(t *testing.T) {
	for _, tc := range []struct{ feed, contentType, url string }{
		{"newswatch/world-news.rss", "application/rss+xml", "https://news.example.com/feeds/world.rss"},
		{"newswatch/asia-wire.atom", "application/atom+xml", "https://www.example.net/news/asia.atom"},
	} {
		t.Run(tc.feed, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join(testdata, tc.feed))
			if err != nil {
				t.Fatal(err)
			}
			f, err := parse.Parse(body, tc.contentType, tc.url)
			if err != nil {
				t.Fatal(err)
			}
			var arts []events.Article
			for _, it := range f.Items {
				a, err := Article("test-feed", f.Language, it, now)
				if err != nil {
					t.Fatalf("item %q: %v", it.Title, err)
				}
				arts = append(arts, a)
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(arts); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			golden := filepath.Join(testdata, tc.feed+".articles.golden.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("articles differ from %s; run with -update and review the diff\n%s", golden, got)
			}
		})
	}
}

func TestCleanList(t *testing.T) {
	short := cleanList([]string{" a ", "A", "", "b  c", "B C"})
	if strings.Join(short, "|") != "a|b c" {
		t.Errorf("short list = %q", short)
	}
	var long []string
	for i := range 1000 {
		long = append(long, []string{"World", " world ", "ASIA", "asia", ""}[i%5])
	}
	if got := cleanList(long); strings.Join(got, "|") != "World|ASIA" {
		t.Errorf("long list = %q", got)
	}
	if got := cleanList(nil); got != nil {
		t.Errorf("nil list = %q", got)
	}
}
