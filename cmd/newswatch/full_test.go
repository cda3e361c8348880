package main

import (
	"fmt"
	"io"
	"net/http"
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
	fs.set("/wire.xml", rss("Wire"))
	fs.set("/paper.xml", rss("Paper"))
	fs.set("/blog.xml", rss("Blog"))
	dataDir := t.TempDir()
	cfg := testConfig(t, dataDir, fs.srv.URL, "")
	cfg.NATS.MaxStore = 64 << 10 // room for a few articles, not for 60
	r := startApp(t, cfg)
	// Every feed's first poll is recorded while there is room; then wire publishes 60 long
	// items, more than the store holds.
	r.waitPolled(t, 1, "wire", "paper", "blog")
	fs.set("/wire.xml", rss("Wire", items...))
	for attempt := range 2 { // the first fills the store, the retry finds it full
		start := time.Now()
		p, err := r.app.poller.PollNow(t.Context(), "wire")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("poll %d into the full store: %q after %v", attempt+1, p.Error, time.Since(start))
		// Said in the store's terms, not as an abandoned batch or a timeout.
		if !strings.Contains(p.Error, "append") || !strings.Contains(p.Error, "event store full (") {
			t.Fatalf("poll into a full store: %+v", p)
		}
	}
	// Nothing can be stored: not ready, and saying why.
	if code, body := readyz(t, r); code != 503 || !strings.Contains(body, "writes fail: event store full") {
		t.Errorf("/readyz with a full store = %d %s", code, body)
	}
	if n := r.metric(t, "newswatch_feed_store_errors_total", nil); n < 2 {
		t.Errorf("newswatch_feed_store_errors_total = %v, want ≥ 2 (wire's two polls)", n)
	}
	// The server applies a committed batch message by message; when the store fills up midway
	// some articles may be stored. Each is stored with its id marker, so none is lost or
	// repeated.
	t.Logf("%d of 60 articles stored before the store filled up", len(r.articles(t)))
	r.stop()

	// More room: the poll at start (the feed is unchanged since the failed polls, so their
	// validators must not have been kept) stores the rest, exactly once each.
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
	deadline := time.Now().Add(30 * time.Second)
	for code, body := readyz(t, r); code != 200; code, body = readyz(t, r) {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz after making room = %d %s", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func readyz(t *testing.T, r *running) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + r.app.HTTPAddr() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
