package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/events"
)

// TestFullTextFeedMatchesWordsOnlyInThePage: a full_text feed carries teasers; the words a topic
// needs are only in the article's page, which is fetched and extracted; the article event stays
// as the feed gave it and a full-text event carries the page's text.
func TestFullTextFeedMatchesWordsOnlyInThePage(t *testing.T) {
	fs := teaserServer(t, "/articles/envoys.html", "/articles/envoys-2.html")
	fs.set("/teasers.xml", rss("Teasers",
		item{"Envoys meet", fs.srv.URL + "/articles/envoys.html", "Read more on our site."},
		item{"Gone", fs.srv.URL + "/articles/missing.html", "A page that is not there."}))
	fs.set("/also-teasers.xml", rss("Not full text", item{"Envoys meet again", fs.srv.URL + "/articles/envoys.html?again", "Read more."}))
	extra := fmt.Sprintf(`  - {id: teasers, url: "%s/teasers.xml", schedule: "@every 1h", full_text: true}
  - {id: plain, url: "%s/also-teasers.xml", schedule: "@every 1h"}
topics:
  - id: shells
    query: 'vladivostok AND "artillery shells"'
`, fs.srv.URL, fs.srv.URL)
	r := startApp(t, testConfig(t, t.TempDir(), fs.srv.URL, extra))
	r.waitPolled(t, 1, "teasers", "plain")
	r.waitCount(t, "shells", 1)

	var matched []events.Match
	err := r.app.conn.Read(t.Context(), events.MatchStream, []string{events.MatchSubjectPrefix + "*"}, 0, func(data []byte, _ uint64) error {
		m, err := events.ParseMatch(data)
		matched = append(matched, m)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(matched) != 1 || matched[0].Source != "teasers" || matched[0].Title != "Envoys meet" {
		t.Fatalf("matches %+v, want one, of the full_text feed's article", matched)
	}
	// The article event is as the feed gave it; the full-text event has the page's text.
	for _, a := range r.articles(t) {
		if strings.Contains(a.Content, "artillery") {
			t.Errorf("article event %s was changed: %q", a.ID, a.Content)
		}
	}
	var full []events.Article
	err = r.app.conn.Read(t.Context(), events.ArticleStream, []string{events.FullTextSubjectPrefix + "*"}, 0, func(data []byte, _ uint64) error {
		a, err := events.ParseArticle(data)
		full = append(full, a)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(full) != 1 || full[0].ID != matched[0].ArticleID || !strings.Contains(full[0].Content, "naval facility") {
		t.Errorf("full-text events %+v", full)
	}
	// A runtime feed with full_text, added through the API, gets the same treatment.
	fs.set("/runtime.xml", rss("Runtime teasers", item{"Envoys meet, part two", fs.srv.URL + "/articles/envoys-2.html", "More inside."}))
	var added struct {
		FullText bool `json:"full_text"`
	}
	body := map[string]any{"id": "runtime-teasers", "url": fs.srv.URL + "/runtime.xml", "full_text": true}
	if code := r.call(t, "POST", "/api/v1/feeds", body, &added); code != 201 || !added.FullText {
		t.Fatalf("add a full_text runtime feed: %d %+v", code, added)
	}
	r.waitCount(t, "shells", 2)
	waitFor(t, "the missing page to be counted", func() bool {
		return r.metric(t, "newswatch_fulltext_extractions_total", map[string]string{"result": "fetch_error"}) == 1
	})
}

// teaserServer serves the three default test feeds and the teaser article's page at each of
// paths.
func teaserServer(t *testing.T, paths ...string) *feedServer {
	t.Helper()
	page, err := os.ReadFile("../../feeds/fulltext/testdata/teaser-article.html")
	if err != nil {
		t.Fatal(err)
	}
	fs := newFeedServer(t)
	for _, p := range []string{"/wire.xml", "/paper.xml", "/blog.xml"} {
		fs.set(p, rss(p))
	}
	for _, p := range paths {
		fs.set(p, string(page))
	}
	return fs
}
