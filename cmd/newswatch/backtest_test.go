package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/events"
	"github.com/synadia-io/orbit.go/jetstreamext"
)

// The alerts backtest runs every kind of rule over stored matches in simulated time: ten days
// of a quiet topic, then a surge and a syndicated story, give one spike at the surge, one
// digest a day with that day's stories, and one match alert per story.
func TestBacktestEveryKind(t *testing.T) {
	conn, err := events.Connect(t.Context(), events.ConnConfig{DataDir: t.TempDir()}, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.EnsureStreams(t.Context()); err != nil {
		t.Fatal(err)
	}
	day0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(11, 12))
	var ms []events.Match
	add := func(id, source, title string, at time.Time) {
		ms = append(ms, events.Match{Topic: "kursk", QueryVersion: "v", ArticleID: id, URL: "https://" + source + ".example/" + id,
			Title: title, Source: source, PublishedAt: at, FirstSeenAt: at.Add(time.Minute), MatchedAt: at.Add(2 * time.Minute),
			Matched: []events.MatchedTerm{{Term: "Kursk", Field: "title"}}})
	}
	perDay := map[string]int{}
	for i := range 240 { // ten days, a story an hour
		at := day0.Add(time.Duration(i)*time.Hour + time.Duration(rng.IntN(40))*time.Minute)
		add(fmt.Sprintf("h%d", i), fmt.Sprintf("o%d", i%4), headline(rng), at)
		perDay[at.Format(time.DateOnly)]++
	}
	surge := day0.Add(10*24*time.Hour + 10*time.Hour)
	for i := range 12 {
		add(fmt.Sprintf("s%d", i), fmt.Sprintf("b%d", i%4), headline(rng), surge.Add(time.Duration(i)*3*time.Minute))
	}
	story := surge.Add(4 * time.Hour)
	add("w1", "wire", wireTitle, story)
	add("w2", "paper", wireTitle, story.Add(20*time.Minute))
	add("w3", "post", wireTitle, story.Add(40*time.Minute))
	perDay[surge.Format(time.DateOnly)] += 15
	var msgs []*nats.Msg
	for _, m := range ms {
		out, err := events.MatchMessage(m)
		if err != nil {
			t.Fatal(err)
		}
		msg := nats.NewMsg(out.Subject)
		msg.Data = out.Data
		msgs = append(msgs, msg)
		if len(msgs) == 100 {
			if _, err := jetstreamext.PublishMsgBatch(t.Context(), conn.JS, msgs); err != nil {
				t.Fatal(err)
			}
			msgs = nil
		}
	}
	if _, err := jetstreamext.PublishMsgBatch(t.Context(), conn.JS, msgs); err != nil {
		t.Fatal(err)
	}

	cfg, err := config.Parse([]byte(`
topics:
  - {id: kursk, name: Kursk front, query: Kursk}
alerts:
  - {topic: kursk, kind: match}
  - {topic: kursk, kind: spike}
  - {topic: kursk, kind: digest, schedule: "0 0 * * *"}
`), "bt.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := backtestAlerts(t.Context(), conn, cfg, events.Range{}, nil, &out, true); err != nil {
		t.Fatal(err)
	}
	var bt struct {
		Total   int            `json:"total"`
		PerKind map[string]int `json:"per_kind"`
		Alerts  []notify.Alert `json:"alerts"`
	}
	if err := json.Unmarshal(out.Bytes(), &bt); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if bt.PerKind["spike"] != 1 || bt.PerKind["digest"] != len(perDay) || bt.Total != bt.PerKind["match"]+bt.PerKind["spike"]+bt.PerKind["digest"] {
		t.Fatalf("per kind %v, want 1 spike and %d digests", bt.PerKind, len(perDay))
	}
	stories := map[string]int{}
	for _, a := range bt.Alerts {
		switch a.Kind {
		case notify.KindSpike:
			if a.FiredAt.Before(surge) || a.FiredAt.After(surge.Add(time.Hour)) || a.Spike.Count < a.Spike.Needed {
				t.Errorf("spike at %s (surge at %s): %+v", a.FiredAt, surge, a.Spike)
			}
		case notify.KindDigest:
			d := a.Digest
			if d.Until.Sub(d.Since) != 24*time.Hour || d.TotalArticles != perDay[d.Since.Format(time.DateOnly)] {
				t.Errorf("digest %s – %s: %d articles, want %d", d.Since, d.Until, d.TotalArticles, perDay[d.Since.Format(time.DateOnly)])
			}
			if d.Since.Equal(surge.Truncate(24*time.Hour)) && (a.Articles[0].ID != "w1" || len(a.Articles[0].Copies) != 2) {
				t.Errorf("the day's top story %+v", a.Articles[0])
			}
		case notify.KindMatch:
			for _, art := range a.Articles {
				stories[art.ID]++
			}
		}
	}
	if len(stories) != 240+12+1 {
		t.Errorf("%d stories alerted, want %d", len(stories), 240+12+1)
	}
	for id, n := range stories {
		if n != 1 {
			t.Errorf("story %s alerted %d times", id, n)
		}
	}
}
