package events_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/projections/alertlog"
	"github.com/newswatch/newswatch/projections/feedhealth"
	"github.com/newswatch/newswatch/projections/stories"
	"github.com/newswatch/newswatch/projections/summaries"
)

// Every schema version ever written stays readable.
func TestOldSchemaVersionsStayReadable(t *testing.T) {
	dirs, err := filepath.Glob("testdata/schema/v*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no schema fixtures: %v", err)
	}
	for _, dir := range dirs {
		read := func(name string) []byte {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		a, err := events.ParseArticle(read("article.json"))
		if err != nil || a.ID == "" || a.URL == "" || a.PublishedAt.IsZero() || a.FeedID == "" {
			t.Errorf("%s article: %+v, %v", dir, a, err)
		}
		m, err := events.ParseMatch(read("match.json"))
		if err != nil || m.Topic == "" || m.ArticleID != a.ID || len(m.Matched) == 0 || m.QueryVersion == "" {
			t.Errorf("%s match: %+v, %v", dir, m, err)
		}
		p, err := events.ParsePoll(read("poll.json"))
		if err != nil || p.FeedID == "" || p.Result == "" || p.FinishedAt.IsZero() {
			t.Errorf("%s poll: %+v, %v", dir, p, err)
		}
		// And the projections fold them.
		if err := feedhealth.New().Apply(read("poll.json"), 1); err != nil {
			t.Errorf("%s feed health: %v", dir, err)
		}
		sum := summaries.New()
		if err := sum.Apply(read("match.json"), 2); err != nil || sum.Count(m.Topic) != 1 {
			t.Errorf("%s summaries: %v", dir, err)
		}
		if err := alertlog.New().Apply(read("alert.json"), 3); err != nil {
			t.Errorf("%s alert log: %v", dir, err)
		}
		if err := stories.New().Apply(read("match.json"), 2); err != nil {
			t.Errorf("%s stories: %v", dir, err)
		}
		// Every kind of alert: match (alert.json), and since it existed, spike and digest.
		kinds, _ := filepath.Glob(filepath.Join(dir, "alert*.json"))
		for _, k := range kinds {
			data := read(filepath.Base(k))
			var alert notify.Alert
			if err := json.Unmarshal(data, &alert); err != nil || alert.ID == "" || alert.Kind == "" || len(alert.Articles) == 0 ||
				(alert.Kind == notify.KindSpike) != (alert.Spike != nil && alert.Spike.Count > 0) ||
				(alert.Kind == notify.KindDigest) != (alert.Digest != nil && !alert.Digest.Until.IsZero()) {
				t.Errorf("%s: %+v, %v", k, alert, err)
			}
			if err := alertlog.New().Apply(data, 3); err != nil {
				t.Errorf("%s alert log: %v", k, err)
			}
			if strings.Contains(k, "late") && (alert.Late == nil || alert.Late.AgeSeconds <= 0 || alert.Late.MatchedAt.IsZero()) {
				t.Errorf("%s: late alert without its lateness: %+v", k, alert.Late)
			}
		}
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	b, err := os.ReadFile("testdata/schema/v1/article.json")
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	_ = json.Unmarshal(b, &obj)
	obj["schemaversion"] = events.ArticleSchemaVersion + 1
	future, _ := json.Marshal(obj)
	if _, err := events.ParseArticle(future); err == nil {
		t.Error("an article from a future schema version was accepted silently")
	}
	if _, err := events.ParseMatch(b); err == nil {
		t.Error("an article event parsed as a match")
	}
}
