package alerts

import (
	"testing"
	"time"

	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/projections/stories"
)

// Every match of a topic with a rule either joins an alert or says why it did not.
func TestEverySuppressionHasItsReason(t *testing.T) {
	sil := NewSilences([]Silence{{ID: "sil-quiet", Topic: "k", Until: t0.Add(time.Hour), FromConfig: true}}, func() time.Time { return t0 })
	e := NewEngine([]Rule{{Topic: "k", Since: t0.Add(-time.Hour)}}, sil)
	x := projIndex{stories.New()}
	e.UseStories(x)
	var seq uint64
	observe := func(m events.Match, at time.Time) (Suppression, bool) {
		seq++
		return x.observe(t, e, m, seq, at)
	}
	bf := mAt("bf", "https://x/bf", "s", "Backfilled story", "", t0)
	bf.Backfill = true
	old := mAt("old", "https://x/old", "s", "History from before the rule", "", t0.Add(-2*time.Hour))
	quiet := mAt("q", "https://x/q", "s", "Story during the silence", "", t0)

	for _, tt := range []struct {
		m      events.Match
		at     time.Time
		reason string
		check  func(Suppression) bool
	}{
		{bf, t0, ReasonBackfill, func(Suppression) bool { return true }},
		{old, t0, ReasonBeforeRule, func(s Suppression) bool { return s.RuleSince.Equal(t0.Add(-time.Hour)) }},
		{quiet, t0.Add(30 * time.Minute), ReasonSilenced, func(s Suppression) bool { return s.Silence == "sil-quiet" }},
	} {
		s, ok := observe(tt.m, tt.at)
		if !ok || s.Reason != tt.reason || !tt.check(s) || s.ArticleID != tt.m.ArticleID || s.StreamSeq != seq {
			t.Errorf("%s: got %+v, %v; want reason %s", tt.m.ArticleID, s, ok, tt.reason)
		}
	}

	// After the silence: a story fires, and its copies are folded with the article they
	// matched and how alike they are.
	at := t0.Add(2 * time.Hour)
	if s, ok := observe(mAt("a1", "https://wire/a1", "wire", storyTitle, storySummary, at), at); ok {
		t.Fatalf("a new story was suppressed: %+v", s)
	}
	s, ok := observe(mAt("a2", "https://paper/a2", "paper", storyTitle, "Wire copy: "+storySummary, at), at)
	if !ok || s.Reason != ReasonFolded || s.FoldedInto != "a1" || s.FoldedBy != FoldedNearCopy || !s.InPendingAlert ||
		s.Similarity <= 0 || s.Similarity > 1 {
		t.Errorf("copy in the pending alert: %+v, %v", s, ok)
	}
	if !e.Waiting("k", "a1") || e.Waiting("k", "a2") {
		t.Errorf("waiting: a1 %v (want true), a2 %v (a copy, want false)", e.Waiting("k", "a1"), e.Waiting("k", "a2"))
	}
	if due := fireAll(t, e, at); len(due) != 1 {
		t.Fatalf("due = %+v", due)
	}
	if e.Waiting("k", "a1") {
		t.Error("a1 still waiting after its alert fired")
	}
	s, ok = observe(mAt("a3", "https://blog/a3", "blog", storyTitle, storySummary, at.Add(time.Hour)), at.Add(time.Hour))
	if !ok || s.Reason != ReasonFolded || s.FoldedInto != "a1" || s.FoldedBy != FoldedNearCopy || s.InPendingAlert || s.Similarity <= 0 {
		t.Errorf("copy of the alerted story: %+v, %v", s, ok)
	}
	s, ok = observe(mAt("a4", "https://wire/a1", "other", "Another title on the same URL", "", at.Add(time.Hour)), at.Add(time.Hour))
	if !ok || s.FoldedBy != FoldedSameURL || s.FoldedInto != "a1" {
		t.Errorf("same URL: %+v, %v", s, ok)
	}
	// A topic without a rule, and a match covered by a fired alert, are not suppressions.
	other := mAt("o", "https://x/o", "s", "Other topic", "", at)
	other.Topic = "no-rule"
	if s, ok := observe(other, at); ok {
		t.Errorf("topic without a rule: %+v", s)
	}
	if s, ok := e.Observe(mAt("r", "https://x/r", "s", "Re-read", "", at), 1, at); ok {
		t.Errorf("re-read match: %+v", s)
	}
}

// A rewrite folded by the story model names the story and the article it joined.
func TestFoldedByTheStoryModel(t *testing.T) {
	x := projIndex{stories.New()}
	e := NewEngine([]Rule{{Topic: "k"}}, nil)
	e.UseStories(x)
	x.observe(t, e, mAt("w1", "https://wire.example/w1", "wire", "North Korean troops deployed to Russia's Kursk region, Seoul says",
		"South Korea's spy agency said on Wednesday that about 3,000 North Korean soldiers have moved to the front line in the Kursk region, where Ukraine holds territory.", t0), 1, t0)
	fireAll(t, e, t0)
	later := t0.Add(2 * time.Hour)
	rewrite := mAt("r2", "https://courier.example/r2", "courier", "Kursk: North Korean soldiers at the front, says Seoul's spy agency",
		"North Korea has sent some 3,000 soldiers to the front line in the Kursk region, where Ukrainian forces hold territory, South Korea's spy agency said.", later)
	out, err := events.MatchMessage(rewrite)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Apply(out.Data, 2); err != nil {
		t.Fatal(err)
	}
	s, ok := e.Observe(rewrite, 2, later)
	sid, _ := x.StoryID("k", "w1")
	if !ok || s.Reason != ReasonFolded || s.FoldedInto != "w1" || s.FoldedBy != FoldedSameStory || sid == "" || s.Story != sid {
		t.Errorf("rewrite of an alerted story: %+v, %v (story of w1 %q)", s, ok, sid)
	}
}

