package main

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/newswatch/newswatch/alerts"
	"github.com/newswatch/newswatch/api"
)

// An analyst who expected an alert finds out why there was none, through the API and the
// metrics: a copy folded into the alerted story (with the article it joined), a story held
// back by a silence (with the silence's id).
func TestWhyNoAlertEndToEnd(t *testing.T) {
	fs := newFeedServer(t)
	fs.set("/wire.xml", rss("Wire", item{wireTitle, "https://wire.example.com/kursk", wireSummary}))
	fs.set("/paper.xml", rss("Paper", item{wireTitle, "https://paper.example.net/world/kursk-troops", "Paper: " + wireSummary}))
	fs.set("/blog.xml", rss("Blog"))
	r := startApp(t, testConfig(t, t.TempDir(), fs.srv.URL, topicsYAML+"alerts:\n  - {topic: dprk-russia, kind: match}\n"))
	r.waitPolled(t, 1, "wire", "paper", "blog")
	base := "http://" + r.app.HTTPAddr()
	idOf := func(url string) string {
		t.Helper()
		for _, a := range r.articles(t) {
			if a.URL == url {
				return a.ID
			}
		}
		t.Fatalf("no article %s", url)
		return ""
	}
	explain := func(article string, want string) api.MatchStatus {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			var st api.MatchStatus
			getJSON(t, base+"/api/v1/topics/dprk-russia/matches?article="+article, &st)
			if st.Status == want || time.Now().After(deadline) {
				return st
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// Both outlets were polled at start, in either order: the first report alerts, the
	// other is folded into it.
	wire, paper := idOf("https://wire.example.com/kursk"), idOf("https://paper.example.net/world/kursk-troops")
	alerted, copied := wire, paper
	if st := explain(wire, api.MatchAlerted); st.Status != api.MatchAlerted {
		alerted, copied = paper, wire
	}
	if st := explain(alerted, api.MatchAlerted); st.Status != api.MatchAlerted || st.Alert == "" || st.AsCopy {
		t.Errorf("the alerted article: %+v", st)
	}
	st := explain(copied, api.MatchSuppressed)
	if st.Status != api.MatchSuppressed || len(st.Suppressions) != 1 {
		t.Fatalf("the copy: %+v", st)
	}
	if s := st.Suppressions[0]; s.Reason != alerts.ReasonFolded || s.FoldedInto != alerted || s.FoldedBy == "" || s.Similarity <= 0 {
		t.Errorf("the copy's reason: %+v", s)
	}

	// A silence, then a new story: held back, with the silence named.
	resp, err := http.Post(base+"/api/v1/silences", "application/json",
		bytes.NewBufferString(`{"topic":"dprk-russia","duration":"1h","comment":"known story"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("add silence: %s", resp.Status)
	}
	var list []alerts.Silence
	getJSON(t, base+"/api/v1/silences", &list)
	if len(list) != 1 {
		t.Fatalf("silences = %+v", list)
	}
	fs.set("/blog.xml", rss("Blog", item{"North Korea military delegation arrives in Moscow for talks",
		"https://blog.example.org/delegation", "A delegation of North Korean generals met Russian troops commanders."}))
	pollNow(t, r, "blog", "ok")
	st = explain(idOf("https://blog.example.org/delegation"), api.MatchSuppressed)
	if st.Status != api.MatchSuppressed || len(st.Suppressions) == 0 ||
		st.Suppressions[0].Reason != alerts.ReasonSilenced || st.Suppressions[0].Silence != list[0].ID {
		t.Errorf("the silenced story: %+v", st)
	}
	// The latest suppressions of the topic, and the counter by reason.
	var latest struct{ Suppressed []alerts.Suppression }
	getJSON(t, base+"/api/v1/topics/dprk-russia/matches?limit=10", &latest)
	if len(latest.Suppressed) != 2 || latest.Suppressed[0].Reason != alerts.ReasonSilenced {
		t.Errorf("latest suppressions: %+v", latest.Suppressed)
	}
	for reason, want := range map[string]float64{alerts.ReasonFolded: 1, alerts.ReasonSilenced: 1, alerts.ReasonBackfill: 0} {
		if n := r.metric(t, "newswatch_alert_suppressed_total", map[string]string{"topic": "dprk-russia", "reason": reason}); n != want {
			t.Errorf("newswatch_alert_suppressed_total{reason=%q} = %v, want %v", reason, n, want)
		}
	}
	// A topic without a match rule says so; an unknown topic is a 404.
	st = api.MatchStatus{}
	getJSON(t, base+"/api/v1/topics/storms/matches?article="+wire, &st)
	if st.Status != api.MatchNoRule {
		t.Errorf("topic without a rule: %+v", st)
	}
	if resp, err := http.Get(base + "/api/v1/topics/nope/matches?article=x"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown topic: %v %v", resp.Status, err)
	}
}
