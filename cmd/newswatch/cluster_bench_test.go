package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/events"
)

// freshFeeds serves feeds whose every response carries perPoll items never served before.
type freshFeeds struct {
	n   atomic.Int64
	srv *httptest.Server
}

func newFreshFeeds(b testing.TB, perPoll int) *freshFeeds {
	f := &freshFeeds{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		items := make([]dated, perPoll)
		for i := range items {
			k := f.n.Add(1)
			items[i] = dated{
				title: fmt.Sprintf("Kursk report %d from %s", k, r.URL.Path),
				link:  fmt.Sprintf("https://example.org%s/%d", r.URL.Path, k),
				desc:  "North Korean soldiers arrived, officials in Moscow said on Tuesday.", at: time.Now(),
			}
		}
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		_, _ = w.Write([]byte(rssAt("fresh", items...)))
	}))
	b.Cleanup(f.srv.Close)
	return f
}

// BenchmarkClusterIngest measures articles stored per second by 1, 2 and 3 instances in
// cluster mode against one 3-node NATS cluster on this machine, with feeds that always have
// new items (more than the instances can store: the figure is capacity, not demand).
func BenchmarkClusterIngest(b *testing.B) {
	nc := startNATSCluster(b)
	feeds := newFreshFeeds(b, 25)
	var y strings.Builder
	for i := range 80 {
		fmt.Fprintf(&y, "  - {id: f%d, url: \"%s/f%d.xml\", schedule: \"@every 1s\"}\n", i, feeds.srv.URL, i)
	}
	for _, n := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			var ms []*member
			for i := range n {
				cfg, err := config.Parse([]byte(fmt.Sprintf(`
data_dir: %s
nats: {url: "%s", replicas: 3}
http: {listen: ""}
fetch: {allow_networks: ["127.0.0.1/32"], timeout: 10s, per_host_concurrency: 64}
log: {level: warn}
cluster: {enabled: true, instance: bench-%d-%d}
feeds:
%stopics:
  - {id: kursk, name: Kursk, query: 'Kursk'}
`, b.TempDir(), nc.URL(), n, i, y.String())), "bench.yaml")
				if err != nil {
					b.Fatal(err)
				}
				ms = append(ms, startMember(b, cfg))
			}
			defer func() {
				for _, m := range ms {
					m.stop()
				}
			}()
			stored := func() uint64 {
				st, err := ms[0].app.conn.StreamInfo(b.Context(), events.ArticleStream)
				if err != nil {
					return 0
				}
				return st.Msgs / 2 // an article and its id marker
			}
			// Warm up: every instance has joined and polls.
			time.Sleep(10 * time.Second)
			start, t0 := stored(), time.Now()
			for b.Loop() {
				for target := stored() + 1000; stored() < target; {
					time.Sleep(50 * time.Millisecond)
				}
			}
			b.ReportMetric(float64(stored()-start)/time.Since(t0).Seconds(), "articles/s")
		})
	}
}
