package spike

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/events"
)

// ObservationOf returns the observation of a match event: its event time is the publication
// time, never later than when the article was first seen.
func ObservationOf(m events.Match) Observation {
	at := m.PublishedAt
	if at.IsZero() || (!m.FirstSeenAt.IsZero() && m.FirstSeenAt.Before(at)) {
		at = m.FirstSeenAt
	}
	o := Observation{
		Topic: m.Topic, ArticleID: m.ArticleID, Source: m.Source, At: at,
		Title: m.Title, Summary: m.Summary, URL: m.URL, Backfill: m.Backfill,
	}
	for _, t := range m.Matched {
		if !slices.Contains(o.Terms, t.Term) {
			o.Terms = append(o.Terms, t.Term)
		}
	}
	return o
}

// Summary is the spike's explanation in one line, such as "Volume spike: 14 stories in 1h
// from 6 sources (usually 2.5, 5.6×); top terms: Kursk, troops".
func (s Spike) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Volume spike: %d stories in %s from %d sources (usually %.1f, %.1f×)",
		s.Count, window(s.WindowEnd.Sub(s.WindowStart)), len(s.Sources), s.Baseline, s.Ratio)
	if len(s.Terms) > 0 {
		terms := make([]string, 0, 3)
		for _, t := range s.Terms[:min(3, len(s.Terms))] {
			terms = append(terms, t.Term)
		}
		fmt.Fprintf(&b, "; top terms: %s", strings.Join(terms, ", "))
	}
	return b.String()
}

func window(d time.Duration) string {
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	return strings.TrimSuffix(s, "0m")
}

// Alert returns the alert of a spike (PRODUCT §5): kind spike, the explanation as its
// summary line, and the stories behind it as its articles, newest first, each with its
// copies.
func (s Spike) Alert() notify.Alert {
	a := notify.Alert{
		ID: s.ID, Topic: s.Topic, TopicName: s.TopicName, Kind: notify.KindSpike, FiredAt: s.At,
		Summary: s.Summary(), Articles: make([]notify.Article, 0, len(s.Stories)),
	}
	x := s.Spike
	x.Sources, x.Terms = slices.Clone(x.Sources), slices.Clone(x.Terms)
	a.Spike = &x
	for _, st := range s.Stories {
		art := notify.Article{
			ID: st.ArticleID, URL: st.URL, Title: st.Title, Source: st.Source,
			PublishedAt: st.At, FirstSeenAt: st.At, Matched: slices.Clone(st.Terms),
		}
		for _, c := range st.Copies {
			art.Copies = append(art.Copies, notify.Copy{ID: c.ArticleID, URL: c.URL, Source: c.Source, PublishedAt: c.At})
		}
		a.Articles = append(a.Articles, art)
	}
	return a
}