// A match the engine sees long after it was made (the daemon was down) fires, marked late
// with its age.
func TestLateMatchFiresMarkedLate(t *testing.T) {
	e := NewEngine([]Rule{{Topic: "k", Since: t0.Add(-time.Hour)}}, nil)
	at := t0.Add(3 * time.Hour)
	if s, ok := e.Observe(mAt("a", "https://x/a", "s", "Stored before the downtime", "", t0), 1, at); ok {
		t.Fatalf("a live match after a downtime was suppressed: %+v", s)
	}
	due := fireAll(t, e, at)
	if len(due) != 1 {
		t.Fatalf("due = %+v", due)
	}
	late := due[0].Alert.Late
	if late == nil || !late.MatchedAt.Equal(t0) || late.AgeSeconds < int64((3*time.Hour).Seconds()) {
		t.Errorf("late = %+v", late)
	}
	// An alert on time is not marked.
	e.Observe(mAt("b", "https://x/b", "s", "Another story entirely, on time", "", at), 2, at)
	if due := fireAll(t, e, at); len(due) != 1 || due[0].Alert.Late != nil {
		t.Errorf("on time: %+v", due)
	}
}

// Alert ids depend on what the alert is about, never on stream sequences: two stores with
// the same sequences and different stories never share an id; the same alert keeps its id.
func TestAlertIDsAreAboutTheAlert(t *testing.T) {
	fire := func(seq uint64, ms ...events.Match) notify.Alert {
		e := NewEngine([]Rule{{Topic: "k"}}, nil)
		for i, m := range ms {
			e.Observe(m, seq+uint64(i), t0)
		}
		due := fireAll(t, e, t0)
		if len(due) != 1 {
			t.Fatalf("due = %+v", due)
		}
		return due[0].Alert
	}
	a := mAt("a", "https://x/a", "s", "Alpha story from staging", "", t0)
	b := mAt("b", "https://x/b", "s", "Bravo story from production", "", t0)
	c := mAt("c", "https://x/c", "s", "Charlie story on the coast", "", t0)
	staging, prod := fire(1, a), fire(1, b)
	if staging.ID == prod.ID {
		t.Errorf("two stores, different stories, same id %s", staging.ID)
	}
	if again := fire(1, a); again.ID != staging.ID {
		t.Errorf("the same alert got ids %s and %s", staging.ID, again.ID)
	}
	// The same articles in another store (other sequences, other order) are the same alert.
	if x, y := fire(1, a, c), fire(40, c, a); x.ID != y.ID {
		t.Errorf("same articles, other sequences: %s, %s", x.ID, y.ID)
	}
	if x, y := fire(1, a, c), fire(1, a, b); x.ID == y.ID {
		t.Errorf("different articles, same id %s", x.ID)
	}
}

// A large group fires in several alerts; each has its own id (JetStream would drop a second
// alert with the first's id as a duplicate).
func TestSplitAlertsHaveTheirOwnIDs(t *testing.T) {
	e := NewEngine([]Rule{{Topic: "k"}}, nil)
	for i := range maxArticlesPerAlert + 5 {
		id := string(rune('A'+i%26)) + string(rune('a'+i/26))
		e.Observe(mAt(id, "https://x/"+id, "s", "Distinct story number "+id+" about a separate event "+id, "", t0), uint64(i+1), t0)
	}
	due := e.Due(t0.Add(Settle))
	due = append(due, e.Due(t0.Add(Settle))...)
	if len(due) != 2 || due[0].Alert.ID == due[1].Alert.ID {
		t.Fatalf("split alerts: %d, ids equal: %v", len(due), len(due) == 2 && due[0].Alert.ID == due[1].Alert.ID)
	}
}

// The suppression log is bounded per topic, newest first, replaces a match recorded again,
// and round-trips through its saved form.
func TestSuppressionLogBounded(t *testing.T) {
	l := NewSuppressionLog(3)
	for i := range 5 {
		l.Add(Suppression{Topic: "k", ArticleID: string(rune('a' + i)), StreamSeq: uint64(i + 1), Reason: ReasonFolded})
	}
	l.Add(Suppression{Topic: "k", ArticleID: "d", StreamSeq: 4, Reason: ReasonSilenced}) // read again
	ids := func(list []Suppression) (out string) {
		for _, s := range list {
			out += s.ArticleID
		}
		return out
	}
	if got := ids(l.Latest("k", 10)); got != "edc" {
		t.Errorf("latest = %q, want edc", got)
	}
	if got := l.Of("k", "d"); len(got) != 1 || got[0].Reason != ReasonSilenced {
		t.Errorf("re-recorded match: %+v", got)
	}
	if got := l.Of("k", "a"); len(got) != 0 {
		t.Errorf("dropped entry still there: %+v", got)
	}
	docs := l.dirtyTopics()
	if len(l.dirtyTopics()) != 0 {
		t.Error("saved topics stay dirty")
	}
	back := NewSuppressionLog(3)
	if err := back.restore("k", docs["k"]); err != nil {
		t.Fatal(err)
	}
	if got := ids(back.Latest("k", 10)); got != "edc" {
		t.Errorf("restored latest = %q, want edc", got)
	}
}
