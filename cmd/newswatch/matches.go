package main

import (
	"encoding/json"
	"slices"

	"github.com/newswatch/newswatch/alerts"
	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/api"
	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/projections/alertlog"
)

// matchExplainer answers the API's "why did this article (not) alert?" from the match
// engine's suppressions and the alert log.
type matchExplainer struct{ a *App }

func (x matchExplainer) topic(id string) (known, rule bool) {
	cfg := x.a.config()
	known = slices.ContainsFunc(cfg.Topics, func(t config.Topic) bool { return t.ID == id })
	rule = slices.ContainsFunc(cfg.Alerts, func(r config.Alert) bool { return r.Topic == id && r.Kind == notify.KindMatch })
	return known, rule
}

func (x matchExplainer) Explain(topic, articleID string) (api.MatchStatus, bool) {
	known, rule := x.topic(topic)
	if !known {
		return api.MatchStatus{}, false
	}
	st := api.MatchStatus{Topic: topic, ArticleID: articleID}
	if !rule {
		st.Status, st.Note = api.MatchNoRule, "the topic has no match rule: its matches never alert on their own"
		return st, true
	}
	st.Suppressions = x.a.alertRun.Suppressions().Of(topic, articleID)
	st.Alert, st.AsCopy = x.alertOf(topic, articleID)
	switch {
	case st.Alert != "" && !st.AsCopy:
		st.Status = api.MatchAlerted
	case len(st.Suppressions) > 0:
		st.Status = api.MatchSuppressed
	case st.Alert != "":
		st.Status = api.MatchAlerted
	case x.a.alertRun.Waiting(topic, articleID):
		st.Status = api.MatchWaiting
	default:
		st.Status = api.MatchUnknown
		st.Note = "no alert and no suppression on record: the match may be older than the alerts and suppressions kept (the last 1,000 alerts, the last 2,000 suppressions of a topic), " +
			"or the article did not match the topic"
	}
	return st, true
}

// alertOf finds the newest kept match alert that lists the article.
func (x matchExplainer) alertOf(topic, articleID string) (id string, asCopy bool) {
	for _, raw := range x.a.alertLog.List(topic, alertlog.Kept) {
		var a notify.Alert
		if json.Unmarshal(raw, &a) != nil || a.Kind != notify.KindMatch {
			continue
		}
		for _, art := range a.Articles {
			if art.ID == articleID {
				return a.ID, false
			}
			if slices.ContainsFunc(art.Copies, func(c notify.Copy) bool { return c.ID == articleID }) {
				return a.ID, true
			}
		}
	}
	return "", false
}

func (x matchExplainer) Suppressed(topic string, limit int) ([]alerts.Suppression, bool) {
	if known, _ := x.topic(topic); !known {
		return nil, false
	}
	return x.a.alertRun.Suppressions().Latest(topic, limit), true
}
