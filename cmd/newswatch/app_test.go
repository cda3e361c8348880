package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/projections/feedhealth"
	"github.com/prometheus/client_golang/prometheus"
)

// feedServer serves RSS documents that a test can change, with ETag support unless disabled.
type feedServer struct {
	mu     sync.Mutex
	docs   map[string]string
	noETag map[string]bool
	hits   map[string]int
	srv    *httptest.Server
}

func newFeedServer(t testing.TB) *feedServer {
	fs := &feedServer{docs: map[string]string{}, noETag: map[string]bool{}, hits: map[string]int{}}
	fs.srv = httptest.NewServer(http.HandlerFunc(fs.serve))
	t.Cleanup(fs.srv.Close)
	return fs
}

func (fs *feedServer) set(path, doc string) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.docs[path] = doc
}

func (fs *feedServer) serve(w http.ResponseWriter, r *http.Request) {
	fs.mu.Lock()
	doc, ok := fs.docs[r.URL.Path]
	noETag := fs.noETag[r.URL.Path]
	fs.hits[r.URL.Path]++
	fs.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	sum := sha256.Sum256([]byte(doc))
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	if !noETag {
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
	}
	w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
	io.WriteString(w, doc)
}

type item struct{ title, link, desc string }

func rss(title string, items ...item) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>%s</title><link>https://example.org/</link>`, title)
	for _, it := range items {
		fmt.Fprintf(&b, `<item><title>%s</title><link>%s</link><description>%s</description><pubDate>Tue, 24 Nov 2026 10:00:00 GMT</pubDate></item>`,
			it.title, strings.ReplaceAll(it.link, "&", "&amp;"), it.desc)
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

// testYAML is a config with three feeds served from base, polled hourly (tests poll them
// with PollNow), and the embedded NATS listening on natsAddr ("" for in-process only).
func testYAML(dataDir, base, natsAddr, extra string) string {
	return fmt.Sprintf(`
data_dir: %s
nats: {listen: "%s"}
http: {listen: "127.0.0.1:0"}
fetch: {allow_networks: ["127.0.0.1/32"], timeout: 5s}
log: {level: warn}
feeds:
  - {id: wire, url: "%s/wire.xml", schedule: "@every 1h"}
  - {id: paper, url: "%s/paper.xml", schedule: "@every 1h"}
  - {id: blog, url: "%s/blog.xml", schedule: "@every 1h"}
%s`, dataDir, natsAddr, base, base, base, extra)
}

func testConfig(t testing.TB, dataDir, base string, extra string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(testYAML(dataDir, base, "", extra)), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// running is an App started by startApp.
type running struct {
	app    *App
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan error
}

func startApp(t testing.TB, cfg *config.Config) *running {
	t.Helper()
	if cfg.NATS.URL == "" && strings.HasSuffix(cfg.NATS.Listen, ":4222") {
		// The default port fails whenever anything else on the machine (a daemon, another test
		// binary) holds it.
		t.Fatalf("test config listens for NATS clients on %s: set nats: {listen: \"\"}", cfg.NATS.Listen)
	}
	reg := prometheus.NewRegistry()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	app, err := New(t.Context(), cfg, Deps{Logger: log, Registry: reg, Version: "test", MaxJitter: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	r := &running{app: app, reg: reg, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- app.Run(ctx) }()
	t.Cleanup(r.stop)
	return r
}

func (r *running) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	<-r.done
	r.app.Close()
	r.cancel = nil
}

// waitPolled waits until every listed feed has at least n polls in the health projection.
func (r *running) waitPolled(t *testing.T, n int64, ids ...string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok := true
		for _, id := range ids {
			if f, found := r.app.health.Get(id); !found || f.Polls < n {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("feeds %v not polled %d times in time: %+v", ids, n, feedLister{r.app}.List())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *running) articles(t *testing.T) []events.Article {
	t.Helper()
	var out []events.Article
	err := r.app.conn.Read(t.Context(), events.ArticleStream, []string{events.ArticleSubjectPrefix + "*"}, 0,
		func(data []byte, _ uint64) error {
			a, err := events.ParseArticle(data)
			out = append(out, a)
			return err
		})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// metric sums the samples of a family whose labels include want.
func (r *running) metric(t *testing.T, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for k, v := range want {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == k && lp.GetValue() == v {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

func pollNow(t *testing.T, r *running, id, want string) events.Poll {
	t.Helper()
	p, err := r.app.poller.PollNow(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Result != want {
		t.Fatalf("poll %s = %s (%s), want %s", id, p.Result, p.Error, want)
	}
	return p
}

func TestIngestEndToEnd(t *testing.T) {
	fs := newFeedServer(t)
	story := item{"Pyongyang sends troops", "https://news.example.com/world/dprk-troops", "Troops were sent."}
	fs.set("/wire.xml", rss("Wire", story,
		item{"Second story", "https://news.example.com/world/second", "Two."},
		item{"Third story", "https://news.example.com/world/third", "Three."}))
	// The paper syndicates the wire story under a tracking-parameter URL.
	fs.set("/paper.xml", rss("Paper",
		item{"Pyongyang sends troops", "https://NEWS.example.com:443/world/dprk-troops?utm_source=rss&utm_medium=feed#top", "Troops were sent."},
		item{"Paper exclusive", "https://paper.example.net/exclusive", "Own reporting."}))
	fs.set("/blog.xml", rss("Blog", item{"Blog post", "https://blog.example.org/post-1", "Thoughts."}))
	fs.noETag["/blog.xml"] = true // always 200: a restart must still publish nothing new

	dataDir := t.TempDir()
	extra := `  - {id: metadata, url: "http://169.254.169.254/latest/meta-data/", schedule: "@every 1h"}`
	cfg := testConfig(t, dataDir, fs.srv.URL, extra)
	r := startApp(t, cfg)
	r.waitPolled(t, 1, "wire", "paper", "blog", "metadata")

	arts := r.articles(t)
	if len(arts) != 5 {
		t.Fatalf("stream holds %d articles after first cycle, want 5: %+v", len(arts), arts)
	}
	seen := map[string]bool{}
	for _, a := range arts {
		if seen[a.ID] {
			t.Fatalf("article %s (%s) published twice", a.ID, a.URL)
		}
		seen[a.ID] = true
	}
	if got := r.metric(t, "newswatch_articles_published_total", nil); got != 5 {
		t.Errorf("articles_published_total = %v, want 5", got)
	}
	// wire and paper are polled concurrently: either may carry the shared story first.
	if got := r.metric(t, "newswatch_articles_duplicate_total", nil); got != 1 {
		t.Errorf("articles_duplicate_total = %v, want 1", got)
	}
	// Only metadata is refused: the aggregate counts its one poll.
	if got := r.metric(t, "newswatch_feed_polls_total", map[string]string{"result": "refused"}); got != 1 {
		t.Errorf("polls_total{refused} = %v, want 1", got)
	}
	if h, _ := r.app.health.Get("metadata"); h.LastStatus != "refused" || h.ConsecutiveFailures != 1 {
		t.Errorf("metadata health = %+v", h)
	}

	// Second cycle: unchanged feeds are not_modified.
	pollNow(t, r, "wire", events.ResultNotModified)
	pollNow(t, r, "paper", events.ResultNotModified)
	pollNow(t, r, "blog", events.ResultOK)
	if got := len(r.articles(t)); got != 5 {
		t.Fatalf("stream holds %d articles after second cycle, want 5", got)
	}

	// API: feeds with health.
	var feeds []feedhealth.Feed
	getJSON(t, "http://"+r.app.HTTPAddr()+"/api/v1/feeds", &feeds)
	if len(feeds) != 4 || feeds[0].ID != "wire" || feeds[0].ArticlesTotal+feeds[1].ArticlesTotal != 4 ||
		feeds[0].LastStatus != "not_modified" || feeds[3].LastStatus != "refused" {
		t.Errorf("GET /api/v1/feeds = %+v", feeds)
	}
	r.stop()

	// Restart on the same data: nothing new, and the conditional requests survive.
	r = startApp(t, cfg)
	r.waitPolled(t, 3, "wire", "paper", "blog")
	if got := len(r.articles(t)); got != 5 {
		t.Fatalf("stream holds %d articles after restart, want 5", got)
	}
	if h, _ := r.app.health.Get("wire"); h.LastStatus != "not_modified" {
		t.Errorf("after restart wire's last poll = %q, want not_modified (its validators survived)", h.LastStatus)
	}
	if got := r.metric(t, "newswatch_feed_polls_total", map[string]string{"result": "not_modified"}); got < 1 {
		t.Errorf("after restart polls not_modified = %v, want ≥ 1", got)
	}
	if got := r.metric(t, "newswatch_articles_published_total", nil); got != 0 {
		t.Errorf("after restart articles published = %v, want 0", got)
	}
	if got := r.metric(t, "newswatch_articles_duplicate_total", nil); got < 1 {
		t.Errorf("after restart duplicates = %v, want ≥ 1 (blog's item, known)", got)
	}

	// A changed feed adds exactly its new items.
	fs.set("/wire.xml", rss("Wire", item{"Fresh story", "https://news.example.com/world/fresh", "New."}, story))
	p := pollNow(t, r, "wire", events.ResultOK)
	if p.New != 1 || p.Duplicates != 1 {
		t.Errorf("changed feed poll: new %d, duplicates %d; want 1, 1", p.New, p.Duplicates)
	}
	if got := len(r.articles(t)); got != 6 {
		t.Fatalf("stream holds %d articles after change, want 6", got)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// A component that cannot start (here the API's port is taken) fails New with a clear error,
// and what New had acquired (the embedded server, the data_dir lock) is released.
func TestNewFailsCleanly(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dataDir := t.TempDir()
	cfg := testConfig(t, dataDir, "http://127.0.0.1:1", "")
	cfg.HTTP.Listen = busy.Addr().String()
	deps := Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry(), Version: "test"}
	if _, err := New(t.Context(), cfg, deps); err == nil || !strings.Contains(err.Error(), "http.listen") {
		t.Fatalf("New with a taken port: %v", err)
	}
	cfg.HTTP.Listen = "127.0.0.1:0"
	deps.Registry = prometheus.NewRegistry()
	a, err := New(t.Context(), cfg, deps)
	if err != nil {
		t.Fatalf("New after a failed New on the same data_dir: %v", err)
	}
	a.Close()
}
