package web

import (
	"html/template"
	"net/http"
	"time"

	"github.com/newswatch/newswatch/alerts"
	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/matching"
	"github.com/newswatch/newswatch/projections/summaries"
	"github.com/newswatch/newswatch/topics"
)

const (
	chartHours    = 7 * 24
	topicStories  = 20
	topicTrending = 10
	topicAlerts   = 20
)

type topicData struct {
	Topic        config.Topic
	Summary      summaries.Summary
	Chart        template.HTML
	Stories7d    int
	Usual7d      float64
	Active       bool
	Stories      []storyView
	Trending     []trendView
	Latest       []latestRow
	Alerts       []alertRow
	Rules        []string
	Silences     []alerts.Silence
	HasMatchRule bool
}

// latestRow is one of the topic's latest matched articles, with its matched terms and
// whether it alerted, or why not.
type latestRow struct {
	hitRow
	Story   string
	AlertID string
	Why     string
}

func (s *server) topic(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	cfg := s.o.Config()
	var t config.Topic
	found := false
	for _, x := range cfg.Topics {
		if x.ID == id {
			t, found = x, true
		}
	}
	if !found {
		s.notFound(w, r, "There is no topic "+id+" in the configuration.")
		return
	}
	now := s.o.Now()
	d := topicData{Topic: t, Summary: s.o.Summaries.Get(t.ID, t.Name, now)}
	for _, a := range cfg.Alerts {
		if a.Topic == t.ID {
			d.Rules = append(d.Rules, a.Kind)
			d.HasMatchRule = d.HasMatchRule || a.Kind == "match" || a.Kind == ""
		}
	}
	series := s.o.Volume.Series(t.ID, chartHours)
	d.Active = series.Active
	for i, c := range series.Counts {
		d.Stories7d += c
		d.Usual7d += series.Usual[i]
	}
	d.Chart = volumeChart(series.End, series.Counts, series.Usual,
		plural(d.Stories7d, "story", "stories")+" in the last 7 days, usually "+oneDecimal(d.Usual7d)+"; bars per hour, line the usual")
	d.Stories = s.storiesOf(t.ID, topicStories)
	d.Trending = s.trending(t.ID, now, topicTrending)
	for _, raw := range s.o.Alerts.List(t.ID, topicAlerts) {
		if a, ok := parseAlert(raw); ok {
			d.Alerts = append(d.Alerts, a)
		}
	}
	for _, x := range s.o.Silences.List() {
		if x.Topic == t.ID {
			d.Silences = append(d.Silences, x)
		}
	}
	d.Latest = s.latest(r, t, d)
	s.render(w, r, "topic", view{Title: t.Name, Nav: "overview", Data: d}, false)
}

// latest explains the topic's latest matched articles: the terms that matched (from the
// stored article, when recent) and whether each alerted.
func (s *server) latest(r *http.Request, t config.Topic, d topicData) []latestRow {
	ids := map[string]bool{}
	for _, a := range d.Summary.Latest {
		ids[a.ID] = true
	}
	stored := s.corpus.byID(r.Context(), ids)
	m, _ := topics.Compile([]topics.Topic{{ID: t.ID, Query: t.Query}})
	alertedArt, alertedStory := map[string]string{}, map[string]string{}
	for _, raw := range s.o.Alerts.List(t.ID, 1000) {
		a, ok := parseAlert(raw)
		if !ok || a.Kind != "match" {
			continue
		}
		for _, art := range a.Articles {
			alertedArt[art.ID] = a.ID
			if art.Story != "" {
				alertedStory[art.Story] = a.ID
			}
			for _, c := range art.Copies {
				alertedArt[c.ID] = a.ID
			}
		}
	}
	storyOf := map[string]string{}
	for _, st := range s.storiesOf(t.ID, 0) {
		for _, a := range st.Articles {
			storyOf[a.ID] = st.ID
		}
	}
	out := make([]latestRow, 0, len(d.Summary.Latest))
	for _, a := range d.Summary.Latest {
		row := latestRow{hitRow: hitRow{ID: a.ID, URL: a.URL, Source: a.Source, At: a.PublishedAt,
			Title: template.HTML(template.HTMLEscapeString(a.Title))}, Story: storyOf[a.ID]}
		if art, ok := stored[a.ID]; ok && m != nil {
			for _, h := range m.Match(matching.DocOf(art, s.o.FeedTags)) {
				row.hitRow = hitOf(art, h.Terms)
				row.At = a.PublishedAt
			}
		}
		row.AlertID, row.Why = whyNot(a.ID, row.Story, alertedArt, alertedStory, d, s.o.Now())
		out = append(out, row)
	}
	return out
}

func whyNot(id, story string, alertedArt, alertedStory map[string]string, d topicData, now time.Time) (alertID, why string) {
	switch {
	case alertedArt[id] != "":
		return alertedArt[id], ""
	case !d.HasMatchRule:
		return "", "No kind: match rule for this topic: its matches are counted, not alerted."
	case story != "" && alertedStory[story] != "":
		return alertedStory[story], "Its story had alerted already: one alert per story, later articles fold into it."
	}
	for _, x := range d.Silences {
		if x.Until.After(now) {
			return "", "The topic is silenced until " + x.Until.UTC().Format("2 Jan 15:04 UTC") + "."
		}
	}
	return "", "No alert yet: the engine may still be waiting (group_wait), or the article is older than the alert rule."
}
