package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/projections/summaries"
)

const topicsYAML = `topics:
  - id: dprk-russia
    name: DPRK–Russia military cooperation
    query: '("North Korea" OR DPRK OR Pyongyang) AND (Russia OR Kremlin OR Moscow) AND (military OR troops OR soldiers)'
  - id: storms
    name: Storms
    query: 'storm* NOT "storm troopers"'
`

// waitCount waits until the summary of topic has n articles.
func (r *running) waitCount(t *testing.T, topic string, n int64) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for r.app.summaries.Count(topic) != n {
		if time.Now().After(deadline) {
			t.Fatalf("topic %s has %d articles, want %d", topic, r.app.summaries.Count(topic), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *running) matchEvents(t *testing.T) []events.Match {
	t.Helper()
	var out []events.Match
	err := r.app.conn.Read(t.Context(), events.MatchStream, []string{events.MatchSubjectPrefix + "*"}, 0,
		func(data []byte, _ uint64) error {
			m, err := events.ParseMatch(data)
			out = append(out, m)
			return err
		})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTopicsEndToEnd(t *testing.T) {
	fs := newFeedServer(t)
	fs.set("/wire.xml", rss("Wire",
		item{"Pyongyang sends troops to Russia", "https://news.example.com/a1", "North Korean soldiers arrive in Kursk."},
		item{"Kremlin hosts DPRK delegation", "https://news.example.com/a2", "Military talks in Moscow."},
		item{"North Korea fires missile", "https://news.example.com/a3", "No mention of the other side."},
		item{"Storms batter the coast", "https://news.example.com/a4", "Stormy weather."}))
	fs.set("/paper.xml", rss("Paper",
		// Syndicated copy of a1: one article, counted once.
		item{"Pyongyang sends troops to Russia", "https://news.example.com/a1?utm_campaign=x", "Copy."},
		item{"Star Wars fans gather", "https://paper.example.net/b1", "Storm troopers everywhere."}))
	fs.set("/blog.xml", rss("Blog", item{"Россия и КНДР", "https://blog.example.org/ru", "Nothing in English."}))

	cfg := testConfig(t, t.TempDir(), fs.srv.URL, topicsYAML)
	r := startApp(t, cfg)
	r.waitPolled(t, 1, "wire", "paper", "blog")
	r.waitCount(t, "dprk-russia", 2)
	r.waitCount(t, "storms", 1)

	matches := r.matchEvents(t)
	if len(matches) != 3 {
		t.Fatalf("%d match events, want 3: %+v", len(matches), matches)
	}
	for _, m := range matches {
		if m.QueryVersion == "" || len(m.Matched) == 0 || m.ArticleSeq == 0 {
			t.Errorf("incomplete match event %+v", m)
		}
		if m.Topic == "storms" && m.URL != "https://news.example.com/a4" {
			t.Errorf("storms matched %s", m.URL)
		}
	}

	base := "http://" + r.app.HTTPAddr()
	var list []struct {
		ID           string `json:"id"`
		Name         string `json:"name"`
		ArticleCount int64  `json:"article_count"`
	}
	getJSON(t, base+"/api/v1/topics", &list)
	if len(list) != 2 || list[0].ID != "dprk-russia" || list[0].ArticleCount != 2 || list[1].ArticleCount != 1 {
		t.Fatalf("GET /api/v1/topics = %+v", list)
	}
	var sum summaries.Summary
	getJSON(t, base+"/api/v1/topics/dprk-russia", &sum)
	if sum.ArticleCount != 2 || len(sum.Latest) != 2 || sum.Name != "DPRK–Russia military cooperation" {
		t.Fatalf("summary = %+v", sum)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if list, ok := sum.Stories.([]any); ok && len(list) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stories = %#v, want the 2 distinct stories", sum.Stories)
		}
		time.Sleep(20 * time.Millisecond)
		getJSON(t, base+"/api/v1/topics/dprk-russia", &sum)
	}
	for _, a := range sum.Latest {
		if a.URL != "https://news.example.com/a1" && a.URL != "https://news.example.com/a2" {
			t.Errorf("wrong article in summary: %+v", a)
		}
	}
	resp, err := http.Get(base + "/api/v1/topics/no-such-topic")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("unknown topic: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	if got := r.metric(t, "newswatch_topic_matches_total", map[string]string{"topic": "dprk-russia"}); got != 2 {
		t.Errorf("topic_matches_total{dprk-russia} = %v, want 2", got)
	}
	r.stop()

	// Restart: identical counts, nothing derived twice.
	r = startApp(t, cfg)
	r.waitPolled(t, 2, "wire", "paper", "blog")
	deadline = time.Now().Add(5 * time.Second)
	for !r.app.matcher.CaughtUp() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	var again summaries.Summary
	getJSON(t, "http://"+r.app.HTTPAddr()+"/api/v1/topics/dprk-russia", &again)
	if again.ArticleCount != 2 || r.app.summaries.Count("storms") != 1 {
		t.Fatalf("after restart: %+v, storms %d", again, r.app.summaries.Count("storms"))
	}
	if got := len(r.matchEvents(t)); got != 3 {
		t.Fatalf("after restart %d match events, want 3", got)
	}
	if got := r.metric(t, "newswatch_topic_matches_total", nil); got != 0 {
		t.Errorf("restart re-derived %v matches", got)
	}

	// A reload adds a topic; a reload with a broken query is rejected and changes nothing.
	reloaded := testConfig(t, t.TempDir(), fs.srv.URL, topicsYAML+`  - id: drills
    name: Drills
    query: drills
`)
	if err := r.app.Reload(reloaded); err != nil {
		t.Fatal(err)
	}
	broken := *reloaded
	broken.Topics = append(broken.Topics[:len(broken.Topics):len(broken.Topics)], reloaded.Topics[0])
	broken.Topics[len(broken.Topics)-1].ID = "broken"
	broken.Topics[len(broken.Topics)-1].Query = "a AND ("
	if err := r.app.Reload(&broken); err == nil {
		t.Fatal("reload with a broken query succeeded")
	}
	var list2 []struct{ ID string }
	getJSON(t, "http://"+r.app.HTTPAddr()+"/api/v1/topics", &list2)
	if len(list2) != 3 || list2[2].ID != "drills" {
		t.Fatalf("topics after reloads = %+v", list2)
	}

	// A new matching article flows through to both the old and the reloaded topic.
	fs.set("/blog.xml", rss("Blog", item{"Russia and North Korea hold joint military drills", "https://blog.example.org/drills", "Troops."}))
	pollNow(t, r, "blog", events.ResultOK)
	r.waitCount(t, "dprk-russia", 3)
	r.waitCount(t, "drills", 1)
}
