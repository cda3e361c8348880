package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/newswatch/newswatch/alerts"
	"github.com/prometheus/client_golang/prometheus"
)

// guarded is the API as the default config serves it: no token, on loopback.
func guarded(t *testing.T, allowed ...string) (http.Handler, *alerts.Silences) {
	t.Helper()
	s := alerts.NewSilences(nil, func() time.Time { return t0 })
	return New(Options{
		Feeds: feeds{}, Topics: topicsFake{}, Alerts: alertsFake{}, Silences: silences{s},
		Gatherer: prometheus.NewRegistry(), Ready: func(context.Context) error { return nil },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return t0 },
		Guard: GuardConfig{Listen: "127.0.0.1:8080", AllowedHosts: allowed},
	}), s
}

func serve(h http.Handler, method, path, host string, header map[string]string, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Host = host
	req.RemoteAddr = "127.0.0.1:40000"
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// A page open in the operator's browser must not change state through the API, however it
// words the request; curl and scripts still can.
func TestGuardRefusesCrossSiteStateChanges(t *testing.T) {
	const body = `{"topic":"k","duration":"1h"}`
	for _, c := range []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"cross-site text/plain (a form or fetch without preflight)",
			map[string]string{"Content-Type": "text/plain", "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, 403},
		{"text/plain from an old browser without Sec-Fetch-Site",
			map[string]string{"Content-Type": "text/plain;charset=UTF-8", "Origin": "https://evil.example"}, 403},
		{"text/plain without browser headers", map[string]string{"Content-Type": "text/plain"}, 415},
		{"form", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415},
		{"no content type", nil, 415},
		{"json from another site", map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, 403},
		{"json from another port on this host", map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "same-site"}, 403},
		{"json with a foreign Origin", map[string]string{"Content-Type": "application/json", "Origin": "http://127.0.0.1:3000"}, 403},
		{"curl", map[string]string{"Content-Type": "application/json"}, 201},
		{"same origin", map[string]string{"Content-Type": "application/json; charset=utf-8", "Origin": "http://127.0.0.1:8080", "Sec-Fetch-Site": "same-origin"}, 201},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, s := guarded(t)
			rec := serve(h, "POST", "/api/v1/silences", "127.0.0.1:8080", c.header, body)
			if rec.Code != c.want {
				t.Fatalf("POST = %d %s, want %d", rec.Code, rec.Body, c.want)
			}
			if got := len(s.Active()); (c.want == 201) != (got == 1) {
				t.Errorf("%d silences after a %d", got, rec.Code)
			}
			if c.want != 201 && !strings.Contains(rec.Body.String(), `"error"`) {
				t.Errorf("refusal without an explanation: %s", rec.Body)
			}
		})
	}
	t.Run("cross-site DELETE", func(t *testing.T) {
		h, s := guarded(t)
		x := s.Add(alerts.Silence{Topic: "k", Until: t0.Add(time.Hour)})
		rec := serve(h, "DELETE", "/api/v1/silences/"+x.ID, "127.0.0.1:8080", map[string]string{"Sec-Fetch-Site": "cross-site"}, "")
		if rec.Code != 403 || len(s.Active()) != 1 {
			t.Errorf("cross-site DELETE = %d, %d silences left", rec.Code, len(s.Active()))
		}
		if rec := serve(h, "DELETE", "/api/v1/silences/"+x.ID, "127.0.0.1:8080", nil, ""); rec.Code != 204 {
			t.Errorf("DELETE from curl = %d %s", rec.Code, rec.Body)
		}
	})
}

// DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1 reaches the API
// with Host: evil.example. Only the server's own names and IP addresses are served.
func TestGuardChecksHost(t *testing.T) {
	h, _ := guarded(t, "newswatch", "News.Example:443")
	for host, want := range map[string]int{
		"evil.example":           421,
		"evil.example:8080":      421,
		"127.0.0.1.nip.io":       421,
		"localhost.evil.example": 421,
		"127.0.0.1:8080":         200,
		"[::1]:8080":             200,
		"10.1.2.3:8080":          200, // a probe or scraper by pod IP
		"localhost:8080":         200,
		"LOCALHOST.:8080":        200,
		"newswatch:8080":         200, // http.allowed_hosts
		"news.example":           200,
		"":                       200, // HTTP/1.0 without Host: not a browser
	} {
		for _, path := range []string{"/api/v1/feeds", "/metrics"} {
			rec := serve(h, "GET", path, host, nil, "")
			if rec.Code != want {
				t.Errorf("GET %s with Host %q = %d, want %d", path, host, rec.Code, want)
			}
			if want == 421 && !strings.Contains(rec.Body.String(), "http.allowed_hosts") {
				t.Errorf("Host %q refused without saying what to do: %s", host, rec.Body)
			}
		}
	}
	if rec := serve(h, "POST", "/api/v1/silences", "evil.example", map[string]string{"Content-Type": "application/json"}, `{"topic":"k","duration":"1h"}`); rec.Code != 421 {
		t.Errorf("POST with a foreign Host = %d", rec.Code)
	}
}

// The guard wraps other handlers on the same listener (the analyst page) the same way.
func TestGuardWrapsAnyHandler(t *testing.T) {
	h := Guard(GuardConfig{Listen: "localhost:8080"}, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	if rec := serve(h, "POST", "/page/action", "localhost:8080", map[string]string{"Content-Type": "text/plain", "Sec-Fetch-Site": "cross-site"}, "x"); rec.Code != 403 {
		t.Errorf("cross-site POST = %d", rec.Code)
	}
	if rec := serve(h, "GET", "/page", "rebound.example:8080", nil, ""); rec.Code != 421 {
		t.Errorf("foreign Host = %d", rec.Code)
	}
	if rec := serve(h, "GET", "/page", "localhost:8080", map[string]string{"Sec-Fetch-Site": "cross-site"}, ""); rec.Code != 204 {
		t.Errorf("a cross-site GET (a link) = %d", rec.Code)
	}
}
