package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/projections/stories"
)

// dated is a feed item with its publication time.
type dated struct {
	title, link, desc string
	at                time.Time
}

func rssAt(title string, items ...dated) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>%s</title><link>https://example.org/</link>`, title)
	for _, it := range items {
		fmt.Fprintf(&b, `<item><title>%s</title><link>%s</link><description>%s</description><pubDate>%s</pubDate></item>`,
			it.title, it.link, it.desc, it.at.UTC().Format(time.RFC1123Z))
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

// headline makes distinct headlines about Kursk from random words: no two are copies.
func headline(rng *rand.Rand) string {
	parts := []string{"Kursk:"}
	for range 7 {
		b := make([]byte, 4+rng.IntN(5))
		for j := range b {
			b[j] = byte('a' + rng.IntN(26))
		}
		parts = append(parts, string(b))
	}
	return strings.Join(parts, " ")
}

// topicView is GET /api/v1/topics/{id} with the parts the stories, spikes and trends fill in.
type topicView struct {
	Stories  []stories.Story   `json:"stories"`
	Trending []json.RawMessage `json:"trending"`
	Volume   *notify.Spike     `json:"volume"`
}

func (r *running) topic(t *testing.T, id string) topicView {
	t.Helper()
	var v topicView
	getJSON(t, "http://"+r.app.HTTPAddr()+"/api/v1/topics/"+id, &v)
	return v
}

func kindOf(as []notify.Alert, kind string) []notify.Alert {
	var out []notify.Alert
	for _, a := range as {
		if a.Kind == kind {
			out = append(out, a)
		}
	}
	return out
}

// A burst of matching stories from several outlets, after ten quiet days, fires one spike
// alert that explains itself, delivered to the receiver; a restart does not fire it again.
func TestSpikeEndToEnd(t *testing.T) {
	fs := newFeedServer(t)
	hook := newHookReceiver(t)
	now := time.Now()
	rng := rand.New(rand.NewPCG(7, 8))
	// Ten days of about one story an hour over four outlets.
	hist := map[int][]dated{}
	for i := range 240 {
		at := now.Add(-time.Duration(240-i)*time.Hour - time.Duration(rng.IntN(50))*time.Minute)
		hist[i%4] = append(hist[i%4], dated{headline(rng), fmt.Sprintf("https://o%d.example/h%d", i%4, i), "Quiet day.", at})
	}
	// The last 45 minutes: twelve stories from four other outlets.
	burst := map[int][]dated{}
	for i := range 12 {
		at := now.Add(-45*time.Minute + time.Duration(i)*3*time.Minute)
		burst[i%4] = append(burst[i%4], dated{headline(rng), fmt.Sprintf("https://b%d.example/s%d", i%4, i), "Fighting intensifies.", at})
	}
	var feedsYAML strings.Builder
	for i := range 4 {
		fs.set(fmt.Sprintf("/o%d.xml", i), rssAt("Outlet", hist[i]...))
		fs.set(fmt.Sprintf("/b%d.xml", i), rssAt("Burst"))
		fmt.Fprintf(&feedsYAML, "  - {id: o%d, url: \"%s/o%d.xml\", schedule: \"@every 1h\"}\n", i, fs.srv.URL, i)
		fmt.Fprintf(&feedsYAML, "  - {id: b%d, url: \"%s/b%d.xml\", schedule: \"@every 1h\"}\n", i, fs.srv.URL, i)
	}
	fs.set("/wire.xml", rss("Wire"))
	fs.set("/paper.xml", rss("Paper"))
	fs.set("/blog.xml", rss("Blog"))
	extra := feedsYAML.String() + fmt.Sprintf(`topics:
  - {id: kursk, name: Kursk front, query: Kursk}
alerts:
  - {topic: kursk, kind: spike}
notify:
  - {name: ops-hook, type: webhook, url: "%s/hook", secret: "%s"}
`, hook.srv.URL, hookSecret)
	cfg := testConfig(t, t.TempDir(), fs.srv.URL, extra)
	r := startApp(t, cfg)
	// The history first (the detector dates a topic's history from the first story it sees),
	// then the surge arrives.
	r.waitPolled(t, 1, "o0", "o1", "o2", "o3", "b0", "b1", "b2", "b3")
	r.waitCount(t, "kursk", 240)
	if got := hook.alerts(); len(got) != 0 {
		t.Fatalf("alerts on ten quiet days: %+v", got)
	}
	for i := range 4 {
		fs.set(fmt.Sprintf("/b%d.xml", i), rssAt("Burst", burst[i]...))
		pollNow(t, r, fmt.Sprintf("b%d", i), "ok")
	}
	got := kindOf(hook.waitFor(t, 1), notify.KindSpike)
	time.Sleep(time.Second)
	if got = kindOf(hook.alerts(), notify.KindSpike); len(got) != 1 {
		t.Fatalf("%d spike alerts, want 1: %+v", len(got), got)
	}
	a := got[0]
	x := a.Spike
	if a.Topic != "kursk" || a.TopicName != "Kursk front" || x == nil || x.Count < x.Needed || x.Ratio < 3 ||
		len(x.Sources) < 3 || len(x.Terms) == 0 || x.Terms[0].Term != "Kursk" || len(a.Articles) < x.Count ||
		!strings.HasPrefix(a.Summary, "Volume spike: ") {
		t.Fatalf("spike alert %+v\nexplanation %+v", a, x)
	}
	for _, art := range a.Articles {
		if !strings.Contains(art.URL, "://b") && !strings.Contains(art.URL, "://o") {
			t.Errorf("spike lists %+v", art)
		}
	}
	if n := r.metric(t, "newswatch_alerts_fired_total", map[string]string{"topic": "kursk", "kind": "spike"}); n != 1 {
		t.Errorf("newswatch_alerts_fired_total{kind=spike} = %v", n)
	}
	// The topic summary shows the volume against the usual, as the detector sees it now.
	if v := r.topic(t, "kursk").Volume; v == nil || v.Count < v.Needed || v.Baseline < 0.5 || v.Baseline > 3 || v.WindowEnd.Sub(v.WindowStart) != time.Hour {
		t.Errorf("topic volume %+v", v)
	}
	r.stop()

	// Restart within the cooldown, the surge still in the window: no second spike.
	r = startApp(t, cfg)
	r.waitPolled(t, 1, "b0", "b1", "b2", "b3")
	time.Sleep(time.Second)
	if n := len(kindOf(r.storedAlerts(t), notify.KindSpike)); n != 1 {
		t.Fatalf("%d spike alerts after a restart, want 1", n)
	}
}

// A digest arrives on schedule with the stories that arrived in its period, grouped by story
// with their outlets.
func TestDigestEndToEnd(t *testing.T) {
	fs := newFeedServer(t)
	hook := newHookReceiver(t)
	matchOnly := newHookReceiver(t)
	fs.set("/wire.xml", rss("Wire"))
	fs.set("/paper.xml", rss("Paper"))
	fs.set("/blog.xml", rss("Blog"))
	extra := topicsYAML + fmt.Sprintf(`alerts:
  - {topic: dprk-russia, kind: digest, schedule: "@every 5s", send_empty: true}
notify:
  - {name: ops-hook, type: webhook, url: "%s/hook", secret: "%s"}
  - {name: pager, type: webhook, url: "%s/hook", secret: "%s", kinds: [match]}
`, hook.srv.URL, hookSecret, matchOnly.srv.URL, hookSecret)
	cfg := testConfig(t, t.TempDir(), fs.srv.URL, extra)
	r := startApp(t, cfg)
	// An empty digest first (send_empty): the next period has just begun.
	first := hook.waitFor(t, 1)[0]
	if first.Kind != notify.KindDigest || first.Digest == nil || first.Digest.TotalStories != 0 ||
		first.Digest.Until.Sub(first.Digest.Since) != 5*time.Second || first.FiredAt.Before(first.Digest.Until) {
		t.Fatalf("first digest %+v, %+v", first, first.Digest)
	}
	now := time.Now()
	fs.set("/wire.xml", rssAt("Wire",
		dated{wireTitle, "https://news.example.com/kursk", wireSummary, now.Add(-20 * time.Minute)},
		dated{"Russia and North Korea stage joint naval drills off Vladivostok", "https://news.example.com/drills",
			"Warships and troops from both militaries took part in exercises in the Sea of Japan, Moscow said.", now.Add(-10 * time.Minute)}))
	fs.set("/paper.xml", rssAt("Paper", dated{wireTitle, "https://paper.example.net/kursk", "Wire copy: " + wireSummary, now.Add(-15 * time.Minute)}))
	fs.set("/blog.xml", rssAt("Blog", dated{"Storm warning for the coast", "https://blog.example.org/storm", "Gales expected.", now}))
	for _, id := range []string{"wire", "paper", "blog"} {
		pollNow(t, r, id, "ok")
	}
	var digest notify.Alert
	deadline := time.Now().Add(20 * time.Second)
	for digest.Digest == nil || digest.Digest.TotalStories == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no digest with stories: %+v", hook.alerts())
		}
		time.Sleep(50 * time.Millisecond)
		as := hook.alerts()
		digest = as[len(as)-1]
	}
	d := digest.Digest
	if !d.Since.Equal(first.Digest.Until) || d.Until.Sub(d.Since) != 5*time.Second || d.TotalStories != 2 ||
		d.TotalArticles != 3 || d.Outlets != 2 || len(digest.Articles) != 2 {
		t.Fatalf("digest %+v\ndetails %+v", digest, d)
	}
	top := digest.Articles[0]
	if top.URL != "https://news.example.com/kursk" || len(top.Copies) != 1 || top.Copies[0].Source != "paper" || top.Story == "" || top.Outlets != 2 {
		t.Errorf("top story %+v", top)
	}
	if !strings.Contains(digest.Summary, "2 stories from 2 outlets") {
		t.Errorf("summary %q", digest.Summary)
	}
	// The topic summary lists the same story with its two outlets, and (a young topic) no
	// trending terms yet.
	sum := r.topic(t, "dprk-russia")
	found := false
	for _, st := range sum.Stories {
		found = found || (st.ID == top.Story && len(st.Outlets) == 2)
	}
	if !found || sum.Trending == nil || len(sum.Trending) != 0 {
		t.Errorf("topic summary stories %+v, trending %v", sum.Stories, sum.Trending)
	}
	// The next digests chain on, empty: nothing listed twice.
	next := hook.waitFor(t, len(hook.alerts())+1)
	last := next[len(next)-1]
	if !last.Digest.Since.Equal(d.Until) || last.Digest.TotalStories != 0 {
		t.Errorf("digest after %+v", last.Digest)
	}
	// A receiver for match alerts only got none of them.
	if got := matchOnly.alerts(); len(got) != 0 {
		t.Errorf("a match-only receiver got %d digests", len(got))
	}
}

