package feeds

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/newswatch/newswatch/events"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestPollsWaitForTheStoresCachesWhileShortOfMemory: from the first commit that stores
// articles on, the live heap reads above MaxLiveHeap (as if the server's caches of the blocks
// written stayed), so the next polls wait at the gate; the pipeline still goes on (the heap
// stays high with nothing in flight, so it is the floor) and stores every feed, and the waits
// are counted. (The gate's decisions, step by step: TestMemoryGate.)
func TestPollsWaitForTheStoresCachesWhileShortOfMemory(t *testing.T) {
	c, store := testStore(t)
	var docs = map[string][]byte{}
	var stored atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// With one fetcher, the feed after the first is fetched only once the first is
		// stored, so the polls after it are admitted after a commit.
		for deadline := time.Now().Add(30 * time.Second); r.URL.Path != "/0.xml" && !stored.Load() && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		_, _ = w.Write(docs[r.URL.Path])
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
	var p *Poller
	p = newTestPoller(t, store, reg, feeds, Options{
		FetchConcurrency: 1, MaxLiveHeap: 100 << 20,
		// Called by the gate with its lock held: lastWrite is read under it.
		LiveHeap: func() int64 {
			if p.gate.lastWrite.IsZero() {
				return 50 << 20
			}
			return 150 << 20
		},
		OnArticles: func([]events.Article) { stored.Store(true) },
	})
	p.gate.settle = 2 * time.Second
	runUntilPolled(t, p, c, len(feeds))
	for _, f := range feeds {
		if last, err := store.LastPoll(t.Context(), f.ID); err != nil || last == nil || last.New != 5 {
			t.Errorf("%s: last poll %+v, %v; want 5 new", f.ID, last, err)
		}
	}
	// With one fetcher, one poll at a time asks the gate: the one after the first commit
	// waits (two if the first commit beat the second poll's admission); once the floor is
	// found the rest start without waiting.
	if waits := testutil.ToFloat64(p.pm.heapWaits); waits < 1 || waits > 2 {
		t.Errorf("newswatch_ingest_memory_waits_total = %v, want 1 or 2", waits)
	}
}

// TestMemoryGate steps the gate through its states on a fake heap and clock.
func TestMemoryGate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const mib = 1 << 20
		var live int64 = 50 * mib
		var cycles uint64 = 1
		collections := 0
		g := newMemoryGate(100*mib, nil)
		g.heap = func() (int64, uint64) { return live, cycles }
		g.collect = func() { collections++; cycles++ }
		check := func(step string, idle, want bool) {
			t.Helper()
			if got := g.Closed(idle); got != want {
				t.Errorf("%s: Closed(idle=%v) = %v, want %v (live %d MiB)", step, idle, got, want, live/mib)
			}
		}
		check("below the bound", false, false)

		// A commit, and the heap above the bound: held while polls are in flight, and even
		// with none until the write is cacheSettle old.
		g.wrote()
		live = 150 * mib
		check("short, polls in flight", false, true)
		check("short, idle, just written", true, true)
		// Held polls refresh: no collection before the last one is staleHeap old, then one.
		time.Sleep(staleHeap / 2)
		g.refresh()
		if collections != 0 {
			t.Errorf("%d collections half a staleHeap after the last, want 0", collections)
		}
		time.Sleep(staleHeap / 2)
		g.refresh()
		if collections != 1 {
			t.Errorf("%d collections after staleHeap, want 1", collections)
		}
		// The caches expire: below the bound, open at once.
		live = 90 * mib
		check("the caches expired", false, false)

		// Above the bound with nothing recent to blame: settled, idle and a collection since.
		g.wrote()
		live = 150 * mib
		time.Sleep(cacheSettle + time.Second)
		check("settled, but no collection since", true, true)
		g.refresh() // the last collection is older than staleHeap: one now
		check("settled, measured, polls in flight", false, true)
		check("settled, measured, idle", true, false)
		// 150 MiB is the floor now: polls run beside each other up to an eighth of the
		// bound above it.
		check("at the floor", false, false)
		live = 150*mib + 100*mib/floorSlack
		check("at the floor's slack", false, false)
		live++
		check("past the floor's slack", false, true)
		// Below the bound the floor is forgotten: a write closes the gate again.
		live = 90 * mib
		check("below the bound again", false, false)
		g.wrote()
		live = 150 * mib
		check("short again after a write", false, true)
	})
}
