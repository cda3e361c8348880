package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newswatch/newswatch/config"
	"github.com/prometheus/client_golang/prometheus"
)

// growingFeeds serves feeds that gain an item every tick until stopped; every third item
// does not match the test topic.
type growingFeeds struct {
	mu      sync.Mutex
	items   map[string][]dated // by feed id
	hits    map[string]int
	servers []*httptest.Server
	ids     []string
	stop    chan struct{}
	done    chan struct{}
}

const chaosWindow = 60 // items in a feed document

func newGrowingFeeds(t *testing.T, servers, perServer int, every time.Duration) *growingFeeds {
	g := &growingFeeds{items: map[string][]dated{}, hits: map[string]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	for s := range servers {
		srv := httptest.NewServer(http.HandlerFunc(g.serve))
		t.Cleanup(srv.Close)
		g.servers = append(g.servers, srv)
		for f := range perServer {
			g.ids = append(g.ids, fmt.Sprintf("s%d-f%d", s, f))
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	go func() {
		defer close(g.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for n := 0; ; n++ {
			g.mu.Lock()
			for _, id := range g.ids {
				title := headline(rng)
				if n%3 == 2 {
					title = strings.Replace(title, "Kursk:", "Elsewhere:", 1)
				}
				g.items[id] = append(g.items[id], dated{title: title, link: fmt.Sprintf("https://example.org/%s/%d", id, n), desc: title + ".", at: time.Now()})
			}
			g.mu.Unlock()
			select {
			case <-g.stop:
				return
			case <-t.C:
			}
		}
	}()
	return g
}

func (g *growingFeeds) serve(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), ".xml")
	g.mu.Lock()
	items := g.items[id]
	g.hits[id]++
	items = slices.Clone(items[max(0, len(items)-chaosWindow):])
	g.mu.Unlock()
	slices.Reverse(items)
	w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
	_, _ = io.WriteString(w, rssAt(id, items...))
}

func (g *growingFeeds) halt() {
	close(g.stop)
	<-g.done
}

// published is every item link, and whether it matches the topic.
func (g *growingFeeds) published() map[string]bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := map[string]bool{}
	for _, items := range g.items {
		for _, it := range items {
			out[it.link] = strings.HasPrefix(it.title, "Kursk:")
		}
	}
	return out
}

func (g *growingFeeds) yaml() string {
	var b strings.Builder
	b.WriteString("feeds:\n")
	per := len(g.ids) / len(g.servers)
	for i, id := range g.ids {
		fmt.Fprintf(&b, "  - {id: %s, url: \"%s/%s.xml\", schedule: \"@every 3s\"}\n", id, g.servers[i/per].URL, id)
	}
	return b.String()
}

func chaosConfig(t *testing.T, natsURL, instance string, feeds *growingFeeds, hook *hookReceiver) *config.Config {
	t.Helper()
	y := fmt.Sprintf(`
data_dir: %s
nats: {url: "%s", replicas: 3}
http: {listen: "127.0.0.1:0"}
fetch: {allow_networks: ["127.0.0.1/32"], timeout: 5s}
log: {level: info}
cluster: {enabled: true, instance: %s}
%stopics:
  - {id: kursk, name: Kursk, query: 'Kursk'}
alerts:
  - {topic: kursk, kind: match, group_wait: 1s}
  - {topic: kursk, kind: spike}
  - {topic: kursk, kind: digest, schedule: "* * * * *", send_empty: true}
notify:
  - {name: hook, type: webhook, url: "%s/hook", secret: "%s", max_age: 1h}
`, t.TempDir(), natsURL, instance, feeds.yaml(), hook.srv.URL, hookSecret)
	cfg, err := config.Parse([]byte(y), "chaos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// member is one newswatch instance of the chaos test.
type member struct {
	name   string
	app    *App
	cancel context.CancelFunc
	done   chan error
}

func startMember(t testing.TB, cfg *config.Config) *member {
	t.Helper()
	var out io.Writer = io.Discard
	if dir := os.Getenv("NEWSWATCH_CHAOS_LOGS"); dir != "" {
		f, err := os.OpenFile(filepath.Join(dir, cfg.Cluster.Instance+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err == nil {
			t.Cleanup(func() { f.Close() })
			out = f
		}
	}
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo})).With("instance", cfg.Cluster.Instance)
	app, err := New(t.Context(), cfg, Deps{Logger: log, Registry: prometheus.NewRegistry(), Version: "test", MaxJitter: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	m := &member{name: cfg.Cluster.Instance, app: app, cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- app.Run(ctx) }()
	return m
}

// kill stops an instance like kill -9: its connection is cut first, so nothing is released
// or written after.
func (m *member) kill() {
	m.app.conn.NC.Close()
	m.cancel()
	<-m.done
	m.app.Close()
}

// stop is a graceful shutdown: roles are handed over at once.
func (m *member) stop() {
	m.cancel()
	<-m.done
	m.app.Close()
}

var chaosRoles = []string{roleMatcher, roleAlerts, roleSpikes, roleDigests, roleSnapshots, deliveryRole("hook")}

// holders names the live member holding each role ("" for none).
func holders(ms []*member) map[string]string {
	out := map[string]string{}
	for _, r := range chaosRoles {
		for _, m := range ms {
			if m.app.node.Holds(r) {
				out[r] = m.name
			}
		}
	}
	return out
}

// waitTakeover measures how long until every role has a holder among ms.
func waitTakeover(t *testing.T, ms []*member, since time.Time, what string) map[string]time.Duration {
	t.Helper()
	took := map[string]time.Duration{}
	deadline := since.Add(90 * time.Second)
	for len(took) < len(chaosRoles) {
		h := holders(ms)
		for _, r := range chaosRoles {
			if _, ok := took[r]; !ok && h[r] != "" {
				took[r] = time.Since(since)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: roles without a holder after 90s: have %v", what, h)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%s: roles held again after %v (holders %v)", what, took, holders(ms))
	return took
}
