package main

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/feeds"
	"github.com/newswatch/newswatch/projections/feedhealth"
)

// callMember sends a JSON request to a member's API and returns the status.
func callMember(t *testing.T, m *member, method, path string, body any) int {
	t.Helper()
	return callAPI(t, m.app.HTTPAddr(), method, path, body, nil)
}

// polledFeed is a feed of a member's polled set, if it is there.
func polledFeed(m *member, id string) (feeds.Feed, bool) { return polledFeedOf(m.app, id) }

// listedFeed is a feed as a member's GET /api/v1/feeds lists it.
func listedFeed(t *testing.T, m *member, id string) (feedhealth.Feed, bool) {
	t.Helper()
	var list []feedhealth.Feed
	getJSON(t, "http://"+m.app.HTTPAddr()+"/api/v1/feeds", &list)
	i := slices.IndexFunc(list, func(f feedhealth.Feed) bool { return f.ID == id })
	if i < 0 {
		return feedhealth.Feed{}, false
	}
	return list[i], true
}

// A runtime feed added, paused, changed and removed through one instance's API is followed by
// the other instance's polled set, feed list and tags within seconds, without a restart or
// SIGHUP, in both directions.
func TestClusterRuntimeFeedsFollow(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	nc := startNATSCluster(t)
	grow := newGrowingFeeds(t, 1, 1, time.Hour)
	defer grow.halt()
	hook := newHookReceiver(t)
	fs := newFeedServer(t)
	fs.set("/extra.xml", rss("Extra", item{"Extra story", "https://extra.example/1", "Words."}))
	cfg := func(name string) *config.Config { return chaosConfig(t, nc.URL(), name, grow, hook) }
	a, b := startMember(t, cfg("a")), startMember(t, cfg("b"))
	defer b.stop()
	defer a.stop()
	waitTakeover(t, []*member{a, b}, time.Now(), "start")

	const bound = 30 * time.Second
	follow := func(what string, cond func() bool) {
		t.Helper()
		start := time.Now()
		waitUntil(t, what, bound, cond)
		t.Logf("%s: followed after %v", what, time.Since(start).Round(time.Millisecond))
	}

	body := map[string]any{"id": "extra", "url": fs.srv.URL + "/extra.xml", "schedule": "@every 1h", "tags": []string{"world"}}
	if code := callMember(t, a, http.MethodPost, "/api/v1/feeds", body); code != http.StatusCreated {
		t.Fatalf("add through a: %d", code)
	}
	follow("b polls the feed added through a", func() bool {
		f, ok := polledFeed(b, "extra")
		return ok && f.URL == fs.srv.URL+"/extra.xml" && !f.Paused && slices.Equal(b.app.feedTags("extra"), []string{"world"})
	})
	if f, ok := listedFeed(t, b, "extra"); !ok || f.Origin != "runtime" {
		t.Errorf("b lists %+v (%v), want a runtime feed", f, ok)
	}

	if code := callMember(t, a, http.MethodPost, "/api/v1/feeds/extra/pause", map[string]any{}); code != http.StatusOK {
		t.Fatalf("pause through a: %d", code)
	}
	follow("b pauses the feed paused through a", func() bool {
		f, ok := polledFeed(b, "extra")
		return ok && f.Paused
	})
	if f, ok := listedFeed(t, b, "extra"); !ok || !f.Paused {
		t.Errorf("b lists %+v (%v), want it paused", f, ok)
	}

	// The other way round: changes through b reach a.
	if code := callMember(t, b, http.MethodPatch, "/api/v1/feeds/extra", map[string]any{"tags": []string{"asia"}}); code != http.StatusOK {
		t.Fatalf("retag through b: %d", code)
	}
	follow("a takes the tags set through b", func() bool { return slices.Equal(a.app.feedTags("extra"), []string{"asia"}) })
	if f, ok := polledFeed(a, "extra"); !ok || !f.Paused {
		t.Errorf("a polls %+v (%v) after the retag, want it still paused", f, ok)
	}
	if code := callMember(t, b, http.MethodDelete, "/api/v1/feeds/extra", nil); code != http.StatusNoContent {
		t.Fatalf("remove through b: %d", code)
	}
	follow("a drops the feed removed through b", func() bool {
		_, ok := polledFeed(a, "extra")
		return !ok && a.app.feedTags("extra") == nil
	})

	// Changes through both instances at once: neither is lost (the later write finds the
	// document changed, takes it and makes its change again on it).
	for i := range 3 {
		codes := make(chan int, 2)
		for _, m := range []*member{a, b} {
			id := fmt.Sprintf("race-%s-%d", m.name, i)
			fs.set("/"+id+".xml", rss(id, item{"Story", "https://extra.example/" + id, "Words."}))
			go func() {
				codes <- callMember(t, m, http.MethodPost, "/api/v1/feeds", map[string]any{"id": id, "url": fs.srv.URL + "/" + id + ".xml", "schedule": "@every 1h"})
			}()
		}
		for range 2 {
			if code := <-codes; code != http.StatusCreated {
				t.Fatalf("concurrent adds, round %d: %d", i, code)
			}
		}
	}
	follow("both instances poll all six feeds added at once", func() bool {
		for _, m := range []*member{a, b} {
			for i := range 3 {
				for _, by := range []string{"a", "b"} {
					if _, ok := polledFeed(m, fmt.Sprintf("race-%s-%d", by, i)); !ok {
						return false
					}
				}
			}
		}
		return true
	})
	// The runtime feeds are shared out like the file's: the instances' shares add up to all.
	follow("the feeds owned add up to the polled set", func() bool {
		return gaugeValue(t, a, "newswatch_cluster_feeds_owned")+gaugeValue(t, b, "newswatch_cluster_feeds_owned") == float64(len(a.app.poller.Feeds()))
	})

	for _, m := range []*member{a, b} {
		if n := metricValue(t, m, "newswatch_state_follow_errors_total", "feeds.runtime"); n != 0 {
			t.Errorf("%s: %v follow errors", m.name, n)
		}
	}
}

