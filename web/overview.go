package web

import (
	"cmp"
	"encoding/json"
	"html/template"
	"math"
	"net/http"
	"slices"
	"strconv"

	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/projections/feedhealth"
)

// sparkHours is the span of the overview's sparklines.
const sparkHours = 48

// overviewStories is how many stories the overview lists per topic.
const overviewStories = 2

type overviewData struct {
	Topics    []topicRow
	Failing   []feedhealth.Feed
	Receivers []receiverRow
	Feeds     int
}

type topicRow struct {
	ID, Name     string
	Articles24h  int64
	Stories24h   int
	ArticleCount int64
	Spark        template.HTML
	Active       bool
	Stories      []storyView
	LastAlert    *alertRow
}

// alertRow is an alert as the lists show it.
type alertRow struct {
	notify.Alert
}

func (s *server) overview(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "overview", view{Title: "Overview", Nav: "overview", Data: s.overviewData()}, false)
}

func (s *server) overviewData() overviewData {
	now := s.o.Now()
	cfg := s.o.Config()
	last := s.lastAlerts()
	d := overviewData{Topics: make([]topicRow, 0, len(cfg.Topics)), Feeds: len(cfg.Feeds)}
	for _, t := range cfg.Topics {
		sum := s.o.Summaries.Get(t.ID, t.Name, now)
		series := s.o.Volume.Series(t.ID, sparkHours)
		row := topicRow{ID: t.ID, Name: t.Name, Articles24h: sum.Counts.Day, ArticleCount: sum.ArticleCount, Active: series.Active}
		for _, c := range series.Counts[max(0, len(series.Counts)-24):] {
			row.Stories24h += c
		}
		row.Spark = sparkline(series.Counts, series.Usual, sparkLabel(series.Counts, series.Usual))
		if sum.ArticleCount > 0 {
			row.Stories = s.storiesOf(t.ID, overviewStories)
		}
		if a, ok := last[t.ID]; ok {
			row.LastAlert = &a
		}
		d.Topics = append(d.Topics, row)
	}
	slices.SortStableFunc(d.Topics, func(a, b topicRow) int {
		if a.Active != b.Active {
			if a.Active {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(b.Stories24h, a.Stories24h), cmp.Compare(b.Articles24h, a.Articles24h), cmp.Compare(a.Name, b.Name))
	})
	for _, f := range s.o.Feeds.List() {
		if f.ConsecutiveFailures > 0 {
			d.Failing = append(d.Failing, f)
		}
	}
	d.Receivers = s.receivers()
	return d
}

func sparkLabel(counts []int, usual []float64) string {
	n, u := 0, 0.0
	for i, c := range counts {
		n += c
		u += usual[i]
	}
	return plural(n, "story", "stories") + " in 48 h; usually " + oneDecimal(u)
}

// lastAlerts returns each topic's newest alert, from one pass over the alert log.
func (s *server) lastAlerts() map[string]alertRow {
	out := map[string]alertRow{}
	for _, raw := range s.o.Alerts.List("", 1000) {
		var head struct{ Topic string }
		if json.Unmarshal(raw, &head) != nil {
			continue
		}
		if _, seen := out[head.Topic]; seen {
			continue
		}
		if a, ok := parseAlert(raw); ok {
			out[head.Topic] = a
		}
	}
	return out
}

func parseAlert(raw json.RawMessage) (alertRow, bool) {
	var a notify.Alert
	if err := json.Unmarshal(raw, &a); err != nil {
		return alertRow{}, false
	}
	return alertRow{Alert: a}, true
}

// oneDecimal writes x with at most one decimal: "5", "5.3".
func oneDecimal(x float64) string { return strconv.FormatFloat(math.Round(x*10)/10, 'f', -1, 64) }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
