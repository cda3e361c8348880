package events_test

import (
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
)

// The view with matched terms decodes what the full event and the slim view decode, for
// every schema version ever written.
func TestParseMatchTermsView(t *testing.T) {
	b, err := os.ReadFile("testdata/schema/v1/match.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := events.ParseMatch(b)
	if err != nil {
		t.Fatal(err)
	}
	slim, err := events.ParseMatchView(b)
	if err != nil {
		t.Fatal(err)
	}
	v, err := events.ParseMatchTermsView(b)
	if err != nil {
		t.Fatal(err)
	}
	if v.MatchView != slim || !reflect.DeepEqual(v.Matched, m.Matched) || len(v.Matched) == 0 {
		t.Errorf("got %+v\nwant %+v with %+v", v, slim, m.Matched)
	}
	if _, err := events.ParseMatchTermsView([]byte(`{"type":"newswatch.article","id":"x","schemaversion":1,"data":{}}`)); err == nil {
		t.Error("an article event parsed as a match")
	}
}

// BenchmarkParseMatchViews compares the two read-model views: summaries decode the slim
// one, stories the one with matched terms.
func BenchmarkParseMatchViews(b *testing.B) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	m := events.Match{Topic: "dprk-russia", QueryVersion: "0123456789ab", ArticleID: "3f1c0d6a9b2e4c7d8e9f0a1b2c3d4e5f",
		ArticleSeq: 123456, URL: "https://www.example.com/world/2026/nov/25/some-long-headline-slug", Title: "Russian troops wounded in Ukraine sent to North Korean sanatoriums",
		Summary: "Hundreds of Russian soldiers have been sent to North Korea for rehabilitation, the ambassador in Pyongyang said, in the latest sign of growing military ties.",
		Source:  "guardian-world", PublishedAt: t0, FirstSeenAt: t0, MatchedAt: t0,
		Matched: []events.MatchedTerm{{Term: "North Korea", Field: "title"}, {Term: "russia*", Field: "title"}, {Term: "troops", Field: "title"}}}
	out, err := events.MatchMessage(m)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("MatchView", func(b *testing.B) {
		b.SetBytes(int64(len(out.Data)))
		for b.Loop() {
			if _, err := events.ParseMatchView(out.Data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("MatchTermsView", func(b *testing.B) {
		b.SetBytes(int64(len(out.Data)))
		for b.Loop() {
			if _, err := events.ParseMatchTermsView(out.Data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
