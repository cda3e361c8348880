package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/alerts/notify"
)

// The offline demo does what the README says: seven articles, the syndicated copy a duplicate,
// two stories of which the sanatorium one has the Herald's rewrite as a second outlet, and
// each story alerted once.
func TestDemoAsReadmeSays(t *testing.T) {
	// A copy: the README invites the reader to edit examples/feeds while the demo runs.
	examples := copyExamples(t)
	cfg, err := loadConfig(filepath.Join(examples, "demo.yaml"), false)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir, cfg.NATS.Listen, cfg.HTTP.Listen = t.TempDir(), "", "127.0.0.1:0"
	r := startApp(t, cfg)
	r.waitPolled(t, 1, "wire", "daily", "herald", "regional")
	if n := len(r.articles(t)); n != 7 {
		t.Errorf("%d articles, want 7", n)
	}
	if n := r.metric(t, "newswatch_articles_duplicate_total", nil); n != 1 {
		t.Errorf("%v duplicates, want 1", n)
	}
	r.waitCount(t, "dprk-russia", 3)
	r.waitMatchesFolded(t) // the summary's stories come from the stories projection
	sum := r.topic(t, "dprk-russia")
	outlets := map[int]int{}
	for _, st := range sum.Stories {
		outlets[len(st.Outlets)]++
	}
	if len(sum.Stories) != 2 || outlets[2] != 1 {
		t.Fatalf("stories %+v", sum.Stories)
	}
	r.waitAlertsDecided(t, nil, "dprk-russia")
	alerted := map[string]int{}
	for _, a := range r.storedAlerts(t) {
		for _, art := range a.Articles {
			if a.Kind == notify.KindMatch {
				alerted[art.Story]++
			}
		}
	}
	if len(alerted) != 2 || alerted[sum.Stories[0].ID] != 1 || alerted[sum.Stories[1].ID] != 1 {
		t.Errorf("alerted stories %v, want each of %+v once", alerted, sum.Stories)
	}
}

// copyExamples copies the repository's examples/ folder into a temporary directory and returns
// its path, so that tests neither read what a reader is editing nor write into the repository.
func copyExamples(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "examples")
	if err := os.CopyFS(dst, os.DirFS("../../examples")); err != nil {
		t.Fatalf("copy examples: %v", err)
	}
	return dst
}

// The demo config's own comment counts its feeds right.
func TestDemoCommentCountsFeeds(t *testing.T) {
	data, err := os.ReadFile("../../examples/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(filepath.Join(copyExamples(t), "demo.yaml"), false)
	if err != nil {
		t.Fatal(err)
	}
	words := []string{"no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
	if n := len(cfg.Feeds); n >= len(words) || !strings.Contains(string(data), "Offline demo: "+words[n]+" local feeds") {
		t.Errorf("examples/demo.yaml has %d feeds; its first comment says:\n%s", n, strings.SplitN(string(data), "\n", 2)[0])
	}
}
