package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/feeds/normalize"
	"github.com/newswatch/newswatch/internal/storyeval"
	"github.com/newswatch/newswatch/projections/stories"
)

// uciDaemonFloors are the least B-cubed precision and recall the daemon keeps on each half
// of the UCI headlines, just below the lowest of repeated runs (the order in which the feeds'
// articles reach the stream varies from run to run, and so do the stories; measured in
// docs/stories-spikes-digests.md).
var uciDaemonFloors = map[string]struct{ bPrec, bRec float64 }{
	"tune": {0.88, 0.65},
	"test": {0.88, 0.65},
}

// TestStoryDaemonUCI runs the daemon as a user would on the public UCI News Aggregator
// headlines: one file: feed per outlet holding that outlet's headlines of one half of the
// set, one topic matching every article (all feeds are tagged uci, the topic's query is
// tag:uci), and reads every story through GET /api/v1/topics/{id}/stories page by page. It
// scores the stories against the labels like TestStoryBenchmark (B-cubed and pairwise) and
// fails below the floors. The feeds are polled concurrently, so the articles reach the
// stream grouped by outlet, not in time order.
//
// Opt in: the data cannot be committed (projections/stories/testdata/PUBLIC.md).
//
//	NEWSWATCH_STORY_DATA=/folder/of/uci-news-aggregator_small.csv go test -v -run TestStoryDaemonUCI ./cmd/newswatch
func TestStoryDaemonUCI(t *testing.T) {
	dir := os.Getenv(storyeval.Env)
	if dir == "" {
		t.Skipf("set %s to the folder holding %s to run the daemon on the public UCI headlines (projections/stories/testdata/PUBLIC.md)", storyeval.Env, storyeval.UCIFile)
	}
	tune, test, err := storyeval.LoadUCI(dir)
	if err != nil {
		t.Fatal(err)
	}
	splits := []struct {
		name string
		rows []storyeval.Row
	}{{"tune", tune}, {"test", test}}
	for _, sp := range splits {
		if only := os.Getenv("NEWSWATCH_STORY_SPLIT"); only != "" && only != sp.name {
			continue
		}
		t.Run(sp.name, func(t *testing.T) {
			s, missing := runUCIDaemon(t, sp.rows)
			t.Logf("uci/daemon %s: %s | %d rows not listed", sp.name, s, missing)
			if s.BPrec < 0.90 || s.BF1() < 0.70 {
				t.Logf("uci/daemon %s: below the goal of issue 14 (B3 F1 0.70 at precision 0.90) in this run", sp.name)
			}
			floor := uciDaemonFloors[sp.name]
			if s.BPrec < floor.bPrec || s.BRec < floor.bRec || missing > 0 {
				t.Errorf("%s: B3 precision %.3f recall %.3f, %d rows not listed; floor %.2f %.2f",
					sp.name, s.BPrec, s.BRec, missing, floor.bPrec, floor.bRec)
			}
		})
	}
}

// uciFeedID is a feed id for an outlet's host name, unique among seen.
func uciFeedID(host string, seen map[string]bool) string {
	id := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(host))
	id = strings.Trim(id, "-")
	if len(id) > 56 {
		id = strings.TrimRight(id[:56], "-")
	}
	if id == "" {
		id = "outlet"
	}
	base := id
	for i := 2; seen[id]; i++ {
		id = fmt.Sprintf("%s-%d", base, i)
	}
	seen[id] = true
	return id
}

