package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newswatch/newswatch/projections/stories"
)

// sameSubject is testdata of the story model: 30 different events whose titles all start
// with the topic's words ("North Korea Russia troops: …"), each with its own summary.
func sameSubject(t *testing.T) []struct{ ID, Title, Summary string } {
	t.Helper()
	data, err := os.ReadFile("../../projections/stories/testdata/samesubject.json")
	if err != nil {
		t.Fatal(err)
	}
	var out []struct{ ID, Title, Summary string }
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// allStories walks GET /api/v1/topics/{id}/stories page by page.
func allStories(t *testing.T, r *running, topic string, limit int) (list []stories.Story, pages int) {
	t.Helper()
	cursor := ""
	for {
		var p stories.Page
		getJSON(t, fmt.Sprintf("http://%s/api/v1/topics/%s/stories?limit=%d&cursor=%s", r.app.HTTPAddr(), topic, limit, cursor), &p)
		list = append(list, p.Stories...)
		pages++
		if p.NextCursor == "" {
			return list, pages
		}
		if pages > 100 {
			t.Fatal("paging does not end")
		}
		cursor = p.NextCursor
	}
}

// Thirty different events whose titles share the topic's words are thirty stories, each
// alerted; a wire report, its syndicated copy, two rewrites and a later update are one story.
// Every story is listed through the API, page by page, with all its articles.
func TestStoriesAPIEndToEnd(t *testing.T) {
	fs := newFeedServer(t)
	hook := newHookReceiver(t)
	now := time.Now()
	var wire []dated
	events := sameSubject(t)
	for i, e := range events {
		wire = append(wire, dated{e.Title, "https://wire.example.com/" + e.ID, e.Summary, now.Add(-5*time.Hour + time.Duration(i)*5*time.Minute)})
	}
	const (
		reportTitle = "North Korea deploys 3,000 troops to Russia's Kursk front, Seoul says"
		reportText  = "South Korea's spy agency said on Wednesday that about 3,000 North Korean soldiers have moved to the front line in the Kursk region, where Ukraine holds territory, citing satellite imagery."
	)
	wire = append(wire,
		dated{reportTitle, "https://wire.example.com/kursk", reportText, now.Add(-3 * time.Hour)},
		dated{"UPDATE: North Korea's 3,000 troops at Russia's Kursk front, Seoul spy agency says", "https://wire.example.com/kursk-update",
			"South Korea's spy agency said about 3,000 North Korean soldiers have moved to the front line in the Kursk region, where Ukraine holds territory, and more may follow.", now.Add(-time.Hour)})
	fs.set("/wire.xml", rssAt("Wire", wire...))
	fs.set("/paper.xml", rssAt("Paper", dated{reportTitle + " - Wire", "https://paper.example.net/kursk",
		"SEOUL (Wire) - South Korea's spy agency said on Wednesday that about 3,000 North Korean soldiers have moved to the front line in the Kursk region, where Ukraine holds territory.", now.Add(-160 * time.Minute)}))
	fs.set("/blog.xml", rssAt("Blog", dated{"Seoul: Pyongyang has sent 3,000 soldiers to the Kursk front line", "https://blog.example.org/kursk",
		"South Korea's National Intelligence Service told lawmakers that some 3,000 troops from North Korea are now at the front in Russia's Kursk region, based on satellite imagery.", now.Add(-2 * time.Hour)}))
	fs.set("/herald.xml", rssAt("Herald", dated{"Spy agency says North Korea's troops reached the Kursk front in Russia", "https://herald.example.com/kursk",
		"About 3,000 North Korean soldiers have arrived at the Kursk front line, where Ukrainian forces hold territory, South Korea's intelligence agency said on Wednesday.", now.Add(-90 * time.Minute)}))
	extra := fmt.Sprintf("  - {id: herald, url: \"%s/herald.xml\", schedule: \"@every 1h\"}\n", fs.srv.URL) + alertsYAML(hook.srv.URL)
	r := startApp(t, testConfig(t, t.TempDir(), fs.srv.URL, extra))
	r.waitPolled(t, 1, "wire", "paper", "blog", "herald")
	r.waitCount(t, "dprk-russia", int64(len(events)+5))

	// The stories projection folds the matches on its own, behind the topic summary.
	r.waitMatchesFolded(t)
	list, pages := allStories(t, r, "dprk-russia", 7)
	// The same-subject events folded into a story another article founded: hidden from the
	// analyst. Measured over repeated runs: 0 or 1 of 30, as the order in which the
	// feeds' articles reach the stream varies (the goal is at most 1 %: see
	// docs/stories-spikes-digests.md).
	folded := map[string]bool{}
	var kursk stories.Story
	for _, s := range list {
		var urls []string
		for _, a := range s.Articles {
			if a.ID == "" || a.FirstSeenAt.IsZero() || a.URL == "" {
				t.Errorf("article without id, URL or first-seen time: %+v", a)
			}
			urls = append(urls, a.URL)
		}
		if slices.Contains(urls, "https://wire.example.com/kursk") {
			kursk = s
		}
		if len(urls) == 1 {
			continue
		}
		for _, u := range urls {
			if id, ok := strings.CutPrefix(u, "https://wire.example.com/ss"); ok && u != s.FirstReport.URL {
				folded[id] = true
				t.Logf("same-subject event ss%s folded into story %q", id, s.Title)
			}
		}
	}
	if len(folded) > 1 || len(list) != len(events)+1-len(folded) || pages != (len(list)+6)/7 {
		t.Fatalf("%d stories in %d pages, %d same-subject events folded; want %d stories, at most 1 folded",
			len(list), pages, len(folded), len(events)+1)
	}
	for i := 1; i < len(list); i++ {
		if a, b := list[i-1], list[i]; a.FirstSeen.Before(b.FirstSeen) || (a.FirstSeen.Equal(b.FirstSeen) && a.ID > b.ID) {
			t.Errorf("not newest first: %s (%s) before %s (%s)", a.ID, a.FirstSeen, b.ID, b.FirstSeen)
		}
	}
	var outlets, urls []string
	for _, o := range kursk.Outlets {
		outlets = append(outlets, o.Source)
	}
	for _, a := range kursk.Articles {
		urls = append(urls, a.URL)
	}
	for _, u := range []string{"https://wire.example.com/kursk", "https://paper.example.net/kursk", "https://blog.example.org/kursk",
		"https://herald.example.com/kursk", "https://wire.example.com/kursk-update"} {
		if !slices.Contains(urls, u) {
			t.Errorf("the wire story lacks %s: %v", u, urls)
		}
	}
	if kursk.Title != reportTitle || !slices.Equal(outlets, []string{"wire", "paper", "blog", "herald"}) || kursk.FirstSeen.IsZero() ||
		kursk.ArticleCount != len(kursk.Articles) {
		t.Fatalf("the wire story: outlets %v: %+v", outlets, kursk)
	}
	var one stories.Story
	getJSON(t, "http://"+r.app.HTTPAddr()+"/api/v1/topics/dprk-russia/stories/"+kursk.ID, &one)
	if one.ID != kursk.ID || len(one.Articles) != kursk.ArticleCount {
		t.Errorf("GET one story: %+v", one)
	}

	// Every same-subject event is alerted as a story of its own.
	deadline := time.Now().Add(30 * time.Second)
	alerted := map[string]bool{}
	for len(alerted) < len(events)-len(folded) && time.Now().Before(deadline) {
		for _, a := range hook.alerts() {
			for _, art := range a.Articles {
				alerted[art.URL] = true
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, e := range events {
		if !alerted["https://wire.example.com/"+e.ID] && !folded[strings.TrimPrefix(e.ID, "ss")] {
			t.Errorf("event %s not alerted", e.ID)
		}
	}

	for _, c := range []struct {
		path string
		want int
	}{
		{"/api/v1/topics/nope/stories", http.StatusNotFound},
		{"/api/v1/topics/dprk-russia/stories?limit=0", http.StatusBadRequest},
		{"/api/v1/topics/dprk-russia/stories?cursor=garbage", http.StatusBadRequest},
		{"/api/v1/topics/dprk-russia/stories/story-000", http.StatusNotFound},
	} {
		resp, err := http.Get("http://" + r.app.HTTPAddr() + c.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("GET %s: %s, want %d", c.path, resp.Status, c.want)
		}
	}
}
