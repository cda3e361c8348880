package api

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/newswatch/newswatch/alerts"
	"github.com/prometheus/client_golang/prometheus"
)

type matchesFake struct{ limit int }

func (matchesFake) Explain(topic, article string) (MatchStatus, bool) {
	return MatchStatus{Topic: topic, ArticleID: article, Status: MatchSuppressed,
		Suppressions: []alerts.Suppression{{Topic: topic, ArticleID: article, Reason: alerts.ReasonSilenced, Silence: "sil-1"}}}, topic == "k"
}

func (f *matchesFake) Suppressed(topic string, limit int) ([]alerts.Suppression, bool) {
	f.limit = limit
	return []alerts.Suppression{}, topic == "k"
}

func TestMatchesRoute(t *testing.T) {
	f := &matchesFake{}
	srv := httptest.NewServer(New(Options{Feeds: feeds{}, Topics: topicsFake{}, Alerts: alertsFake{}, Matches: f,
		Gatherer: prometheus.NewRegistry(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer srv.Close()
	get := func(path string) (int, []byte) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	code, body := get("/api/v1/topics/k/matches?article=a1")
	var st MatchStatus
	if err := json.Unmarshal(body, &st); code != http.StatusOK || err != nil || st.Status != MatchSuppressed ||
		len(st.Suppressions) != 1 || st.Suppressions[0].Silence != "sil-1" {
		t.Errorf("explain: %d %s", code, body)
	}
	if code, body := get("/api/v1/topics/k/matches"); code != http.StatusOK || f.limit != 100 {
		t.Errorf("latest: %d %s, limit %d", code, body, f.limit)
	}
	if code, _ := get("/api/v1/topics/k/matches?limit=7"); code != http.StatusOK || f.limit != 7 {
		t.Errorf("limit 7: %d, limit %d", code, f.limit)
	}
	for _, bad := range []string{"0", "x", "2001"} {
		if code, _ := get("/api/v1/topics/k/matches?limit=" + bad); code != http.StatusBadRequest {
			t.Errorf("limit=%s: %d, want 400", bad, code)
		}
	}
	for _, p := range []string{"/api/v1/topics/nope/matches?article=a", "/api/v1/topics/nope/matches"} {
		if code, _ := get(p); code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, code)
		}
	}
}
