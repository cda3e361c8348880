package feeds

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/feeds/normalize"
	"github.com/newswatch/newswatch/feeds/parse"
	"github.com/prometheus/client_golang/prometheus"
)

// benchStoreDir puts the benchmarks' JetStream store elsewhere, e.g. on tmpfs (/dev/shm) to
// measure the pipeline's CPU apart from the disk's fsync latency.
var benchStoreDir = flag.String("bench.storedir", "", "directory for the pipeline benchmarks' JetStream store (default: a temporary directory)")

const (
	benchFeeds = 200
	benchItems = 20
)

// benchItem is a news item of about 1 KB: an HTML description and content, as real feeds have.
func benchItem(feed, n int) string {
	para := strings.Repeat("Officials said on Tuesday that talks would resume &amp; continue next week. ", 6)
	return fmt.Sprintf(`<item><title>Story %d of feed %d: talks resume</title><link>https://news%d.example.org/%d/story</link>`+
		`<guid>https://news%d.example.org/%d/story</guid><pubDate>Tue, 01 Dec 2026 10:%02d:00 GMT</pubDate>`+
		`<description><![CDATA[<p>%s</p>]]></description><content:encoded><![CDATA[<div><p>%s</p><p>%s</p></div>]]></content:encoded></item>`,
		n, feed, feed, n, feed, n, n%60, para[:200], para, para)
}

func benchDoc(feed, first int) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Feed</title><link>https://example.org/</link>`)
	for i := first + benchItems - 1; i >= first; i-- {
		b.WriteString(benchItem(feed, i))
	}
	b.WriteString(`</channel></rss>`)
	return []byte(b.String())
}

// benchServer serves each feed's current document with an ETag and answers 304 to it.
type benchServer struct {
	mu   sync.RWMutex
	docs [][]byte
	tags []string
	srv  *httptest.Server
}

func newBenchServer(b *testing.B) *benchServer {
	s := &benchServer{docs: make([][]byte, benchFeeds), tags: make([]string, benchFeeds)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscanf(r.URL.Path, "/f%d.xml", &n)
		s.mu.RLock()
		doc, tag := s.docs[n], s.tags[n]
		s.mu.RUnlock()
		w.Header().Set("ETag", tag)
		if r.Header.Get("If-None-Match") == tag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write(doc)
	}))
	b.Cleanup(s.srv.Close)
	return s
}

func (s *benchServer) set(n int, doc []byte, gen int) {
	s.mu.Lock()
	s.docs[n], s.tags[n] = doc, fmt.Sprintf(`"%d-%d"`, n, gen)
	s.mu.Unlock()
}

// cpuTime is the process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchPipeline runs the real pipeline (fetchers, parse workers, group commit into an
// embedded JetStream with fsync always) and returns a function that polls every feed once.
func benchPipeline(b *testing.B, srv *benchServer) (*Poller, func()) {
	dir := b.TempDir()
	if *benchStoreDir != "" {
		var err error
		if dir, err = os.MkdirTemp(*benchStoreDir, "nwbench"); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
	}
	c, err := events.Connect(context.Background(), events.ConnConfig{DataDir: dir}, quietLog())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	if err := c.EnsureStreams(context.Background()); err != nil {
		b.Fatal(err)
	}
	store := events.NewStore(c)
	var feeds []Feed
	for n := range benchFeeds {
		feeds = append(feeds, Feed{ID: fmt.Sprintf("f%d", n), URL: fmt.Sprintf("%s/f%d.xml", srv.srv.URL, n), Schedule: "@every 1h"})
	}
	p := newTestPoller(b, store, prometheus.NewRegistry(), feeds, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	stop := make(chan struct{})
	stages := p.runStages(ctx, ctx, stop)
	b.Cleanup(func() { cancel(); close(stop); stages.Wait() })
	return p, func() {
		for _, id := range p.order {
			p.fire(ctx, p.feeds[id])
		}
		p.inflight.Wait()
	}
}

// gofeedRate is bare gofeed's parse rate on docs, in items per second, on every core, and
// its CPU per item.
func gofeedRate(docs [][]byte) (float64, time.Duration) {
	const passes = 3
	start, startCPU := time.Now(), cpuTime()
	var wg sync.WaitGroup
	next := make(chan []byte)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			fp := gofeed.NewParser()
			for d := range next {
				_, _ = fp.Parse(bytes.NewReader(d))
			}
		})
	}
	for range passes {
		for _, d := range docs {
			next <- d
		}
	}
	close(next)
	wg.Wait()
	items := passes * len(docs) * benchItems
	return float64(items) / time.Since(start).Seconds(), (cpuTime() - startCPU) / time.Duration(items)
}

