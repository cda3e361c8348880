package events_test

import (
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
)

// benchMatch is a typical match event, as the matcher writes it.
func benchMatch(b *testing.B) events.Outgoing {
	b.Helper()
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
	return out
}

func BenchmarkParseMatch(b *testing.B) {
	out := benchMatch(b)
	b.SetBytes(int64(len(out.Data)))
	for b.Loop() {
		if _, err := events.ParseMatch(out.Data); err != nil {
			b.Fatal(err)
		}
	}
}
