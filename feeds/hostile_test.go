package feeds

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/feeds/fetch"
	"github.com/prometheus/client_golang/prometheus"
)

// hostileDocs are the three shapes of issue 13.6, each close to the 10 MiB body limit.
func hostileDocs() [][]byte {
	var many strings.Builder
	many.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>many</title>`)
	for i := 0; many.Len() < 10<<20-200; i++ {
		fmt.Fprintf(&many, `<item><guid>g%d</guid></item>`, i) // 100k+ items
	}
	many.WriteString(`</channel></rss>`)
	title := rssDoc(rssItem(-1, "one"), rssItem(-2, strings.Repeat("t", 9<<20)), rssItem(-3, "three"))
	page := []byte("<html><body>" + strings.Repeat("<p>not a feed</p>", (10<<20-100)/17) + "</body></html>")
	return [][]byte{[]byte(many.String()), title, page}
}

// TestHostileFeedsStayUnderTheCeiling is issue 13.6: 40 hostile feeds on 40 hosts (fewer under -race) beside
// normal ones, all due at once. The budget's own accounting must never pass the documented
// ceiling, ingest.max_bytes_in_flight + 3 × fetch.max_body_bytes, and the normal feeds are
// stored all the same.
func TestHostileFeedsStayUnderTheCeiling(t *testing.T) {
	c, store := testStore(t)
	docs := hostileDocs()
	var feeds []Feed
	for i := range hostileFeeds {
		doc := docs[i%len(docs)]
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write(doc)
		}))
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", 2+i)) // a host of its own
		if err != nil {
			t.Skipf("no loopback address 127.0.0.%d: %v", 2+i, err)
		}
		srv.Listener = ln
		srv.Start()
		t.Cleanup(srv.Close)
		feeds = append(feeds, Feed{ID: fmt.Sprintf("hostile%d", i), URL: srv.URL + "/feed.xml", Schedule: "@every 1h"})
	}
	fs := newFeedServer(t)
	for f := range 20 {
		var items []string
		for i := range 20 {
			items = append(items, rssItem(f*100+i, fmt.Sprintf("Story %d", f*100+i)))
		}
		fs.set(fmt.Sprintf("/n%d.xml", f), rssDoc(items...))
		feeds = append(feeds, Feed{ID: fmt.Sprintf("normal%d", f), URL: fmt.Sprintf("%s/n%d.xml", fs.srv.URL, f), Schedule: "@every 1h"})
	}
	const limit = 16 << 20
	p := newTestPoller(t, store, prometheus.NewRegistry(), feeds, Options{
		MaxBytesInFlight: limit, FetchConcurrency: 32, Workers: 2,
		Fetcher: fetch.New(fetch.Config{AllowPrivateNetworks: true, PerHostConcurrency: 2}),
	})
	runUntilPolled(t, p, c, len(feeds))
	ceiling := int64(limit + 3*fetch.DefaultMaxBodyBytes)
	peak := p.budget.Peak()
	t.Logf("peak bytes in flight %.1f MiB, ceiling %.1f MiB", float64(peak)/(1<<20), float64(ceiling)/(1<<20))
	if peak > ceiling || peak < 10<<20 {
		t.Errorf("peak bytes in flight = %d, want at least one 10 MiB body and at most the ceiling %d", peak, ceiling)
	}
	for i := range hostileFeeds {
		if last, _ := store.LastPoll(t.Context(), fmt.Sprintf("hostile%d", i)); last != nil {
			t.Logf("hostile%d: %s after %s, %d new: %.80s", i, last.Result, last.FinishedAt.Sub(last.StartedAt), last.New, last.Error)
		}
	}
	for f := range 20 {
		last, err := store.LastPoll(t.Context(), fmt.Sprintf("normal%d", f))
		if err != nil || last == nil || last.Result != events.ResultOK || last.New != 20 {
			t.Errorf("normal%d: last poll %+v, %v; want ok with 20 new", f, last, err)
		}
	}
}
