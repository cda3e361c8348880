package web

import (
	"cmp"
	"net/http"
	"slices"
	"time"

	"github.com/newswatch/newswatch/alerts"
	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/projections/feedhealth"
	"github.com/robfig/cron/v3"
)

// liveAlertsListed is how many stored alerts the live page starts with.
const liveAlertsListed = 50

type alertsData struct {
	Topics []config.Topic
	Alerts []alertRow
	Topic  string
	Kind   string
	Kinds  []string
}

func (s *server) liveAlerts(w http.ResponseWriter, r *http.Request) {
	d := alertsData{Topics: s.o.Config().Topics, Topic: r.URL.Query().Get("topic"), Kind: r.URL.Query().Get("kind"),
		Kinds: []string{"match", "spike", "digest"}}
	for _, raw := range s.o.Alerts.List(d.Topic, liveAlertsListed) {
		if a, ok := parseAlert(raw); ok && (d.Kind == "" || a.Kind == d.Kind) {
			d.Alerts = append(d.Alerts, a)
		}
	}
	s.render(w, r, "alerts", view{Title: "Live alerts", Nav: "alerts", Data: d}, false)
}

type feedRow struct {
	feedhealth.Feed
	Name     string
	Schedule string
	Next     time.Time
	// PerDay is the feed's new articles per day among the stored articles of the last
	// cadenceDays (-1 when they could not be read).
	PerDay float64
}

type feedsData struct {
	Feeds       []feedRow
	PollNow     bool
	CadenceDays int
}

const cadenceDays = 7

func (s *server) feeds(w http.ResponseWriter, r *http.Request) {
	cfg := s.o.Config()
	d := feedsData{PollNow: s.o.PollNow, CadenceDays: cadenceDays}
	conf := map[string]config.Feed{}
	for _, f := range cfg.Feeds {
		conf[f.ID] = f
	}
	perFeed := map[string]int{}
	days := 0.0 // the days the stored articles cover
	if s.corpus != nil {
		if arts, err := s.corpus.Recent(r.Context(), cadenceDays); err == nil {
			days = cadenceDays
			if len(arts) >= maxArticles { // capped: they cover less than the week
				days = max(s.o.Now().Sub(arts[0].FirstSeenAt).Hours()/24, 1.0/24)
			}
			for _, a := range arts {
				perFeed[a.FeedID]++
			}
		}
	}
	for _, f := range s.o.Feeds.List() {
		c := conf[f.ID]
		row := feedRow{Feed: f, Name: c.Name, Schedule: c.Schedule, PerDay: -1}
		if days > 0 {
			row.PerDay = float64(perFeed[f.ID]) / days
		}
		if sched, err := cron.ParseStandard(c.Schedule); err == nil {
			// The poller adds a little jitter per feed: this is the schedule's time.
			now := s.o.Now()
			row.Next = sched.Next(now)
			if f.LastPollAt != nil {
				if n := sched.Next(*f.LastPollAt); n.After(now) {
					row.Next = n
				}
			}
		}
		d.Feeds = append(d.Feeds, row)
	}
	slices.SortStableFunc(d.Feeds, func(a, b feedRow) int {
		return cmp.Or(-cmp.Compare(a.ConsecutiveFailures, b.ConsecutiveFailures), cmp.Compare(a.ID, b.ID))
	})
	s.render(w, r, "feeds", view{Title: "Feeds", Nav: "feeds", Data: d}, false)
}

type silencesData struct {
	Topics    []config.Topic
	Silences  []alerts.Silence
	Topic     string
	Durations []string
}

func (s *server) silences(w http.ResponseWriter, r *http.Request) {
	d := silencesData{Topics: s.o.Config().Topics, Silences: s.o.Silences.List(), Topic: r.URL.Query().Get("topic"),
		Durations: []string{"1h", "2h", "8h", "24h", "72h", "168h"}}
	slices.SortFunc(d.Silences, func(a, b alerts.Silence) int { return a.Until.Compare(b.Until) })
	s.render(w, r, "silences", view{Title: "Silences", Nav: "silences", Data: d}, false)
}