// A wire report, its syndicated copy and other outlets' rewrites of it are one story with
// several outlets in the topic summary, and one alert; another event on the same subject is
// another story, with its own alert.
func TestStoryAcrossOutletsEndToEnd(t *testing.T) {
	fs := newFeedServer(t)
	hook := newHookReceiver(t)
	now := time.Now()
	const (
		reportTitle = "North Korea deploys 3,000 troops to Russia's Kursk front, Seoul says"
		reportText  = "South Korea's spy agency said on Wednesday that about 3,000 North Korean soldiers have moved to the front line in the Kursk region, where Ukraine holds territory, citing satellite imagery."
	)
	fs.set("/wire.xml", rssAt("Wire",
		dated{reportTitle, "https://wire.example.com/kursk", reportText, now.Add(-3 * time.Hour)},
		dated{"Russia's parliament ratifies defence treaty with North Korea", "https://wire.example.com/treaty",
			"The State Duma voted unanimously on Thursday to ratify the strategic partnership treaty with Pyongyang, which includes a mutual military assistance clause.", now.Add(-time.Hour)}))
	fs.set("/paper.xml", rssAt("Paper", dated{reportTitle + " - Wire", "https://paper.example.net/kursk",
		"SEOUL (Wire) - South Korea's spy agency said on Wednesday that about 3,000 North Korean soldiers have moved to the front line in the Kursk region, where Ukraine holds territory.", now.Add(-160 * time.Minute)}))
	fs.set("/blog.xml", rssAt("Blog", dated{"Seoul: Pyongyang has sent 3,000 soldiers to the Kursk front line", "https://blog.example.org/kursk",
		"South Korea's National Intelligence Service told lawmakers that some 3,000 troops from North Korea are now at the front in Russia's Kursk region, based on satellite imagery.", now.Add(-2 * time.Hour)}))
	fs.set("/herald.xml", rssAt("Herald", dated{"Spy agency says North Korea's troops reached the Kursk front in Russia", "https://herald.example.com/kursk",
		"About 3,000 North Korean soldiers have arrived at the Kursk front line, where Ukrainian forces hold territory, South Korea's intelligence agency said on Wednesday.", now.Add(-90 * time.Minute)}))
	fs.set("/post.xml", rssAt("Post"))
	extra := fmt.Sprintf(`  - {id: herald, url: "%s/herald.xml", schedule: "@every 1h"}
  - {id: post, url: "%s/post.xml", schedule: "@every 1h"}
`, fs.srv.URL, fs.srv.URL) + alertsYAML(hook.srv.URL)
	cfg := testConfig(t, t.TempDir(), fs.srv.URL, extra)
	r := startApp(t, cfg)
	r.waitPolled(t, 1, "wire", "paper", "blog", "herald", "post")
	r.waitCount(t, "dprk-russia", 5)
	hook.waitFor(t, 1)
	r.waitMatchesFolded(t)
	r.waitAlertsDecided(t, hook, "dprk-russia")
	// Each story is alerted once: its first report, the articles that arrived with it folded in.
	entries := map[string][]notify.Article{}
	for _, a := range hook.alerts() {
		for _, art := range a.Articles {
			entries[art.Story] = append(entries[art.Story], art)
		}
	}
	sum := r.topic(t, "dprk-russia")
	if len(sum.Stories) != 2 {
		t.Fatalf("%d stories, want 2: %+v", len(sum.Stories), sum.Stories)
	}
	kursk := sum.Stories[0]
	if kursk.Title != reportTitle {
		kursk = sum.Stories[1]
	}
	if kursk.Title != reportTitle || len(kursk.Outlets) != 4 || kursk.Outlets[0].Source != "wire" || kursk.Outlets[3].LagSeconds != 5400 {
		t.Fatalf("the wire story %+v", kursk)
	}
	if len(entries) != 2 || len(entries[kursk.ID]) != 1 {
		t.Fatalf("alerted stories %+v", entries)
	}
	// A fifth outlet's rewrite later: the story gains an outlet, and no alert fires.
	before := len(hook.alerts())
	fs.set("/post.xml", rssAt("Post", dated{"Kursk front: 3,000 North Korean soldiers now fighting for Russia, says Seoul", "https://post.example.com/kursk",
		"Seoul's intelligence agency says around 3,000 troops sent by Pyongyang have reached the front line in the Kursk region, citing satellite imagery.", now.Add(-30 * time.Minute)}))
	pollNow(t, r, "post", "ok")
	r.waitCount(t, "dprk-russia", 6)
	r.waitMatchesFolded(t)
	r.waitAlertsDecided(t, hook, "dprk-russia")
	if got := hook.alerts(); len(got) != before {
		t.Errorf("a later rewrite fired %+v", got[before:])
	}
	for _, st := range r.topic(t, "dprk-russia").Stories {
		if st.ID == kursk.ID && len(st.Outlets) != 5 {
			t.Errorf("after the fifth outlet: %+v", st)
		}
	}
}
