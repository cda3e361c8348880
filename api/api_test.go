package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/newswatch/newswatch/alerts"
	"github.com/newswatch/newswatch/projections/feedhealth"
	"github.com/newswatch/newswatch/projections/summaries"
	"github.com/prometheus/client_golang/prometheus"
)

type feeds struct{}

func (feeds) List() []feedhealth.Feed { return []feedhealth.Feed{{ID: "a", LastStatus: "ok"}} }

type topicsFake struct{}

func (topicsFake) List() []TopicInfo { return []TopicInfo{{ID: "k", Name: "K", ArticleCount: 2}} }
func (topicsFake) Get(id string) (summaries.Summary, bool) {
	return summaries.Summary{ID: id}, id == "k"
}

type alertsFake struct{}

func (alertsFake) List(string, int) []json.RawMessage { return []json.RawMessage{} }
func (alertsFake) Subscribe() (<-chan json.RawMessage, func()) {
	return make(chan json.RawMessage), func() {}
}

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func newServer(t *testing.T, ready error) *httptest.Server {
	s := alerts.NewSilences(nil, func() time.Time { return t0 })
	srv := httptest.NewServer(New(Options{
		Feeds: feeds{}, Topics: topicsFake{}, Alerts: alertsFake{}, Silences: silences{s},
		Gatherer: prometheus.NewRegistry(), Ready: func(context.Context) error { return ready },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return t0 },
	}))
	t.Cleanup(srv.Close)
	return srv
}

type silences struct{ s *alerts.Silences }

func (f silences) List() []alerts.Silence { return f.s.Active() }
func (f silences) Add(_ context.Context, topic string, until time.Time, c string) (alerts.Silence, error) {
	switch topic {
	case "k":
	case "down":
		return alerts.Silence{}, errors.New("store silences: no responders")
	default:
		return alerts.Silence{}, fmt.Errorf("%w %q", ErrSilenceTopic, topic)
	}
	return f.s.Add(alerts.Silence{Topic: topic, Until: until, Comment: c}), nil
}
func (f silences) Remove(_ context.Context, id string) error { return f.s.Remove(id) }

func do(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if method == "POST" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRoutes(t *testing.T) {
	srv := newServer(t, nil)
	for _, c := range []struct {
		method, path, body string
		status             int
		contains           string
	}{
		{"GET", "/healthz", "", 200, `"ok"`},
		{"GET", "/readyz", "", 200, `"ready"`},
		{"GET", "/api/v1/feeds", "", 200, `"last_status": "ok"`},
		{"GET", "/api/v1/topics", "", 200, `"article_count": 2`},
		{"GET", "/api/v1/topics/k", "", 200, `"id": "k"`},
		{"GET", "/api/v1/topics/nope", "", 404, `"error": "unknown topic \"nope\""`},
		{"GET", "/api/v1/nothing", "", 404, `"error"`},
		{"GET", "/api/v1/alerts?limit=0", "", 400, "limit"},
		{"POST", "/api/v1/silences", `{"topic":"k","duration":"2h"}`, 201, `"topic": "k"`},
		{"POST", "/api/v1/silences", `{"topic":"k","duration":"-1h"}`, 400, "duration"},
		{"POST", "/api/v1/silences", `{"topic":"k","until":"2020-01-01T00:00:00Z"}`, 400, "future"},
		{"POST", "/api/v1/silences", `{"topic":"zz","duration":"1h"}`, 400, "unknown topic"},
		{"POST", "/api/v1/silences", `{"topic":"down","duration":"1h"}`, 500, "no responders"},
		{"POST", "/api/v1/silences", `{"topic":"k","duration":"1h","extra":1}`, 400, "unknown field"},
		{"DELETE", "/api/v1/silences/sil-nope", "", 404, "no such silence"},
	} {
		status, body := do(t, c.method, srv.URL+c.path, c.body)
		if status != c.status || !strings.Contains(body, c.contains) {
			t.Errorf("%s %s = %d %s; want %d containing %q", c.method, c.path, status, body, c.status, c.contains)
		}
	}
	_, body := do(t, "GET", srv.URL+"/api/v1/silences", "")
	var list []alerts.Silence
	if err := json.Unmarshal([]byte(body), &list); err != nil || len(list) != 1 || !list[0].Until.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("silences = %s", body)
	}
	if status, _ := do(t, "DELETE", srv.URL+"/api/v1/silences/"+list[0].ID, ""); status != 204 {
		t.Errorf("DELETE silence = %d", status)
	}
}

func TestNotReady(t *testing.T) {
	srv := newServer(t, errors.New("NATS not connected"))
	if status, body := do(t, "GET", srv.URL+"/readyz", ""); status != 503 || !strings.Contains(body, "NATS not connected") {
		t.Errorf("readyz = %d %s", status, body)
	}
}

func TestStateChangesNeedTheToken(t *testing.T) {
	s := alerts.NewSilences(nil, func() time.Time { return t0 })
	h := New(Options{
		Feeds: feeds{}, Topics: topicsFake{}, Alerts: alertsFake{}, Silences: silences{s},
		Gatherer: prometheus.NewRegistry(), Ready: func(context.Context) error { return nil },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return t0 }, Token: "s3cret",
		Guard: GuardConfig{AllowedHosts: []string{"example.com"}},
	})
	post := func(auth string) int {
		req := httptest.NewRequest("POST", "/api/v1/silences", strings.NewReader(`{"topic":"k","duration":"1h"}`))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for auth, want := range map[string]int{"": 401, "Bearer nope": 401, "s3cret": 401, "Bearer s3cret": 201} {
		if got := post(auth); got != want {
			t.Errorf("POST with %q = %d, want %d", auth, got, want)
		}
	}
	// Reads need no token.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/silences", nil))
	if rec.Code != 200 {
		t.Errorf("GET silences = %d", rec.Code)
	}
}

func TestWithoutTokenOnlyLoopbackChangesState(t *testing.T) {
	s := alerts.NewSilences(nil, func() time.Time { return t0 })
	h := New(Options{Feeds: feeds{}, Topics: topicsFake{}, Alerts: alertsFake{}, Silences: silences{s},
		Gatherer: prometheus.NewRegistry(), Ready: func(context.Context) error { return nil },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return t0 },
		Guard: GuardConfig{AllowedHosts: []string{"example.com"}}})
	for remote, want := range map[string]int{"127.0.0.1:5000": 201, "[::1]:5000": 201, "192.0.2.7:5000": 403, "[::ffff:127.0.0.1]:1": 201} {
		req := httptest.NewRequest("POST", "/api/v1/silences", strings.NewReader(`{"topic":"k","duration":"1h"}`))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = remote
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("POST from %s = %d, want %d", remote, rec.Code, want)
		}
	}
}
