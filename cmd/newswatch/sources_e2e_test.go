package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/feeds/opml"
	"github.com/newswatch/newswatch/projections/feedhealth"
)

// call sends a JSON request to the running app's API and decodes the answer into out.
func (r *running) call(t *testing.T, method, path string, body any, out any) int {
	t.Helper()
	return callAPI(t, r.app.HTTPAddr(), method, path, body, out)
}

// callAPI sends a JSON request to the API at addr and decodes a 2xx answer into out (when not
// nil); it returns the status and logs the body of an answer that is not 2xx.
func callAPI(t *testing.T, addr, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, "http://"+addr+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
	if resp.StatusCode >= 300 {
		t.Logf("%s %s on %s: %d %s", method, path, addr, resp.StatusCode, strings.TrimSpace(string(data)))
	}
	return resp.StatusCode
}

func (fs *feedServer) hitsOf(path string) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.hits[path]
}

func (r *running) listed(t *testing.T) map[string]feedhealth.Feed {
	t.Helper()
	var list []feedhealth.Feed
	if code := r.call(t, http.MethodGet, "/api/v1/feeds", nil, &list); code != http.StatusOK {
		t.Fatalf("list feeds: %d", code)
	}
	out := map[string]feedhealth.Feed{}
	for _, f := range list {
		out[f.ID] = f
	}
	return out
}