func xmlText(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// runUCIDaemon runs a daemon on rows and returns the scores of its stories, read through the
// API, over the rows it listed, and how many rows no story lists.
func runUCIDaemon(t *testing.T, rows []storyeval.Row) (storyeval.Scores, int) {
	tmp := t.TempDir()
	feedDir := filepath.Join(tmp, "feeds")
	if err := os.Mkdir(feedDir, 0o755); err != nil {
		t.Fatal(err)
	}
	byOutlet := map[string][]storyeval.Row{}
	var outlets []string
	for _, r := range rows {
		if byOutlet[r.Source] == nil {
			outlets = append(outlets, r.Source)
		}
		byOutlet[r.Source] = append(byOutlet[r.Source], r)
	}
	// Each row's article id, as the daemon derives it: rows with one canonical URL are one
	// article (its truth is the story of the earliest).
	truth := map[string]string{}
	published := map[string]time.Time{}
	seen := map[string]bool{}
	slices.Sort(outlets) // as a user's list of feeds might be, in no time order
	var yaml strings.Builder
	fmt.Fprintf(&yaml, "data_dir: %s\nhttp: {listen: \"127.0.0.1:0\"}\nnats: {listen: \"\"}\nlog: {level: warn}\nfeeds:\n", filepath.Join(tmp, "data"))
	for _, host := range outlets {
		id := uciFeedID(host, seen)
		var b strings.Builder
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>%s</title><link>http://%s/</link>`, xmlText(host), xmlText(host))
		for _, r := range byOutlet[host] {
			fmt.Fprintf(&b, "<item><title>%s</title><link>%s</link><guid isPermaLink=\"false\">%s</guid><pubDate>%s</pubDate></item>\n",
				xmlText(r.Title), xmlText(r.URL), r.ID, r.At.Format(time.RFC1123Z))
			canon, _ := normalize.CanonicalURL(r.URL)
			aid := normalize.ArticleID(canon, id, r.ID)
			if _, dup := truth[aid]; !dup {
				truth[aid], published[aid] = r.Story, r.At.Truncate(time.Second)
			}
		}
		b.WriteString("</channel></rss>\n")
		path := filepath.Join(feedDir, id+".xml")
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&yaml, "  - {id: %s, url: \"file://%s\", schedule: \"@every 24h\", tags: [uci]}\n", id, path)
	}
	yaml.WriteString("topics:\n  - {id: uci, name: UCI headlines, query: 'tag:uci'}\n")
	cfgPath := filepath.Join(tmp, "newswatch.yaml")
	cfg, err := config.Parse([]byte(yaml.String()), cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d rows, %d articles, %d outlets", len(rows), len(truth), len(outlets))
	r := startApp(t, cfg)

	// Every article matched, and the stories projection caught up with the matches.
	var list []stories.Story
	listed := 0
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(500 * time.Millisecond) {
		if n := r.app.summaries.Count("uci"); n == int64(len(truth)) {
			list = uciStories(t, r)
			listed = 0
			for _, s := range list {
				listed += len(s.Articles)
			}
			if listed == len(truth) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10 minutes the topic has %d articles and its stories %d, want %d", r.app.summaries.Count("uci"), listed, len(truth))
		}
	}
	// How far from time order the articles reached the stories projection: the share of
	// matches published before the match that preceded them in the stream.
	ms := r.matchEvents(t)
	back := 0
	for i := 1; i < len(ms); i++ {
		if ms[i].PublishedAt.Before(ms[i-1].PublishedAt) {
			back++
		}
	}
	t.Logf("%d matches, %.0f%% published before the match before them in the stream", len(ms), 100*float64(back)/float64(max(1, len(ms)-1)))
	var want, got []string
	inList := map[string]bool{}
	for _, s := range list {
		if len(s.Articles) != s.ArticleCount {
			t.Errorf("story %s lists %d of its %d articles", s.ID, len(s.Articles), s.ArticleCount)
		}
		for _, a := range s.Articles {
			story, ok := truth[a.ID]
			if !ok {
				t.Fatalf("article %s (%s) is none of the rows", a.ID, a.URL)
			}
			if inList[a.ID] {
				t.Fatalf("article %s is listed twice", a.ID)
			}
			inList[a.ID] = true
			// The story model goes by the feed's time (2014), not by when the daemon saw it.
			if !a.PublishedAt.Equal(published[a.ID]) {
				t.Errorf("article %s published at %s, the feed says %s", a.ID, a.PublishedAt, published[a.ID])
			}
			want, got = append(want, story), append(got, s.ID)
		}
	}
	return storyeval.Score(want, got), len(truth) - len(inList)
}

// uciStories reads every story of the topic through the API, page by page.
func uciStories(t *testing.T, r *running) []stories.Story {
	t.Helper()
	var list []stories.Story
	cursor := ""
	for pages := 1; ; pages++ {
		var p stories.Page
		getJSON(t, fmt.Sprintf("http://%s/api/v1/topics/uci/stories?limit=50&cursor=%s", r.app.HTTPAddr(), url.QueryEscape(cursor)), &p)
		list = append(list, p.Stories...)
		if p.NextCursor == "" {
			break
		}
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
		cursor = p.NextCursor
	}
	// Scored in the order the stories were founded (for the share of folded articles).
	slices.SortStableFunc(list, func(a, b stories.Story) int { return a.FirstSeen.Compare(b.FirstSeen) })
	return list
}
