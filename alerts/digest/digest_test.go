package digest

import (
	"fmt"
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/projections/stories"
)

type report struct {
	id, source, title, summary string
	at                         time.Time
	seen                       time.Time // when first seen; at when zero
}

// storiesOf folds the reports, as match events, into a real stories projection.
func storiesOf(t *testing.T, reports ...report) []stories.Story {
	t.Helper()
	p := stories.New()
	for i, r := range reports {
		if r.seen.IsZero() {
			r.seen = r.at
		}
		out, err := events.MatchMessage(events.Match{
			Topic: "dprk-russia", QueryVersion: "v1", ArticleID: r.id, URL: "https://" + r.source + ".example/" + r.id,
			Title: r.title, Summary: r.summary, Source: r.source, PublishedAt: r.at, FirstSeenAt: r.seen, MatchedAt: r.seen,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Apply(out.Data, uint64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	return p.Stories("dprk-russia", 0)
}

const (
	kurskTitle   = "North Korean troops deployed to Russia's Kursk region, Seoul says"
	kurskSummary = "South Korea's spy agency said on Wednesday that about 3,000 North Korean soldiers have moved to the front line in the Kursk region, where Ukraine holds territory."
	treatyTitle  = "Russia's parliament ratifies defence treaty with North Korea"
	treatySum    = "The State Duma voted unanimously on Thursday to ratify the comprehensive strategic partnership treaty with North Korea, sending it to the Federation Council."
)

func TestBuild(t *testing.T) {
	since, until := at("2026-11-24T08:00:00Z"), at("2026-11-25T08:00:00Z")
	list := storiesOf(t,
		// An older story that two more outlets took up in the period.
		report{"k1", "wire", kurskTitle, kurskSummary, since.Add(-3 * time.Hour), time.Time{}},
		report{"k2", "herald", kurskTitle, kurskSummary, since.Add(1 * time.Hour), time.Time{}},
		report{"k3", "courier", "Wire copy: " + kurskTitle, kurskSummary, since.Add(2 * time.Hour), time.Time{}},
		// A new story with three outlets.
		report{"t1", "wire", treatyTitle, treatySum, since.Add(5 * time.Hour), time.Time{}},
		report{"t2", "herald", treatyTitle, treatySum + " Deputy Foreign Minister Andrei Rudenko presented the bill.", since.Add(6 * time.Hour), time.Time{}},
		report{"t3", "times", treatyTitle, treatySum, since.Add(7 * time.Hour), time.Time{}},
		report{"t4", "times", treatyTitle + " (update)", treatySum, since.Add(8 * time.Hour), time.Time{}},
		// Outside the period.
		report{"x1", "wire", "Putin gives Kim another Aurus limousine", "Russian President Vladimir Putin presented Kim Jong Un with an Aurus Senat limousine.", until.Add(time.Minute), time.Time{}},
	)
	d := Build("dprk-russia", list, since, until, 0)
	if d.TotalStories != 2 || d.TotalArticles != 6 || d.Outlets != 4 || d.Empty() {
		t.Fatalf("digest %+v", d)
	}
	top := d.Stories[0]
	if top.Title != treatyTitle || !top.New || top.Outlets != 3 || top.Articles != 4 || top.FirstReport.ID != "t1" || len(top.Others) != 2 {
		t.Errorf("top story %+v", top)
	}
	second := d.Stories[1]
	if second.Title != kurskTitle || second.New || second.Outlets != 2 || second.Articles != 2 || second.FirstReport.ID != "k1" {
		t.Errorf("second story %+v", second)
	}
	if one := Build("dprk-russia", list, since, until, 1); len(one.Stories) != 1 || one.TotalStories != 2 {
		t.Errorf("top 1: %+v", one)
	}
	if d.ID != Build("dprk-russia", list, since, until, 1).ID || d.ID == Build("dprk-russia", list, since, until.Add(time.Hour), 0).ID {
		t.Error("digest id is not derived from topic and period")
	}

	a := d.Alert("DPRK–Russia", "0 8 * * *", until.Add(time.Second))
	want := "Digest for DPRK–Russia, 24 Nov 08:00 – 25 Nov 08:00 UTC: 2 stories from 4 outlets"
	if a.Kind != "digest" || a.ID != d.ID || a.Summary != want || len(a.Articles) != 2 || len(a.Articles[0].Copies) != 2 || a.Articles[0].URL != "https://wire.example/t1" {
		t.Errorf("alert %+v\nsummary %q", a, a.Summary)
	}
	if x := a.Digest; x == nil || !x.Since.Equal(since) || !x.Until.Equal(until) || x.Schedule != "0 8 * * *" ||
		x.TotalStories != 2 || x.TotalArticles != 6 || x.Outlets != 4 || a.Articles[0].Story != top.ID ||
		a.Articles[0].Outlets != 3 || a.Articles[0].StoryArticles != 4 {
		t.Errorf("digest details %+v, story %q", a.Digest, a.Articles[0].Story)
	}
}

// An article belongs to the period in which it arrived: one published just before a
// scheduled time and polled just after it is in the next digest, not lost between two, and so
// is one published days before that newswatch sees for the first time (within the stories
// projection's retention).
func TestArrivalDecides(t *testing.T) {
	p1, p2 := at("2026-11-24T08:00:00Z"), at("2026-11-25T08:00:00Z")
	p3 := p2.Add(24 * time.Hour)
	list := storiesOf(t,
		report{id: "k1", source: "wire", title: kurskTitle, summary: kurskSummary, at: p2.Add(-2 * time.Minute), seen: p2.Add(3 * time.Minute)},
		report{id: "t1", source: "wire", title: treatyTitle, summary: treatySum, at: p1.Add(-5 * 24 * time.Hour), seen: p2.Add(time.Hour)},
		report{id: "t2", source: "times", title: treatyTitle, summary: treatySum, at: p2.Add(2 * time.Hour), seen: p2.Add(2 * time.Hour)},
	)
	if d := Build("dprk-russia", list, p1, p2, 0); !d.Empty() {
		t.Errorf("first period lists articles that arrived after it: %+v", d)
	}
	d := Build("dprk-russia", list, p2, p3, 0)
	// Six days apart, the two treaty reports are two stories (the stories window is 48 h).
	if d.TotalStories != 3 || d.TotalArticles != 3 {
		t.Fatalf("second period %+v", d)
	}
	late := false
	for _, e := range d.Stories {
		if e.FirstReport.ID == "k1" && !e.New {
			t.Errorf("a story whose first report arrived in the period is new: %+v", e)
		}
		late = late || e.FirstReport.ID == "t1"
	}
	if !late {
		t.Errorf("the week-old article that arrived in the period is missing: %+v", d.Stories)
	}
}

func TestBuildEmpty(t *testing.T) {
	since, until := at("2026-11-24T08:00:00Z"), at("2026-11-25T08:00:00Z")
	list := storiesOf(t, report{"k1", "wire", kurskTitle, kurskSummary, since.Add(-time.Hour), time.Time{}})
	d := Build("dprk-russia", list, since, until, 10)
	if !d.Empty() || d.Stories == nil {
		t.Errorf("digest %+v", d)
	}
	a := d.Alert("", "@daily", until)
	if a.Summary != "Digest for dprk-russia, 24 Nov 08:00 – 25 Nov 08:00 UTC: no new stories" || len(a.Articles) != 0 {
		t.Errorf("alert %+v", a)
	}
	if got := fmt.Sprint(Build("t", nil, since, until, 0).TotalStories); got != "0" {
		t.Error(got)
	}
}
