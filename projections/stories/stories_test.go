package stories

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
)

var t0 = time.Date(2026, 6, 17, 6, 0, 0, 0, time.UTC)

var _ events.Projection = (*Projection)(nil)

func apply(t *testing.T, p *Projection, topic string, arts ...labelled) {
	t.Helper()
	for i, a := range arts {
		if err := p.Apply(matchEvent(t, topic, a), uint64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
}

func byID(t *testing.T, arts []labelled, ids ...string) []labelled {
	t.Helper()
	var out []labelled
	for _, id := range ids {
		i := slices.IndexFunc(arts, func(a labelled) bool { return a.ID == id })
		if i < 0 {
			t.Fatalf("no article %s", id)
		}
		out = append(out, arts[i])
	}
	return out
}

// A wire story, its syndicated copies and two outlets' rewrites are one story with five
// outlets, first reported by the wire, each outlet's lag measured from it; the same event's
// casualty figures a day later are another story.
func TestStoryOfCopiesAndRewrites(t *testing.T) {
	arts, _ := loadMatched(t, "testdata/labelled.json")
	p := New()
	apply(t, p, "dprk-russia", byID(t, arts, "e5-wire", "e5-copy1", "e5-copy2", "e5-rw1", "e5-rw2", "e7-wire", "e7-rw1")...)
	got := p.Stories("dprk-russia", 0)
	if len(got) != 2 {
		t.Fatalf("got %d stories, want 2: %+v", len(got), got)
	}
	casualties, kursk := got[0], got[1] // newest activity first
	if kursk.Title != "North Korean troops deployed to Russia's Kursk region, Seoul says" || kursk.ArticleCount != 5 {
		t.Errorf("kursk story: %q with %d articles", kursk.Title, kursk.ArticleCount)
	}
	if casualties.ArticleCount != 2 || casualties.FirstReport.ID != "e7-wire" {
		t.Errorf("casualties story: %+v", casualties)
	}
	wantOutlets := []Outlet{
		{Source: "globalwire", FirstAt: t0, LagSeconds: 0, Articles: 1},
		{Source: "courier", FirstAt: t0.Add(25 * time.Minute), LagSeconds: 1500, Articles: 1},
		{Source: "daily-herald", FirstAt: t0.Add(50 * time.Minute), LagSeconds: 3000, Articles: 1},
		{Source: "the-times", FirstAt: t0.Add(130 * time.Minute), LagSeconds: 7800, Articles: 1},
		{Source: "morning-post", FirstAt: t0.Add(220 * time.Minute), LagSeconds: 13200, Articles: 1},
	}
	if !slices.Equal(kursk.Outlets, wantOutlets) {
		t.Errorf("outlets:\n got %+v\nwant %+v", kursk.Outlets, wantOutlets)
	}
	if kursk.ID != storyID("dprk-russia", "e5-wire") || !kursk.FirstSeen.Equal(t0) {
		t.Errorf("id %s first seen %v", kursk.ID, kursk.FirstSeen)
	}
	for _, id := range []string{"e5-wire", "e5-rw2"} {
		if sid, ok := p.StoryID("dprk-russia", id); !ok || sid != kursk.ID {
			t.Errorf("StoryID(%s) = %q, %v", id, sid, ok)
		}
	}
}

// The JSON has the shape of PRODUCT §6: "stories":[{"id","title","first_seen","articles":
// [{"id","url","source","published_at"}]}], with extra fields.
func TestStoryJSON(t *testing.T) {
	arts, _ := loadMatched(t, "testdata/labelled.json")
	p := New()
	apply(t, p, "dprk-russia", byID(t, arts, "e9-wire", "e9-copy1")...)
	b, err := json.Marshal(p.Stories("dprk-russia", 10))
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%s", b)
	}
	for _, k := range []string{"id", "title", "first_seen", "last_seen", "first_report", "article_count", "articles", "outlets"} {
		if _, ok := got[0][k]; !ok {
			t.Errorf("no %q in %s", k, b)
		}
	}
	art := got[0]["articles"].([]any)[1].(map[string]any)
	for _, k := range []string{"id", "url", "source", "published_at"} {
		if _, ok := art[k]; !ok {
			t.Errorf("no %q in article %v", k, art)
		}
	}
	if art["url"] != "https://daily-herald.example/e9-copy1" || art["published_at"] != "2026-06-19T02:30:00Z" {
		t.Errorf("article %v", art)
	}
	outlet := got[0]["outlets"].([]any)[1].(map[string]any)
	if outlet["source"] != "daily-herald" || outlet["lag_seconds"] != float64(1800) {
		t.Errorf("outlet %v", outlet)
	}
	if b, _ := json.Marshal(New().Stories("none", 5)); string(b) != "[]" {
		t.Errorf("no topic: %s", b)
	}
}

func TestStoriesNewestFirstAndLimit(t *testing.T) {
	p := New()
	words := []string{"alpha bravo", "charlie delta", "echo foxtrot", "golf hotel", "india juliet"}
	for i, w := range words {
		apply(t, p, "t", labelled{ID: fmt.Sprintf("a%d", i), Source: "s", At: t0.Add(time.Duration(i) * time.Hour), Title: w})
	}
	got := p.Stories("t", 3)
	if len(got) != 3 || got[0].FirstReport.ID != "a4" || got[2].FirstReport.ID != "a2" {
		t.Errorf("got %+v", got)
	}
	if n := len(p.Stories("t", 0)); n != 5 {
		t.Errorf("limit 0: %d stories", n)
	}
}

// A second match of an article (another query version) changes nothing; an article with no
// title and no summary is a story of its own that nothing joins.
func TestDuplicateAndEmpty(t *testing.T) {
	arts, _ := loadMatched(t, "testdata/labelled.json")
	p := New()
	apply(t, p, "dprk-russia", byID(t, arts, "e1-wire", "e1-copy1", "e1-wire")...)
	apply(t, p, "dprk-russia", labelled{ID: "empty-1", Source: "x", At: t0}, labelled{ID: "empty-2", Source: "y", At: t0})
	got := p.Stories("dprk-russia", 0)
	if len(got) != 3 {
		t.Fatalf("got %d stories", len(got))
	}
	for _, s := range got {
		if s.FirstReport.ID == "e1-wire" && s.ArticleCount != 2 {
			t.Errorf("duplicate counted: %+v", s)
		}
	}
}

// Memory is bounded by the window: after ten days of steady traffic only the last two days'
// stories can be joined, and only the last eight days' are listed.
func TestPruneByEventTime(t *testing.T) {
	p := New()
	for i := range 240 {
		at := t0.Add(time.Duration(i) * time.Hour)
		apply(t, p, "t", labelled{
			ID: fmt.Sprintf("a%d", i), Source: "s", At: at,
			Title: fmt.Sprintf("%d %d", 1000+i, 5000+i), Summary: fmt.Sprintf("%d", 9000+i),
		})
	}
	ts := p.topics["t"]
	if n := len(ts.index.live); n < 48 || n > 50 {
		t.Errorf("%d joinable stories, want about 48", n)
	}
	if n := len(ts.stories); n < 192 || n > 194 {
		t.Errorf("%d listed stories, want about 192", n)
	}
	if _, ok := p.StoryID("t", "a0"); ok {
		t.Error("a story older than the retention is still known")
	}
	if n := len(ts.byArticle); n != len(ts.stories) {
		t.Errorf("%d article ids for %d single-article stories", n, len(ts.stories))
	}
}

// A restart from a snapshot continues exactly where the projection was: the same stories as
// a projection that never stopped, and the same snapshot bytes.
func TestSnapshotRestoreContinues(t *testing.T) {
	arts, _ := loadMatched(t, "testdata/labelled.json")
	whole := New()
	apply(t, whole, "dprk-russia", arts...)
	want, err := whole.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{1, 20, 47, len(arts) - 1} {
		first := New()
		apply(t, first, "dprk-russia", arts[:cut]...)
		snap, err := first.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		second := New()
		if err := second.Restore(snap); err != nil {
			t.Fatal(err)
		}
		apply(t, second, "dprk-russia", arts[cut:]...)
		got, err := second.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("cut at %d: snapshot differs from a projection that never stopped", cut)
		}
	}
}

