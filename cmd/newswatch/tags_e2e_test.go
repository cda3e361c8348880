package main

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/events"
)

// matchedURLs returns, per topic, the URLs of the articles it matched, sorted.
func (r *running) matchedURLs(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := r.app.conn.Read(t.Context(), events.MatchStream, []string{events.MatchSubjectPrefix + "*"}, 0,
		func(data []byte, _ uint64) error {
			m, err := events.ParseMatch(data)
			if err != nil {
				return err
			}
			out[m.Topic] = append(out[m.Topic], m.URL)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range out {
		slices.Sort(v)
	}
	return out
}

// A topic scoped with tag: matches the articles of feeds with that tag (file and runtime feeds)
// and not those of untagged feeds; a runtime feed's tags changed through the API apply to the
// articles matched after the change, without a restart.
func TestTagTopicsEndToEnd(t *testing.T) {
	fs := newFeedServer(t)
	korea := func(feed string, n int) item {
		return item{fmt.Sprintf("Korea talks %s %d", feed, n), fmt.Sprintf("https://news.example.com/%s/%d", feed, n), "Envoys met."}
	}
	for _, f := range []string{"wire", "blog", "agency", "sports"} {
		fs.set("/"+f+".xml", rss(f, korea(f, 1)))
	}
	yaml := fmt.Sprintf(`
data_dir: %s
nats: {listen: ""}
http: {listen: "127.0.0.1:0"}
fetch: {allow_networks: ["127.0.0.1/32"], timeout: 5s}
log: {level: warn}
feeds:
  - {id: wire, url: "%s/wire.xml", schedule: "@every 1h", tags: [world, asia]}
  - {id: blog, url: "%s/blog.xml", schedule: "@every 1h"}
topics:
  - {id: all-korea, name: Korea anywhere, query: 'korea'}
  - {id: world-korea, name: Korea in world news, query: 'tag:world AND (Korea OR DPRK)'}
  - {id: korea-not-sport, name: Korea outside sport, query: 'korea NOT tag:sport'}
`, t.TempDir(), fs.srv.URL, fs.srv.URL)
	cfg, err := config.Parse([]byte(yaml), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := startApp(t, cfg)
	for _, f := range []struct {
		id   string
		tags []string
	}{{"agency", []string{"world"}}, {"sports", []string{"sport"}}} {
		body := map[string]any{"id": f.id, "url": fs.srv.URL + "/" + f.id + ".xml", "schedule": "@every 1h", "tags": f.tags}
		if code := r.call(t, http.MethodPost, "/api/v1/feeds", body, nil); code != http.StatusCreated {
			t.Fatalf("add %s: %d", f.id, code)
		}
	}
	u := func(feed string, n int) string { return korea(feed, n).link }
	// all-korea matches every article: once it has them all, the matcher has handled them all.
	waitFor(t, "every article matched", func() bool { return len(r.matchedURLs(t)["all-korea"]) == 4 })
	got := r.matchedURLs(t)
	if want := []string{u("agency", 1), u("wire", 1)}; !slices.Equal(got["world-korea"], want) {
		t.Errorf("world-korea matched %v, want the tagged feeds' articles %v", got["world-korea"], want)
	}
	if want := []string{u("agency", 1), u("blog", 1), u("wire", 1)}; !slices.Equal(got["korea-not-sport"], want) {
		t.Errorf("korea-not-sport matched %v, want every feed's but sports' %v", got["korea-not-sport"], want)
	}

	// Retag the sports feed at run time: its next article is world news, its old one stays as
	// it was matched.
	if code := r.call(t, http.MethodPatch, "/api/v1/feeds/sports", map[string]any{"tags": []string{"world"}}, nil); code != http.StatusOK {
		t.Fatalf("retag sports: %d", code)
	}
	if code := r.call(t, http.MethodPatch, "/api/v1/feeds/sports", map[string]any{"tags": []string{"World"}}, nil); code != http.StatusBadRequest {
		t.Errorf("a malformed tag: %d, want 400", code)
	}
	fs.set("/sports.xml", rss("sports", korea("sports", 1), korea("sports", 2)))
	pollNow(t, r, "sports", "ok")
	waitFor(t, "the new article matched", func() bool { return len(r.matchedURLs(t)["all-korea"]) == 5 })
	got = r.matchedURLs(t)
	if want := []string{u("agency", 1), u("sports", 2), u("wire", 1)}; !slices.Equal(got["world-korea"], want) {
		t.Errorf("after retagging, world-korea matched %v, want %v", got["world-korea"], want)
	}
	if !slices.Contains(got["korea-not-sport"], u("sports", 2)) || slices.Contains(got["korea-not-sport"], u("sports", 1)) {
		t.Errorf("after retagging, korea-not-sport matched %v: want sports' new article, not its old one", got["korea-not-sport"])
	}
}