// BenchmarkPipelineColdIngest polls 200 feeds of 20 new items each through the whole
// pipeline and compares its rate with bare gofeed parsing the same bytes on every core
// (ratio: wall-clock rates; cpu-ratio: gofeed's CPU per item over the pipeline's, all in).
func BenchmarkPipelineColdIngest(b *testing.B) {
	srv := newBenchServer(b)
	_, pollAll := benchPipeline(b, srv)
	docs := make([][]byte, benchFeeds)
	gen := 0
	setAll := func() {
		gen++
		for n := range benchFeeds {
			docs[n] = benchDoc(n, gen*1000)
			srv.set(n, docs[n], gen)
		}
	}
	setAll()
	bare, bareCPU := gofeedRate(docs)
	var elapsed, cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		setAll()
		b.StartTimer()
		start, startCPU := time.Now(), cpuTime()
		pollAll()
		elapsed += time.Since(start)
		cpu += cpuTime() - startCPU
	}
	items := b.N * benchFeeds * benchItems
	rate := float64(items) / elapsed.Seconds()
	b.ReportMetric(rate, "items/s")
	b.ReportMetric(bare, "gofeed-items/s")
	b.ReportMetric(rate/bare, "ratio")
	// The same comparison in CPU time, which a busy machine disturbs less than wall time.
	perItem := cpu / time.Duration(items)
	b.ReportMetric(float64(perItem.Nanoseconds())/1e3, "cpu-µs/item")
	b.ReportMetric(float64(bareCPU.Nanoseconds())/1e3, "gofeed-cpu-µs/item")
	b.ReportMetric(float64(bareCPU)/float64(perItem), "cpu-ratio")
}

// fullParseCPU is the CPU of parsing and normalizing each doc in full, per doc.
func fullParseCPU(docs [][]byte) time.Duration {
	start := cpuTime()
	for _, d := range docs {
		f, _ := parse.Parse(d, "application/rss+xml", "https://example.org/")
		for _, it := range f.Items {
			_, _ = normalize.Article("f", f.Language, it, time.Now())
		}
	}
	return (cpuTime() - start) / time.Duration(len(docs))
}

// BenchmarkPipelineSteadyState: each feed's document changes by one new item of 20 per
// cycle (the oldest drops off). Reports CPU per poll, all in (fetch, scan, parse of the new
// item, store), against a full parse + normalize of the same document.
func BenchmarkPipelineSteadyState(b *testing.B) {
	srv := newBenchServer(b)
	_, pollAll := benchPipeline(b, srv)
	docs := make([][]byte, benchFeeds)
	gen := 0
	setAll := func() {
		gen++
		for n := range benchFeeds {
			docs[n] = benchDoc(n, gen)
			srv.set(n, docs[n], gen)
		}
	}
	setAll()
	pollAll() // first poll: everything new
	full := fullParseCPU(docs)
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		setAll()
		b.StartTimer()
		start := cpuTime()
		pollAll()
		cpu += cpuTime() - start
	}
	perPoll := cpu / time.Duration(b.N*benchFeeds)
	b.ReportMetric(float64(perPoll.Microseconds()), "cpu-µs/poll")
	b.ReportMetric(float64(full.Microseconds()), "full-parse-cpu-µs/feed")
	b.ReportMetric(float64(perPoll)/float64(full), "ratio")
}

// BenchmarkPipelineNotModified: every feed answers 304. Reports CPU per poll, all in,
// including the in-process test HTTP server's share (so it is an upper bound).
func BenchmarkPipelineNotModified(b *testing.B) {
	srv := newBenchServer(b)
	_, pollAll := benchPipeline(b, srv)
	for n := range benchFeeds {
		srv.set(n, benchDoc(n, 0), 0)
	}
	pollAll()
	var cpu time.Duration
	for b.Loop() {
		start := cpuTime()
		pollAll()
		cpu += cpuTime() - start
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*benchFeeds), "cpu-µs/poll")
}
