package web

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/newswatch/newswatch/alerts"
	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/alerts/spike"
	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/projections/alertlog"
	"github.com/newswatch/newswatch/projections/feedhealth"
	"github.com/newswatch/newswatch/projections/stories"
	"github.com/newswatch/newswatch/projections/summaries"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var now = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

// detectorVolume serves a spike detector's series at a fixed time.
type detectorVolume struct{ d *spike.Detector }

func (v detectorVolume) Series(topic string, hours int) spike.Series {
	return v.d.Series(topic, now, hours)
}

type noFeeds struct{ list []feedhealth.Feed }

func (f noFeeds) List() []feedhealth.Feed { return f.list }

type silenceList []alerts.Silence

func (s silenceList) List() []alerts.Silence { return s }

// fixture is a page over real projections holding topics topics, each with 24 articles of 12
// stories from 4 outlets over the last two days, and an alert.
func fixture(t testing.TB, topics int) http.Handler {
	t.Helper()
	cfg := &config.Config{}
	sum, st, log := summaries.New(), stories.New(), alertlog.New()
	var rules []spike.Rule
	for i := range topics {
		id := fmt.Sprintf("topic-%04d", i)
		cfg.Topics = append(cfg.Topics, config.Topic{ID: id, Name: fmt.Sprintf("Topic number %d", i), Query: fmt.Sprintf("alpha%d OR beta", i)})
		rules = append(rules, spike.Rule{Topic: id, LearnOnly: true})
	}
	det, err := spike.NewDetector(rules)
	if err != nil {
		t.Fatal(err)
	}
	seq := uint64(0)
	for i, tp := range cfg.Topics {
		for j := range 24 {
			seq++
			at := now.Add(-time.Duration(j*2) * time.Hour)
			m := events.Match{Topic: tp.ID, QueryVersion: "v1", ArticleID: fmt.Sprintf("%s-%02d", tp.ID, j), ArticleSeq: seq,
				URL:   fmt.Sprintf("https://outlet%d.example/%s/%d", j%4, tp.ID, j),
				Title: fmt.Sprintf("Event %d of topic %d: officials report developments in region %d", j/2, i, j/2), Summary: "Officials said more.",
				Source: fmt.Sprintf("outlet-%d", j%4), PublishedAt: at, FirstSeenAt: at, MatchedAt: at,
				Matched: []events.MatchedTerm{{Term: "beta", Field: "title"}}}
			msg, err := events.MatchMessage(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := sum.Apply(msg.Data, seq); err != nil {
				t.Fatal(err)
			}
			if err := st.Apply(msg.Data, seq); err != nil {
				t.Fatal(err)
			}
			det.Observe(spike.ObservationOf(m))
		}
		raw, _ := json.Marshal(notify.Alert{ID: "alert-" + tp.ID, Topic: tp.ID, TopicName: tp.Name, Kind: notify.KindMatch, FiredAt: now.Add(-time.Hour),
			Summary: "1 new story for " + tp.Name, Articles: []notify.Article{{ID: tp.ID + "-00", Title: "Event 0", Source: "outlet-0", Matched: []string{"beta"}}}})
		if err := log.Apply(raw, uint64(i)); err != nil {
			t.Fatal(err)
		}
	}
	h, err := New(Options{Config: func() *config.Config { return cfg }, Summaries: sum, Stories: st, Volume: detectorVolume{det},
		Alerts: log, Feeds: noFeeds{}, Silences: silenceList{}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func get(t testing.TB, h http.Handler, path string, gz bool) (*httptest.ResponseRecorder, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body := rec.Body.Bytes()
	if rec.Header().Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return rec, string(body)
}

// The overview of 1,000 topics lists every one of them and stays within 300 KB on the wire.
func TestOverviewOfAThousandTopicsFitsTheBudget(t *testing.T) {
	h := fixture(t, 1000)
	rec, body := get(t, h, "/", true)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET / = %d", rec.Code)
	}
	wire := rec.Body.Len()
	t.Logf("overview of 1,000 topics: %d bytes of HTML, %d bytes gzipped", len(body), wire)
	if wire > 300<<10 {
		t.Errorf("overview is %d bytes on the wire, want at most %d", wire, 300<<10)
	}
	if n := strings.Count(body, `<th scope="row"><a href="/topics/topic-`); n != 1000 {
		t.Errorf("overview lists %d topics, want 1000", n)
	}
	if !strings.Contains(body, `<a href="/topics/topic-0999/stories/story-`) || !strings.Contains(body, `class="badge kind-match"`) {
		t.Error("overview misses a topic's latest story or its last alert")
	}
}

// BenchmarkOverview measures the server time of the overview of 1,000 topics over real
// projections (goal: at most 200 ms). cpu-ms/op is the process's CPU time per page, which a
// busy shared machine does not inflate the way it does wall time.
func BenchmarkOverview(b *testing.B) {
	h := fixture(b, 1000)
	var wire int
	cpu0 := cpuTime()
	for b.Loop() {
		rec, _ := get(b, h, "/", true)
		wire = rec.Body.Len()
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(wire), "wire-bytes")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// With nothing configured and nothing stored, every page renders and says what to do next.
func TestEmptyStates(t *testing.T) {
	cfg := &config.Config{}
	det, _ := spike.NewDetector(nil)
	h, err := New(Options{Config: func() *config.Config { return cfg }, Summaries: summaries.New(), Stories: stories.New(),
		Volume: detectorVolume{det}, Alerts: alertlog.New(), Feeds: noFeeds{}, Silences: silenceList{},
		API: http.NotFoundHandler()})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/":              "No topics yet",
		"/alerts":        "No alerts yet",
		"/query":         "No topics in the config yet",
		"/search":        "Type a query",
		"/search?q=x":    "cannot be read here",
		"/feeds":         "No feeds configured",
		"/silences":      "No active silences",
		"/topics/nope":   "There is no topic nope",
		"/assets/app.js": "liveAlerts",
	} {
		rec, body := get(t, h, path, false)
		if !strings.Contains(body, want) {
			t.Errorf("GET %s (%d) does not say %q", path, rec.Code, want)
		}
	}
	if rec, _ := get(t, h, "/", false); !strings.Contains(rec.Header().Get("Content-Security-Policy"), "script-src 'self'") {
		t.Error("pages are served without a content security policy")
	}
}

// The page has no state-changing endpoint of its own: a form post to any of its paths is
// refused (state changes go through the JSON API and its guards).
func TestPagesRefuseStateChanges(t *testing.T) {
	h := fixture(t, 1)
	for _, path := range []string{"/", "/silences", "/feeds", "/query", "/search", "/alerts", "/topics/topic-0000"} {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader("topic=topic-0000&duration=2h"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusMethodNotAllowed && rec.Code != http.StatusNotFound {
			t.Errorf("POST %s = %d, want 405 or 404", path, rec.Code)
		}
	}
}

// The overview names failing feeds and the receivers with pending or dead-lettered alerts.
func TestOverviewShowsWhatNeedsALook(t *testing.T) {
	reg := prometheus.NewRegistry()
	pending := promauto.With(reg).NewGaugeVec(prometheus.GaugeOpts{Name: "newswatch_alert_delivery_pending"}, []string{"receiver"})
	deliveries := promauto.With(reg).NewCounterVec(prometheus.CounterOpts{Name: "newswatch_alert_deliveries_total"}, []string{"receiver", "result"})
	pending.WithLabelValues("ops-hook").Set(4)
	pending.WithLabelValues("quiet-hook").Set(0)
	deliveries.WithLabelValues("slack", "dead_lettered").Add(2)
	deliveries.WithLabelValues("quiet-hook", "delivered").Add(9)
	cfg := &config.Config{}
	det, _ := spike.NewDetector(nil)
	at := now.Add(-time.Minute)
	h, err := New(Options{Config: func() *config.Config { return cfg }, Summaries: summaries.New(), Stories: stories.New(),
		Volume: detectorVolume{det}, Alerts: alertlog.New(), Silences: silenceList{}, Gatherer: reg, Now: func() time.Time { return now },
		Feeds: noFeeds{[]feedhealth.Feed{{ID: "good", LastStatus: "ok", LastPollAt: &at}, {ID: "broken", LastStatus: "error", LastError: "HTTP 503", ConsecutiveFailures: 3, LastPollAt: &at}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, body := get(t, h, "/", false)
	for _, want := range []string{"broken</a>: error, 3 failures in a row (HTTP 503)", "ops-hook: 4 pending, 0 dead-lettered", "slack: 0 pending, 2 dead-lettered"} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	if strings.Contains(body, "quiet-hook") || strings.Contains(body, ">good</a>") {
		t.Error("overview lists a healthy receiver or feed as needing a look")
	}
}
