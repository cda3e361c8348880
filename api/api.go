// Package api serves newswatch's HTTP interface: health, readiness, Prometheus metrics and the
// JSON read API over the projections.
package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/newswatch/newswatch/projections/feedhealth"
	"github.com/newswatch/newswatch/projections/summaries"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Feeds lists the health of the configured feeds.
type Feeds interface {
	List() []feedhealth.Feed
}

// TopicInfo is one entry of GET /api/v1/topics.
type TopicInfo struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	ArticleCount int64  `json:"article_count"`
}

// Topics reads topic summaries.
type Topics interface {
	List() []TopicInfo
	Get(id string) (summaries.Summary, bool)
}

// Options wire the read models into the API.
type Options struct {
	Feeds    Feeds
	Topics   Topics
	Alerts   Alerts
	Silences Silences
	// Matches explains what became of matches (GET /api/v1/topics/{id}/matches); the
	// endpoint is absent when nil.
	Matches Matches
	// Stories serves every story of a topic (nil: not served).
	Stories Stories
	// FeedManager, when set, serves the endpoints that change feeds at run time (feeds.go).
	FeedManager FeedManager
	// Now is the clock (time.Now when nil).
	Now      func() time.Time
	Gatherer prometheus.Gatherer
	// Ready returns nil when the daemon can do its work (NATS connected, streams present,
	// projections caught up), else what is missing.
	Ready  func(ctx context.Context) error
	Logger *slog.Logger
	// Token, when set, must be presented as "Authorization: Bearer <token>" by requests that
	// change state. Without it, only clients on loopback may change state.
	Token string
	// Guard says which Host names the API answers to; every request passes Guard.
	Guard GuardConfig
}

type server struct{ o Options }

func (s *server) now() time.Time {
	if s.o.Now != nil {
		return s.o.Now()
	}
	return time.Now()
}

// New returns the API's handler, wrapped in Guard.
func New(o Options) http.Handler {
	mux := http.NewServeMux()
	(&server{o}).alertRoutes(mux)
	(&server{o}).matchRoutes(mux)
	(&server{o}).storyRoutes(mux)
	(&server{o}).feedRoutes(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := o.Ready(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn)}))
	mux.HandleFunc("GET /api/v1/feeds", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, o.Feeds.List())
	})
	mux.HandleFunc("GET /api/v1/topics", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, o.Topics.List())
	})
	mux.HandleFunc("GET /api/v1/topics/{id}", func(w http.ResponseWriter, r *http.Request) {
		s, ok := o.Topics.Get(r.PathValue("id"))
		if !ok {
			Error(w, http.StatusNotFound, "unknown topic "+strconv.Quote(r.PathValue("id")))
			return
		}
		writeJSON(w, http.StatusOK, s)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		Error(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
	})
	return Guard(o.Guard, mux)
}

// Error writes a JSON error body.
func Error(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