// gaugeValue is an unlabelled gauge of a member's registry.
func gaugeValue(t *testing.T, m *member, name string) float64 {
	t.Helper()
	mfs, err := m.app.deps.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("%s: no %s", m.name, name)
	return 0
}

// metricValue is a counter of a member's registry with the label key=value.
func metricValue(t *testing.T, m *member, name, key string) float64 {
	t.Helper()
	mfs, err := m.app.deps.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, s := range mf.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "key" && l.GetValue() == key {
					return s.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("%s: no %s{key=%q}", m.name, name, key)
	return 0
}

// A stored runtime document that does not decode is skipped, keeping the feeds polled, until a
// newer one comes; its own write is not applied twice by the writer.
func TestSyncSourcesSkipsBadDocument(t *testing.T) {
	fs := newFeedServer(t)
	for _, p := range []string{"/wire.xml", "/paper.xml", "/blog.xml", "/extra.xml"} {
		fs.set(p, rss(p, item{"Story " + p, "https://news.example.com" + p, "Text."}))
	}
	r := startApp(t, testConfig(t, t.TempDir(), fs.srv.URL, ""))
	ctx := t.Context()
	if code := r.call(t, http.MethodPost, "/api/v1/feeds", map[string]any{"id": "extra", "url": fs.srv.URL + "/extra.xml"}, nil); code != http.StatusCreated {
		t.Fatalf("add: %d", code)
	}
	// The writer holds its own revision: following it changes nothing.
	held := r.app.sources.rev
	if err := r.app.syncSources(ctx); err != nil || r.app.sources.rev != held {
		t.Fatalf("sync of its own write: %v, revision %d → %d", err, held, r.app.sources.rev)
	}
	if err := r.app.conn.PutState(ctx, runtimeFeedsKey, []byte(`{"feeds": [`)); err != nil {
		t.Fatal(err)
	}
	if err := r.app.syncSources(ctx); err == nil {
		t.Fatal("a document that does not decode was applied")
	}
	if _, ok := polledFeedOf(r.app, "extra"); !ok {
		t.Fatal("the runtime feed was dropped for a bad document")
	}
	if err := r.app.syncSources(ctx); err != nil {
		t.Fatalf("the same bad version again: %v, want it skipped", err)
	}
	if err := r.app.conn.PutState(ctx, runtimeFeedsKey, []byte(`{"feeds": [], "paused": ["wire"]}`)); err != nil {
		t.Fatal(err)
	}
	if err := r.app.syncSources(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := polledFeedOf(r.app, "extra"); ok {
		t.Error("a newer good document without the feed was not applied")
	}
	if f, ok := polledFeedOf(r.app, "wire"); !ok || !f.Paused {
		t.Errorf("wire = %+v (%v), want it paused by the newer document", f, ok)
	}
}

func polledFeedOf(a *App, id string) (feeds.Feed, bool) {
	set := a.poller.Feeds()
	i := slices.IndexFunc(set, func(f feeds.Feed) bool { return f.ID == id })
	if i < 0 {
		return feeds.Feed{}, false
	}
	return set[i], true
}