// waitFor polls cond with a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func TestRuntimeFeeds(t *testing.T) {
	fs := newFeedServer(t)
	for _, p := range []string{"/wire.xml", "/paper.xml", "/blog.xml"} {
		fs.set(p, rss(p, item{"Story " + p, "https://news.example.com" + strings.TrimSuffix(p, ".xml"), "Text."}))
	}
	// A site whose home page announces its feed.
	fs.docs["/site/"] = `<!doctype html><html><head><title>Site</title>
<link rel="alternate" type="application/rss+xml" title="Site news" href="/site/news.xml"></head><body>Hello</body></html>`
	fs.set("/site/news.xml", rss("Site news", item{"Site story", "https://site.example/story", "Words."}))
	dataDir := t.TempDir()
	cfg := testConfig(t, dataDir, fs.srv.URL, "")
	r := startApp(t, cfg)
	r.waitPolled(t, 1, "wire", "paper", "blog")

	// A site's address is resolved to the feed it announces, which is polled at once.
	var added struct {
		ID, URL, Requested string
		FoundVia           string `json:"found_via"`
		FeedTitle          string `json:"feed_title"`
	}
	if code := r.call(t, http.MethodPost, "/api/v1/feeds", map[string]string{"id": "site", "url": fs.srv.URL + "/site/", "schedule": "@every 1s"}, &added); code != http.StatusCreated {
		t.Fatalf("add site: %d", code)
	}
	if added.URL != fs.srv.URL+"/site/news.xml" || added.FoundVia != "link" || added.FeedTitle != "Site news" || added.Requested != fs.srv.URL+"/site/" {
		t.Errorf("added %+v", added)
	}
	r.waitPolled(t, 1, "site")
	if f := r.listed(t)["site"]; f.Origin != "runtime" || f.URL != added.URL {
		t.Errorf("listed %+v, want a runtime feed at %s", f, added.URL)
	}
	if f := r.listed(t)["wire"]; f.Origin != "file" {
		t.Errorf("wire listed as %q, want file", f.Origin)
	}

	// Refusals: a form post, an id the file uses, a URL already polled, a bad schedule.
	resp, err := http.Post("http://"+r.app.HTTPAddr()+"/api/v1/feeds", "application/x-www-form-urlencoded", strings.NewReader("id=x&url=y"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("form post: %d, want 415", resp.StatusCode)
	}
	for _, tc := range []struct {
		body map[string]string
		want int
	}{
		{map[string]string{"id": "wire", "url": fs.srv.URL + "/site/news.xml"}, http.StatusConflict},
		{map[string]string{"id": "copy", "url": fs.srv.URL + "/wire.xml"}, http.StatusConflict},
		{map[string]string{"id": "bad", "url": fs.srv.URL + "/site/news.xml", "schedule": "every tuesday"}, http.StatusBadRequest},
		{map[string]string{"id": "Bad Id", "url": fs.srv.URL + "/site/news.xml"}, http.StatusBadRequest},
		{map[string]string{"id": "nofeed", "url": fs.srv.URL + "/nothing-here"}, http.StatusBadRequest},
	} {
		if code := r.call(t, http.MethodPost, "/api/v1/feeds", tc.body, nil); code != tc.want {
			t.Errorf("add %v: %d, want %d", tc.body, code, tc.want)
		}
	}
	if code := r.call(t, http.MethodDelete, "/api/v1/feeds/wire", nil, nil); code != http.StatusConflict {
		t.Errorf("delete a file feed: %d, want 409", code)
	}

	// Paused, the 1s feed stops being fetched; resumed, it is fetched again.
	if code := r.call(t, http.MethodPost, "/api/v1/feeds/site/pause", struct{}{}, nil); code != http.StatusOK {
		t.Fatalf("pause: %d", code)
	}
	time.Sleep(1500 * time.Millisecond) // a poll that had started before the pause finishes
	before := fs.hitsOf("/site/news.xml")
	time.Sleep(3 * time.Second)
	if got := fs.hitsOf("/site/news.xml"); got != before {
		t.Errorf("paused feed fetched %d times", got-before)
	}
	if !r.listed(t)["site"].Paused {
		t.Error("paused feed not listed as paused")
	}
	if code := r.call(t, http.MethodPost, "/api/v1/feeds/site/resume", struct{}{}, nil); code != http.StatusOK {
		t.Fatalf("resume: %d", code)
	}
	waitFor(t, "the resumed feed to be fetched", func() bool { return fs.hitsOf("/site/news.xml") > before })

	// Poll now; then change the schedule with PATCH.
	var poll struct{ Result string }
	if code := r.call(t, http.MethodPost, "/api/v1/feeds/wire/poll", struct{}{}, &poll); code != http.StatusOK || poll.Result == "" {
		t.Errorf("poll now: %d %+v", code, poll)
	}
	if code := r.call(t, http.MethodPatch, "/api/v1/feeds/site", map[string]string{"schedule": "@every 1h"}, nil); code != http.StatusOK {
		t.Errorf("patch: %d", code)
	}

	// An OPML file of 200 feeds, some duplicate and some broken, imports with a report and
	// every good feed is polled without a restart.
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><opml version="2.0"><head><title>Reader export</title></head><body><outline text="World">`)
	good := 0
	for i := range 200 {
		switch {
		case i%40 == 5:
			fmt.Fprintf(&b, `<outline text="Again %d" xmlUrl="%s/imp/%d.xml"/>`, i, fs.srv.URL, i-1)
		case i%50 == 9:
			fmt.Fprintf(&b, `<outline text="Broken %d" xmlUrl="feed:%d"/>`, i, i)
		case i == 10:
			fmt.Fprintf(&b, `<outline text="Wire again" xmlUrl="%s/wire.xml"/>`, fs.srv.URL)
		default:
			good++
			fs.set(fmt.Sprintf("/imp/%d.xml", i), rss(fmt.Sprintf("Imported %d", i), item{fmt.Sprintf("Imported story %d", i), fmt.Sprintf("https://imp.example/%d", i), "x"}))
			fmt.Fprintf(&b, `<outline text="Imported News" xmlUrl="%s/imp/%d.xml"/>`, fs.srv.URL, i)
		}
	}
	b.WriteString(`</outline></body></opml>`)
	var rep importReport
	if code := r.call(t, http.MethodPost, "/api/v1/feeds/import", map[string]string{"opml": b.String(), "schedule": "@every 1h"}, &rep); code != http.StatusOK {
		t.Fatalf("import: %d", code)
	}
	kinds := map[string]int{}
	for _, p := range rep.Problems {
		kinds[p.Kind]++
	}
	if len(rep.Added) != good || kinds[opml.ProblemDuplicate] != 6 || kinds[opml.ProblemInvalid] != 4 {
		t.Errorf("import added %d (want %d), problems %v (want 6 duplicates, 4 invalid)", len(rep.Added), good, kinds)
	}
	ids := []string{}
	for _, a := range rep.Added {
		ids = append(ids, a.ID)
		if len(a.Tags) != 1 || a.Tags[0] != "world" {
			t.Fatalf("imported %s tags %v, want [world]", a.ID, a.Tags)
		}
	}
	// 190 feeds polled at once on a shared 2-core machine: a generous deadline, and a short
	// failure message.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		pending := 0
		for _, id := range ids {
			if f, ok := r.app.health.Get(id); !ok || f.Polls < 1 {
				pending++
			}
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d imported feeds not polled", pending, len(ids))
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Everything survives a restart: runtime feeds, their ids and the pause flags.
	if code := r.call(t, http.MethodPost, "/api/v1/feeds/blog/pause", struct{}{}, nil); code != http.StatusOK {
		t.Fatalf("pause a file feed: %d", code)
	}
	if code := r.call(t, http.MethodDelete, "/api/v1/feeds/"+ids[0], nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete %s: %d", ids[0], code)
	}
	r.stop()
	r = startApp(t, testConfig(t, dataDir, fs.srv.URL, ""))
	list := r.listed(t)
	if len(list) != 3+1+good-1 {
		t.Errorf("after restart %d feeds listed, want %d", len(list), 3+1+good-1)
	}
	if _, ok := list[ids[0]]; ok {
		t.Errorf("deleted feed %s came back", ids[0])
	}
	if !list["blog"].Paused || list["site"].URL != added.URL {
		t.Errorf("after restart blog %+v site %+v", list["blog"], list["site"])
	}

	// Export writes OPML 2.0 that reads back to the same feeds.
	resp, err = http.Get("http://" + r.app.HTTPAddr() + "/api/v1/feeds/export")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := opml.Parse(resp.Body, opml.Limits{})
	resp.Body.Close()
	if err != nil || len(doc.Outlines) != len(list) {
		t.Errorf("export: %d outlines (want %d), %v", len(doc.Outlines), len(list), err)
	}

	// A reload whose file now declares the runtime feed's id: the file wins.
	extra := fmt.Sprintf(`  - {id: site, url: "%s/paper.xml?v=2", schedule: "@every 1h"}`, fs.srv.URL)
	if err := r.app.Reload(testConfig(t, dataDir, fs.srv.URL, extra)); err != nil {
		t.Fatal(err)
	}
	if f := r.listed(t)["site"]; f.Origin != "file" || f.URL != fs.srv.URL+"/paper.xml?v=2" {
		t.Errorf("after reload site is %+v, want the file's", f)
	}
	_ = config.Feed{}
}
