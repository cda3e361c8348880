package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// A full event store gives a clear error, a metric and retries; nothing is half-written, and
// once there is room again the retried poll stores everything.
func TestFullStoreLosesNothing(t *testing.T) {
	fs := newFeedServer(t)
	var items []item
	body := strings.Repeat("A long paragraph of news text to fill the store quickly. ", 40)
	for i := range 60 {
		items = append(items, item{fmt.Sprintf("Story number %d", i), fmt.Sprintf("https://news.example.com/s%d", i), body})
	}
	fs.set("/wire.xml", rss("Wire", items...))
	fs.set("/paper.xml", rss("Paper"))
	fs.set("/blog.xml", rss("Blog"))
	dataDir := t.TempDir()
	cfg := testConfig(t, dataDir, fs.srv.URL, "")
	cfg.NATS.MaxStore = 64 << 10 // room for a few articles, not for 60
	r := startApp(t, cfg)
	r.waitPolled(t, 1, "paper", "blog")
	// The first poll of wire (at start) fails to store; wait for it, then retry by hand.
	deadline := time.Now().Add(30 * time.Second)
	for r.metric(t, "newswatch_feed_store_errors_total", map[string]string{"feed": "wire"}) < 1 {
		if time.Now().After(deadline) {
			t.Fatal("no store error counted for a poll into a full store")
		}
		time.Sleep(50 * time.Millisecond)
	}
	start := time.Now()
	p, err := r.app.poller.PollNow(t.Context(), "wire")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("retry into the full store: %q after %v", p.Error, time.Since(start))
	if p.Error == "" || !strings.Contains(p.Error, "append") {
		t.Fatalf("poll into a full store: %+v", p)
	}
	// The server applies a committed batch message by message; when the store fills up midway
	// some articles may be stored. Each is stored with its id marker, so none is lost or
	// repeated.
	t.Logf("%d of 60 articles stored before the store filled up", len(r.articles(t)))
	r.stop()

	// More room: the poll at start (the feed is unchanged, so the validators must not have
	// been advanced by the failed polls) stores the rest, exactly once each.
	cfg.NATS.MaxStore = 0
	r = startApp(t, cfg)
	r.waitPolled(t, 1, "wire")
	arts := r.articles(t)
	seen := map[string]bool{}
	for _, a := range arts {
		if seen[a.ID] {
			t.Errorf("article %s stored twice", a.URL)
		}
		seen[a.ID] = true
	}
	if len(seen) != 60 {
		t.Errorf("after making room: %d distinct articles of 60", len(seen))
	}
}
