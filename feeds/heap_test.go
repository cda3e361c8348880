package feeds

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestPollsStartOneAtATimeWhileShortOfMemory: with the live heap above MaxLiveHeap, the
// feeds' server never sees two requests at once (a poll starts only when no other holds
// bytes), every feed is stored all the same, and the waits are counted.
func TestPollsStartOneAtATimeWhileShortOfMemory(t *testing.T) {
	c, store := testStore(t)
	var mu sync.Mutex
	var docs = map[string][]byte{}
	inFlight, most := 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		doc := docs[r.URL.Path]
		mu.Unlock()
		time.Sleep(20 * time.Millisecond) // long enough for the other fetchers to try
		_, _ = w.Write(doc)
		mu.Lock()
		inFlight--
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	var feeds []Feed
	for f := range 10 {
		var items []string
		for i := range 5 {
			items = append(items, rssItem(f*100+i, fmt.Sprintf("Story %d", f*100+i)))
		}
		docs[fmt.Sprintf("/%d.xml", f)] = rssDoc(items...)
		feeds = append(feeds, Feed{ID: fmt.Sprintf("f%d", f), URL: fmt.Sprintf("%s/%d.xml", srv.URL, f), Schedule: "@every 1h"})
	}
	reg := prometheus.NewRegistry()
	p := newTestPoller(t, store, reg, feeds, Options{
		FetchConcurrency: 16, MaxLiveHeap: 100 << 20,
		LiveHeap: func() int64 { return 101 << 20 },
	})
	runUntilPolled(t, p, c, len(feeds))
	for _, f := range feeds {
		if last, err := store.LastPoll(t.Context(), f.ID); err != nil || last == nil || last.New != 5 {
			t.Errorf("%s: last poll %+v, %v; want 5 new", f.ID, last, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if most != 1 {
		t.Errorf("the server saw %d requests at once while short of memory, want 1", most)
	}
	if waits := testutil.ToFloat64(p.pm.heapWaits); waits == 0 {
		t.Error("newswatch_ingest_memory_waits_total = 0, want the waits counted")
	}
}
