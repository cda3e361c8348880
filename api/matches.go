package api

import (
	"net/http"
	"strconv"

	"github.com/newswatch/newswatch/alerts"
)

// What became of a match, in MatchStatus.Status.
const (
	MatchAlerted    = "alerted"    // listed in a match alert (as an article, or as a copy of one)
	MatchSuppressed = "suppressed" // did not alert on its own; Suppressions say why
	MatchWaiting    = "waiting"    // waits in the topic's pending alert (group_wait, min_interval)
	MatchUnknown    = "unknown"    // neither is on record (see MatchStatus.Note)
	MatchNoRule     = "no_rule"    // the topic has no match rule: its matches never alert
)

// MatchStatus answers "why did this article (not) alert?" for one topic.
type MatchStatus struct {
	Topic     string `json:"topic"`
	ArticleID string `json:"article_id"`
	Status    string `json:"status"`
	// Alert is the alert that lists the article; AsCopy when it is listed among the copies
	// of another article of its story.
	Alert  string `json:"alert,omitempty"`
	AsCopy bool   `json:"as_copy,omitempty"`
	// Suppressions are the recorded reasons the article's matches did not alert on their
	// own, newest first.
	Suppressions []alerts.Suppression `json:"suppressions,omitempty"`
	Note         string               `json:"note,omitempty"`
}

// Matches explains what became of a topic's matches.
type Matches interface {
	// Explain returns what became of an article's match on a topic; false for an unknown
	// topic.
	Explain(topic, articleID string) (MatchStatus, bool)
	// Suppressed lists a topic's latest suppressed matches, newest first; false for an
	// unknown topic.
	Suppressed(topic string, limit int) ([]alerts.Suppression, bool)
}

// maxSuppressedListed bounds one listing of suppressed matches.
const maxSuppressedListed = alerts.DefaultSuppressedKept

func (s *server) matchRoutes(mux *http.ServeMux) {
	if s.o.Matches == nil {
		return
	}
	mux.HandleFunc("GET /api/v1/topics/{id}/matches", func(w http.ResponseWriter, r *http.Request) {
		topic := r.PathValue("id")
		if article := r.URL.Query().Get("article"); article != "" {
			st, ok := s.o.Matches.Explain(topic, article)
			if !ok {
				Error(w, http.StatusNotFound, "unknown topic "+strconv.Quote(topic))
				return
			}
			writeJSON(w, http.StatusOK, st)
			return
		}
		limit := 100
		if v := r.URL.Query().Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxSuppressedListed {
				Error(w, http.StatusBadRequest, "limit must be a number from 1 to "+strconv.Itoa(maxSuppressedListed))
				return
			}
			limit = n
		}
		list, ok := s.o.Matches.Suppressed(topic, limit)
		if !ok {
			Error(w, http.StatusNotFound, "unknown topic "+strconv.Quote(topic))
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"topic": topic, "suppressed": list})
	})
}
