package events

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// envelopeArticle is an article with every field set, strings that json.Marshal escapes
// (HTML, U+2028, invalid UTF-8, quotes) and about 12 KB of content.
func envelopeArticle() Article {
	t0 := time.Date(2026, 12, 3, 9, 30, 1, 123456789, time.FixedZone("x", 3600))
	return Article{ID: "3f1c0d6a9b2e4c7d8e9f0a1b2c3d4e5f", FeedID: "guardian-world",
		URL: "https://www.example.com/world/story?a=1&b=<2>", Link: "https://www.example.com/world/story?a=1&b=<2>&utm_source=rss",
		GUID: "tag:example.com,2026:\"42\"", Title: "Kim & Putin <sign> pact\u2028 \xff",
		Summary: "Officials said…", Content: strings.Repeat("Москва и Пхеньян подписали соглашение. AT&T <b> ", 200),
		PublishedAt: t0, PublishedEstimated: true, FirstSeenAt: t0.Add(time.Minute),
		Authors: []string{"A. Writer"}, Categories: []string{"World", "Asia"}, Language: "en-GB"}
}

// TestEnvelopeIsMarshal: the one-pass envelope writes the very bytes json.Marshal gives for
// the Envelope around the marshalled payload, for every event type, so stored events do not
// change with the encoder.
func TestEnvelopeIsMarshal(t *testing.T) {
	a := envelopeArticle()
	p := Poll{FeedID: "f", URL: "https://e.example/feed", Result: ResultOK, StatusCode: 200, Items: 20,
		StartedAt: a.FirstSeenAt, FinishedAt: a.FirstSeenAt.Add(time.Second), ETag: `W/"x<y>"`}
	cases := []struct {
		name                     string
		typ, source, id, subject string
		t                        time.Time
		data                     any
	}{
		{"article", TypeArticle, "/feeds/" + a.FeedID, "article-" + a.ID, a.ID, a.FirstSeenAt, a},
		{"empty article", TypeArticle, "/feeds/", "article-", "", time.Time{}, Article{}},
		{"poll", TypePoll, "/feeds/f", p.ID(), p.FeedID, p.FinishedAt, p},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := json.Marshal(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(Envelope{SpecVersion: "1.0", Type: tc.typ, Source: tc.source, ID: tc.id,
				Time: tc.t.UTC(), Subject: tc.subject, DataContentType: "application/json", SchemaVersion: 1, Data: raw})
			if err != nil {
				t.Fatal(err)
			}
			for range 2 { // the second time with a pooled buffer
				got, err := newEnvelope(tc.typ, 1, tc.source, tc.id, tc.subject, tc.t, tc.data)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("newEnvelope =\n%s\njson.Marshal =\n%s", got, want)
				}
				if cap(got) > len(got)+len(got)/8+64 { // an allocation's size class, not the scratch buffer
					t.Errorf("event has capacity %d for %d bytes; it must not hold the scratch buffer", cap(got), len(got))
				}
			}
		})
	}
	if _, err := newEnvelope(TypePoll, 1, "s", "id", "", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), p); err == nil {
		t.Error("newEnvelope with a time past year 9999: no error, want the one json.Marshal gives")
	}
}

// BenchmarkEncodeArticle encodes a 12 KB article event as the store does for every new
// article; "marshal" is the two-pass json.Marshal it replaced, in the same run.
func BenchmarkEncodeArticle(b *testing.B) {
	a := envelopeArticle()
	b.Run("marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			raw, err := json.Marshal(a)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(Envelope{SpecVersion: "1.0", Type: TypeArticle, Source: "/feeds/" + a.FeedID,
				ID: "article-" + a.ID, Time: a.FirstSeenAt.UTC(), Subject: a.ID, DataContentType: "application/json",
				SchemaVersion: 1, Data: raw}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("EncodeArticle", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := EncodeArticle(a); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestParseArticleShared: the decoding that shares the event's memory gives the article
// ParseArticle gives, escapes and all, and refuses what ParseArticle refuses.
func TestParseArticleShared(t *testing.T) {
	a := envelopeArticle()
	a.Title = "Kim & Putin \"sign\" pact" // escaped in JSON: decoded, so copied
	b, err := EncodeArticle(a)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ParseArticle(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseArticleShared(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseArticleShared = %+v\nParseArticle = %+v", got, want)
	}
	for _, bad := range [][]byte{append(bytes.Clone(b), " x"...), b[:len(b)-1], []byte(`{"type":"newswatch.poll","id":"p","schemaversion":1,"data":{}}`)} {
		if _, err := ParseArticleShared(bad); err == nil {
			t.Errorf("ParseArticleShared(%.40q...): no error", bad[max(0, len(bad)-40):])
		}
		if _, err := ParseArticle(bad); err == nil {
			t.Errorf("ParseArticle(%.40q...): no error", bad[max(0, len(bad)-40):])
		}
	}
}

// BenchmarkParseArticle decodes a 12 KB article event as the matcher does for every article.
func BenchmarkParseArticle(b *testing.B) {
	data, err := EncodeArticle(envelopeArticle())
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name  string
		parse func([]byte) (Article, error)
	}{{"copy", ParseArticle}, {"shared", ParseArticleShared}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.parse(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
