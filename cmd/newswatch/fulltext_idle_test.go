package main

import (
	"slices"
	"testing"

	"github.com/newswatch/newswatch/events"
)

// fullTextReaders counts the consumers of the article stream that read article events only:
// the full-text processor's (the matcher reads full-text events too).
func fullTextReaders(t *testing.T, r *running) int {
	t.Helper()
	st, err := r.app.conn.JS.Stream(t.Context(), events.ArticleStream)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for ci := range st.ListConsumers(t.Context()).Info() {
		f := ci.Config.FilterSubjects
		if ci.Config.FilterSubject != "" {
			f = append(f, ci.Config.FilterSubject)
		}
		if slices.Equal(f, []string{events.ArticleSubjectPrefix + "*"}) {
			n++
		}
	}
	return n
}

// TestFullTextProcessorIdleWithoutFullTextFeeds: while no feed has full_text the full-text
// processor does not read the article stream (each reader costs the embedded server a block
// cache); when a feed turns full_text on it starts, fetches the pages of that feed's new
// articles, and not those of the articles stored while it was idle.
func TestFullTextProcessorIdleWithoutFullTextFeeds(t *testing.T) {
	fs := teaserServer(t, "/articles/old.html", "/articles/new.html")
	old := item{"Envoys meet", fs.srv.URL + "/articles/old.html", "Read more on our site."}
	fs.set("/late.xml", rss("Late", old))
	r := startApp(t, testConfig(t, t.TempDir(), fs.srv.URL, ""))
	body := map[string]any{"id": "late", "url": fs.srv.URL + "/late.xml", "schedule": "@every 1s"}
	if code := r.call(t, "POST", "/api/v1/feeds", body, nil); code != 201 {
		t.Fatalf("add a runtime feed: %d", code)
	}
	waitFor(t, "the late feed's article", func() bool {
		// Not r.articles: its reader would count as one of the stream's article readers.
		n := 0
		err := r.app.conn.Read(t.Context(), events.ArticleStream, []string{events.ArticleSubjectPrefix + "late"}, 0, func([]byte, uint64) error {
			n++
			return nil
		})
		return err == nil && n == 1
	})
	if n := fullTextReaders(t, r); n != 0 {
		t.Fatalf("%d full-text readers of the article stream while no feed has full_text, want 0", n)
	}

	fs.set("/late.xml", rss("Late", item{"Envoys meet again", fs.srv.URL + "/articles/new.html", "More inside."}, old))
	if code := r.call(t, "PATCH", "/api/v1/feeds/late", map[string]any{"full_text": true}, nil); code != 200 {
		t.Fatalf("turn full_text on: %d", code)
	}
	var full []events.Article
	waitFor(t, "the new article's full-text event", func() bool {
		full = full[:0]
		err := r.app.conn.Read(t.Context(), events.ArticleStream, []string{events.FullTextSubjectPrefix + "*"}, 0, func(data []byte, _ uint64) error {
			a, err := events.ParseArticle(data)
			full = append(full, a)
			return err
		})
		return err == nil && len(full) > 0
	})
	if len(full) != 1 || full[0].Title != "Envoys meet again" {
		t.Errorf("full-text events %+v, want one, of the article stored after full_text was turned on", full)
	}
	if n := fullTextReaders(t, r); n != 1 {
		t.Errorf("%d full-text readers while a feed has full_text, want 1", n)
	}
	fs.mu.Lock()
	hits := fs.hits["/articles/old.html"]
	fs.mu.Unlock()
	if hits != 0 {
		t.Errorf("the page of an article stored while no feed had full_text was fetched %d times", hits)
	}
}
