package feeds

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

var metricsNow = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

// feedMetrics registers the poller's metrics for n feeds, as NewPoller and Restore do, and
// records one poll of each: failing(i) says how many polls in a row feed i has failed (0: its
// last poll was ok and brought a new article).
func feedMetrics(t testing.TB, reg *prometheus.Registry, n int, failing func(i int) int) *metrics {
	t.Helper()
	m := newMetrics(reg)
	m.health.now = func() time.Time { return metricsNow }
	for i := range n {
		id := fmt.Sprintf("feed-%05d", i)
		m.init(id)
		if f := failing(i); f > 0 {
			m.polls.WithLabelValues(id, "http_error").Inc()
			m.failures.WithLabelValues(id).Set(float64(f))
			m.publishErrs.WithLabelValues(id).Inc()
		} else {
			m.polls.WithLabelValues(id, "ok").Inc()
			m.pollDuration.WithLabelValues(id).Observe(0.2)
			m.failures.WithLabelValues(id).Set(0)
			m.lastSuccess.WithLabelValues(id).Set(float64(metricsNow.Add(-time.Minute).Unix()))
			m.lastNew.WithLabelValues(id).Set(float64(metricsNow.Add(-time.Hour).Unix()))
			m.cadence.WithLabelValues(id).Set(3600)
			m.published.WithLabelValues(id).Add(20)
			m.itemErrs.WithLabelValues(id).Add(0)
			m.partial.WithLabelValues(id).Add(0)
			m.duplicates.WithLabelValues(id).Add(1)
		}
	}
	return m
}

// scrape serves GET /metrics from reg and returns the body and its series, by metric name.
func scrape(t testing.TB, reg *prometheus.Registry) ([]byte, map[string][]*dto.Metric) {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", rec.Code)
	}
	body := rec.Body.Bytes()
	dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.NewFormat(expfmt.TypeTextPlain))
	series := map[string][]*dto.Metric{}
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("parse /metrics: %v", err)
		}
		series[mf.GetName()] = mf.GetMetric()
	}
	return body, series
}

func countSeries(series map[string][]*dto.Metric) int {
	n := 0
	for _, ms := range series {
		n += len(ms)
	}
	return n
}

func TestMetricsDoNotGrowWithHealthyFeeds(t *testing.T) {
	healthy := func(int) int { return 0 }
	small := prometheus.NewRegistry()
	feedMetrics(t, small, 10, healthy)
	_, smallSeries := scrape(t, small)

	big := prometheus.NewRegistry()
	feedMetrics(t, big, 10_000, healthy)
	body, bigSeries := scrape(t, big)
	if got, want := countSeries(bigSeries), countSeries(smallSeries); got != want {
		t.Errorf("10,000 healthy feeds export %d series, 10 export %d: healthy feeds must not add series", got, want)
	}
	for name, ms := range bigSeries {
		for _, m := range ms {
			for _, l := range m.GetLabel() {
				if l.GetName() == "feed" {
					t.Errorf("%s has a series for healthy feed %s", name, l.GetValue())
				}
			}
		}
	}
	if len(body) > 16<<10 {
		t.Errorf("/metrics of 10,000 healthy feeds is %d bytes", len(body))
	}
	wantCounts := map[string]float64{statusOK: 10_000, statusFailing: 0, statusStale: 0, statusSilent: 0, statusNeverPolled: 0}
	checkStatusCounts(t, bigSeries, wantCounts)
	if got := bigSeries["newswatch_articles_published_total"][0].GetCounter().GetValue(); got != 200_000 {
		t.Errorf("newswatch_articles_published_total = %v, want 200000 (all feeds together)", got)
	}
}

func checkStatusCounts(t *testing.T, series map[string][]*dto.Metric, want map[string]float64) {
	t.Helper()
	got := map[string]float64{}
	for _, m := range series["newswatch_feeds"] {
		got[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
	}
	for s, w := range want {
		if got[s] != w {
			t.Errorf("newswatch_feeds{status=%q} = %v, want %v (all: %v)", s, got[s], w, got)
		}
	}
}

func TestMetricsAt10000FeedsStayUnder2MB(t *testing.T) {
	// Every feed failing is the worst case: the per-feed series stay capped.
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	feedMetrics(t, reg, 10_000, func(i int) int { return 1 + i%50 })
	body, series := scrape(t, reg)
	if len(body) > 2<<20 {
		t.Errorf("/metrics at 10,000 failing feeds is %d bytes, over 2 MiB", len(body))
	}
	failing := series["newswatch_feed_consecutive_failures"]
	if len(failing) != maxFeedSeries {
		t.Fatalf("%d feeds have their own failure series, want the cap %d", len(failing), maxFeedSeries)
	}
	// The worst come first: the cap keeps feeds with 50 failures in a row.
	for _, m := range failing {
		if v := m.GetGauge().GetValue(); v != 50 {
			t.Errorf("feed %s with %v failures exported while feeds with 50 were left out", m.GetLabel()[0].GetValue(), v)
			break
		}
	}
	checkStatusCounts(t, series, map[string]float64{statusFailing: 10_000, statusOK: 0})
}

func TestFeedStatuses(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := feedMetrics(t, reg, 0, nil)
	at := func(d time.Duration) float64 { return float64(metricsNow.Add(-d).Unix()) }
	for _, f := range []struct {
		id                   string
		fails                float64
		lastSuccess, lastNew float64
	}{
		{"healthy", 0, at(time.Minute), at(time.Hour)},
		{"no-articles-yet", 0, at(time.Minute), 0},
		{"failing", 3, at(time.Hour), at(time.Hour)},
		{"failing-never-ok", 1, 0, 0},
		{"stale", 0, at(3 * time.Hour), at(3 * time.Hour)},
		{"silent", 0, at(time.Minute), at(30 * time.Hour)},
		{"unpolled", 0, 0, 0},
	} {
		m.init(f.id)
		m.failures.WithLabelValues(f.id).Set(f.fails)
		m.lastSuccess.WithLabelValues(f.id).Set(f.lastSuccess)
		m.lastNew.WithLabelValues(f.id).Set(f.lastNew)
	}
	_, series := scrape(t, reg)
	checkStatusCounts(t, series, map[string]float64{
		statusOK: 2, statusFailing: 2, statusStale: 1, statusSilent: 1, statusNeverPolled: 1,
	})
	var got []string
	for _, s := range series["newswatch_feed_consecutive_failures"] {
		got = append(got, s.GetLabel()[0].GetValue())
	}
	if strings.Join(got, ",") != "failing,failing-never-ok,silent,stale" {
		t.Errorf("feeds with their own series: %v, want the failing, stale and silent ones", got)
	}
	// A feed that never succeeded has no last-success series rather than a 1970 one.
	for _, s := range series["newswatch_feed_last_success_timestamp_seconds"] {
		if s.GetLabel()[0].GetValue() == "failing-never-ok" {
			t.Errorf("failing-never-ok exports a last success of %v", s.GetGauge().GetValue())
		}
	}
	if n := len(series["newswatch_feed_last_success_timestamp_seconds"]); n != 3 {
		t.Errorf("%d last-success series, want 3", n)
	}
}

// BenchmarkScrape10000Feeds serves /metrics with 10,000 feeds, 500 of them failing, beside the
// Go and process collectors, as the daemon does.
func BenchmarkScrape10000Feeds(b *testing.B) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	feedMetrics(b, reg, 10_000, func(i int) int { return i % 20 })
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	var size int
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(size), "bytes/scrape")
}