func TestRestoreRejects(t *testing.T) {
	for name, in := range map[string]string{
		"garbage":     `{`,
		"version":     `{"version":99,"topics":{}}`,
		"no articles": `{"version":2,"topics":{"t":{"stories":[{"key":1,"id":"s"}]}}}`,
		"bad terms":   `{"version":2,"topics":{"t":{"stories":[{"key":1,"id":"s","articles":[{"id":"a"}],"members":[{"at":1,"terms":"AAA="}]}]}}}`,
	} {
		p := New()
		apply(t, p, "x", labelled{ID: "a", Source: "s", At: t0, Title: "kept on failure"})
		err := p.Restore([]byte(in))
		if err == nil {
			t.Errorf("%s: restored", name)
		}
		if name == "version" && !errors.Is(err, ErrSnapshotVersion) {
			t.Errorf("version: %v", err)
		}
		if len(p.Stories("x", 0)) != 1 {
			t.Errorf("%s: a failed restore changed the state", name)
		}
	}
	p := New()
	if err := p.Restore(nil); err != nil || len(p.Stories("x", 0)) != 0 {
		t.Errorf("empty snapshot: %v", err)
	}
}

func TestApplyRejectsOtherEvents(t *testing.T) {
	if err := New().Apply([]byte(`{"type":"newswatch.article","id":"x","schemaversion":1,"data":{}}`), 1); err == nil {
		t.Error("applied an article event")
	}
}
