// Package web is the analyst's page: server-rendered views (html/template) over the read
// models, served at / by the daemon, with its stylesheet and script embedded in the binary.
// Every page works without JavaScript except the live alert list, the query tester's results
// as you type and the buttons that change state; those go through the JSON API (/api/v1), so
// its authorization and cross-site rules cover them: the page has no state-changing endpoint
// of its own.
package web

import (
	"embed"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/newswatch/newswatch/alerts"
	"github.com/newswatch/newswatch/alerts/spike"
	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/projections/feedhealth"
	"github.com/newswatch/newswatch/projections/summaries"
	"github.com/prometheus/client_golang/prometheus"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Summaries reads topic summaries (*summaries.Projection).
type Summaries interface {
	Get(id, name string, now time.Time) summaries.Summary
}

// Volume reads a topic's hourly volume against the usual (*alerts.SpikeRunner).
type Volume interface {
	Series(topic string, hours int) spike.Series
}

// Alerts reads the newest alerts, newest first (*alertlog.Projection).
type Alerts interface {
	List(topic string, limit int) []json.RawMessage
}

// Feeds lists the health of the configured feeds.
type Feeds interface {
	List() []feedhealth.Feed
}

// Silences lists the active silences.
type Silences interface {
	List() []alerts.Silence
}

// Options wire the read models into the page.
type Options struct {
	// Config returns the configuration in force (topics, feeds, alert rules).
	Config    func() *config.Config
	Summaries Summaries
	Stories   StoryReader
	Volume    Volume
	Alerts    Alerts
	Feeds     Feeds
	Silences  Silences
	// Articles is the article stream, read for the query tester and search (*events.Conn);
	// nil leaves those pages with an explanation.
	Articles ArticleLog
	// FeedTags gives a feed's tags now, so the query tester reads tag: as the matcher does
	// (nil: no feed has tags).
	FeedTags func(feedID string) []string
	// Gatherer gives the receivers' pending and dead-lettered alerts (may be nil).
	Gatherer prometheus.Gatherer
	// PollNow shows a "poll now" button per feed, calling POST /api/v1/feeds/{id}/poll.
	PollNow bool
	// API serves every path the page does not (the JSON API, /metrics, /healthz).
	API    http.Handler
	Now    func() time.Time
	Logger *slog.Logger
}

type server struct {
	o      Options
	pages  map[string]*page
	corpus *corpus
	tests  chan struct{} // bounds concurrent query evaluations over the corpus
}

// New returns the page's handler; paths it does not serve go to o.API.
func New(o Options) (http.Handler, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &server{o: o, pages: pages, tests: make(chan struct{}, 2)}
	if o.Articles != nil {
		s.corpus = newCorpus(o.Articles, o.Now, o.Logger)
	}
	assets, err := fs.Sub(assetFS, "assets")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", cacheAssets(http.FileServerFS(assets))))
	mux.HandleFunc("GET /{$}", s.overview)
	mux.HandleFunc("GET /topics/{id}", s.topic)
	mux.HandleFunc("GET /topics/{id}/stories/{story}", s.story)
	mux.HandleFunc("GET /alerts", s.liveAlerts)
	mux.HandleFunc("GET /query", s.queryTester)
	mux.HandleFunc("GET /search", s.search)
	mux.HandleFunc("GET /feeds", s.feeds)
	mux.HandleFunc("GET /silences", s.silences)
	if o.API != nil {
		mux.Handle("/", o.API)
	}
	return mux, nil
}

func cacheAssets(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		h.ServeHTTP(w, r)
	})
}
