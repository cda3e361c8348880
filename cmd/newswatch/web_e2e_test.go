package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/newswatch/newswatch/alerts"
	"github.com/newswatch/newswatch/matching"
	"github.com/newswatch/newswatch/topics"
)

// demoCopy copies the offline demo's feeds into a temporary directory with a config that
// polls them every second; it returns the config's path and the wire feed's path.
func demoCopy(t *testing.T) (cfgPath, wire string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "feeds"), os.DirFS("../../examples/feeds")); err != nil {
		t.Fatal(err)
	}
	demo, err := os.ReadFile("../../examples/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	y := strings.NewReplacer("./data-demo", filepath.Join(dir, "data"), "127.0.0.1:4222", `""`,
		"127.0.0.1:8080", "127.0.0.1:0", `"@every 10s"`, `"@every 1s"`, `"@every 15s"`, `"@every 1s"`).Replace(string(demo))
	cfgPath = filepath.Join(dir, "demo.yaml")
	if err := os.WriteFile(cfgPath, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfgPath, filepath.Join(dir, "feeds", "wire.xml")
}

// addItem puts a new item at the top of an RSS file, dated now.
func addItem(t *testing.T, path, title, desc string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	item := fmt.Sprintf("<item><title>%s</title><link>https://wire.example.com/world/%d</link><pubDate>%s</pubDate><description>%s</description></item>\n    <item>",
		title, time.Now().UnixNano(), time.Now().UTC().Format(time.RFC1123Z), desc)
	out := strings.Replace(string(b), "<item>", item, 1)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// alertedTitles returns the titles of the articles of the stored alerts.
func (r *running) alertedTitles(t *testing.T) []string {
	var out []string
	for _, a := range r.storedAlerts(t) {
		for _, art := range a.Articles {
			out = append(out, art.Title)
		}
	}
	return out
}

func waitUntil(t *testing.T, what string, within time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The analyst's page, opened in headless Chromium on the offline demo as a new analyst would:
// every page loads without console errors and without serious accessibility violations on a
// desktop and a phone screen; the overview and topic pages show the demo's stories; the query
// tester counts what an edited query matches; a new feed item appears as a live alert; a
// silence made on the page is listed by the API and stops alerts; a cross-site form post
// changes nothing.
func TestAnalystPageInBrowser(t *testing.T) {
	chromium(t) // before starting anything: skip (or fail under CI) at once without a browser
	cfgPath, wire := demoCopy(t)
	cfg, err := loadConfig(cfgPath, false)
	if err != nil {
		t.Fatal(err)
	}
	r := startApp(t, cfg)
	r.waitPolled(t, 1, "wire", "daily", "herald", "regional")
	waitUntil(t, "the demo's two stories alerted", 20*time.Second, func() bool { return len(r.alertedTitles(t)) >= 2 })
	sum := r.topic(t, "dprk-russia")
	sanatorium := ""
	for _, st := range sum.Stories {
		if strings.Contains(st.Title, "sanatorium") {
			sanatorium = st.ID
		}
	}
	if sanatorium == "" {
		t.Fatalf("no sanatorium story in %+v", sum.Stories)
	}
	base := "http://" + r.app.HTTPAddr()
	b := newBrowser(t, base)

	b.visit(t, "overview", "/", "")
	overview := eval[string](t, b, `document.querySelector("table.topics").innerText`)
	if !strings.Contains(overview, "DPRK–Russia military cooperation") || !strings.Contains(overview, "sanatoriums") {
		t.Errorf("the overview does not list the demo topic with its stories:\n%s", overview)
	}
	// Keyboard: the first Tab reaches the skip link, Enter moves to the content, the next Tab
	// reaches the table's scroll region (scrollable by keyboard) and the one after the topic.
	b.open(t, "/", 1920, 1080)
	b.do(t, "tab to the skip link", chromedp.KeyEvent("\t"))
	if cls := eval[string](t, b, `document.activeElement.className`); cls != "skip" {
		t.Errorf("the first Tab focuses %q, not the skip link", cls)
	}
	b.do(t, "follow the skip link", chromedp.KeyEvent("\r"))
	b.waitJS(t, "focus on the content", `document.activeElement.id === "main"`, 5*time.Second)
	b.do(t, "tab into the content", chromedp.KeyEvent("\t"))
	if label := eval[string](t, b, `document.activeElement.getAttribute("aria-label") || ""`); !strings.HasPrefix(label, "Topics") {
		t.Errorf("the first Tab in the content focuses %q, not the topics table's scroll region", label)
	}
	b.do(t, "tab to the first topic", chromedp.KeyEvent("\t"))
	if href := eval[string](t, b, `document.activeElement.getAttribute("href") || ""`); !strings.HasPrefix(href, "/topics/") {
		t.Errorf("the first Tab in the content focuses %q, not a topic", href)
	}
	b.visit(t, "topic", "/topics/dprk-russia", "")
	row := eval[string](t, b, `[...document.querySelectorAll("#stories-h ~ div tr")].map(r => r.innerText).find(t => t.includes("sanatorium")) || ""`)
	// The wire story and its syndicated copy in the daily are one article: whichever feed was
	// polled first carries it.
	if !strings.Contains(row, "herald") || !strings.Contains(row, "wire") && !strings.Contains(row, "daily") {
		t.Errorf("the topic page's sanatorium story does not show both outlets: %q", row)
	}
	b.visit(t, "story", "/topics/dprk-russia/stories/"+sanatorium, "")
	if kinds := eval[string](t, b, `document.querySelector("#arts-h ~ div table").innerText`); !strings.Contains(kinds, "first report") || !strings.Contains(kinds, "herald") {
		t.Errorf("the story page does not list the first report and the Herald's article:\n%s", kinds)
	}
	b.visit(t, "search", "/search?q=troops", `!!document.getElementById("match-count")`)
	b.visit(t, "feeds", "/feeds", "")
	b.visit(t, "silences", "/silences", "")

	checkQueryTester(t, r, b, cfg.Topics[0].Query)

	// A live alert, without reloading.
	b.visit(t, "alerts", "/alerts", `document.getElementById("live-status").textContent.startsWith("Live")`)
	addItem(t, wire, "Satellite images show Pyongyang loading artillery shells bound for Moscow at Rajin port",
		"Analysts say troops guard the port as Russia receives more munitions.")
	b.waitJS(t, "the new item as a live alert", `document.getElementById("alert-list").innerText.includes("Rajin")`, 15*time.Second)
	if title := eval[string](t, b, `document.title`); !strings.HasPrefix(title, "(1) ") {
		t.Errorf("tab title %q does not count the unseen alert", title)
	}
	b.shoot(t, "alerts-live-desktop")
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors on the live alerts page: %v", errs)
	}

	checkSilence(t, r, b, wire)
	checkCrossSite(t, r, base)
}

// checkQueryTester edits the topic's query on the page and compares the counts it shows with
// the stored articles matched here.
func checkQueryTester(t *testing.T, r *running, b *browser, current string) {
	t.Helper()
	edited := `Pyongyang OR storm OR rates`
	want := map[string]int{}
	m, err := topics.Compile([]topics.Topic{{ID: "edited", Query: edited}, {ID: "current", Query: current}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range r.articles(t) {
		for _, h := range m.Match(matching.DocOf(a, nil)) {
			want[h.Topic]++
		}
	}
	if want["edited"] == want["current"] || want["edited"] == 0 {
		t.Fatalf("a query test needs an edit that changes the count: %v", want)
	}
	b.visit(t, "query", "/query?topic=dprk-russia", `!!document.getElementById("match-count")`)
	b.do(t, "edit the query", chromedp.Clear("#q"), chromedp.SendKeys("#q", edited))
	b.waitJS(t, "the tester's count for the edited query", `(document.getElementById("match-count") || {}).textContent === "`+strconv.Itoa(want["edited"])+`"`, 15*time.Second)
	if got := eval[string](t, b, `document.getElementById("current-count").textContent`); got != strconv.Itoa(want["current"]) {
		t.Errorf("the tester says the current query matches %s, want %d", got, want["current"])
	}
	if yaml := eval[string](t, b, `document.querySelector("pre.yaml").textContent`); !strings.Contains(yaml, "Pyongyang OR storm") || !strings.Contains(yaml, "id: dprk-russia") {
		t.Errorf("the tester's YAML does not carry the edited query:\n%s", yaml)
	}
	b.shoot(t, "query-edited-desktop")
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors on the query tester: %v", errs)
	}
}

// checkSilence creates a silence on the page, sees it in the API, checks that an article
// matched meanwhile does not alert, then expires it on the page and sees alerts resume.
func checkSilence(t *testing.T, r *running, b *browser, wire string) {
	t.Helper()
	b.open(t, "/silences?topic=dprk-russia", 1920, 1080)
	b.do(t, "create a silence", chromedp.SendKeys("#sil-comment", "known story, browser test"), chromedp.Click(`#silence-form button[type="submit"]`))
	b.waitJS(t, "the new silence listed", `!!document.getElementById("silence-list") && document.getElementById("silence-list").innerText.includes("browser test")`, 15*time.Second)
	b.shoot(t, "silences-active-desktop")
	var listed []alerts.Silence
	getJSON(t, "http://"+r.app.HTTPAddr()+"/api/v1/silences", &listed)
	if len(listed) != 1 || listed[0].Topic != "dprk-russia" || listed[0].Comment != "known story, browser test" {
		t.Fatalf("GET /api/v1/silences = %+v", listed)
	}
	before := r.app.summaries.Count("dprk-russia")
	silenced := "Kremlin confirms Pyongyang soldiers trained near Vladivostok while silence holds"
	addItem(t, wire, silenced, "A new report on military cooperation.")
	waitUntil(t, "the silenced article matched", 15*time.Second, func() bool { return r.app.summaries.Count("dprk-russia") > before })
	waitUntil(t, "the alert engine caught up", 15*time.Second, func() bool { return r.app.alertRun.Lag() == 0 })
	time.Sleep(time.Second) // the engine observes the match after it is counted; give it room

	b.do(t, "expire the silence", chromedp.Click("button.expire"))
	b.waitJS(t, "the silence gone", `!document.getElementById("silence-list")`, 15*time.Second)
	getJSON(t, "http://"+r.app.HTTPAddr()+"/api/v1/silences", &listed)
	if len(listed) != 0 {
		t.Fatalf("after expiring on the page, GET /api/v1/silences = %+v", listed)
	}
	after := "Moscow hosts Pyongyang generals to plan troops rotation after the silence ended"
	addItem(t, wire, after, "Officials discussed the next rotation.")
	waitUntil(t, "an alert after the silence", 15*time.Second, func() bool { return slices.Contains(r.alertedTitles(t), after) })
	if slices.Contains(r.alertedTitles(t), silenced) {
		t.Error("an article matched during the silence alerted")
	}
}

// checkCrossSite posts a form from another site to the API and the page: nothing changes.
func checkCrossSite(t *testing.T, r *running, base string) {
	t.Helper()
	form := url.Values{"topic": {"dprk-russia"}, "duration": {"2h"}, "comment": {"csrf"}}.Encode()
	for _, path := range []string{"/api/v1/silences", "/silences", "/"} {
		req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("cross-site form POST %s = %s, want refused", path, resp.Status)
		}
	}
	var listed []alerts.Silence
	getJSON(t, base+"/api/v1/silences", &listed)
	if len(listed) != 0 {
		t.Errorf("a cross-site form post made a silence: %+v", listed)
	}
}
