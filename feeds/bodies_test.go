package feeds

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/feeds/fetch"
	"github.com/prometheus/client_golang/prometheus"
)

// reuseCounter counts the fetches that were given a kept body buffer to read into.
type reuseCounter struct {
	inner  Fetcher
	reused atomic.Int64
}

func (rc *reuseCounter) Fetch(ctx context.Context, req fetch.Request) (*fetch.Response, error) {
	if get := req.Buffer; get != nil {
		req.Buffer = func(n int64) []byte {
			b := get(n)
			if b != nil {
				rc.reused.Add(1)
			}
			return b
		}
	}
	return rc.inner.Fetch(ctx, req)
}

// TestBodyBuffersAreReused: the bodies of changed documents are read into the buffers of
// bodies already parsed, and no stored article shows another feed's bytes.
func TestBodyBuffersAreReused(t *testing.T) {
	c, store := testStore(t)
	fs := newFeedServer(t)
	const nFeeds = 8
	item := func(f, n int) string {
		return rssItem(f*1000+n, fmt.Sprintf("feed f%d item %d %s", f, n, strings.Repeat("x", 50*f)))
	}
	var feeds []Feed
	for f := range nFeeds {
		fs.set(fmt.Sprintf("/b%d.xml", f), rssDoc(item(f, 1)))
		feeds = append(feeds, Feed{ID: fmt.Sprintf("f%d", f), URL: fmt.Sprintf("%s/b%d.xml", fs.srv.URL, f), Schedule: "@every 1s"})
	}
	rc := &reuseCounter{inner: fetch.New(fetch.Config{AllowPrivateNetworks: true})}
	p := newTestPoller(t, store, prometheus.NewRegistry(), feeds, Options{Fetcher: rc, Workers: 1, FetchConcurrency: 2})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	stored := func() uint64 {
		info, err := c.StreamInfo(t.Context(), events.ArticleStream)
		if err != nil {
			t.Fatal(err)
		}
		return info.Msgs / 2 // each article has its marker
	}
	waitFor(t, func() bool { return stored() == nFeeds })
	for f := range nFeeds { // every document changes: one more item
		fs.set(fmt.Sprintf("/b%d.xml", f), rssDoc(item(f, 2), item(f, 1)))
	}
	waitFor(t, func() bool { return stored() == 2*nFeeds })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if rc.reused.Load() == 0 {
		t.Error("no fetch read into a kept body buffer")
	}
	// What a feed's next fetch prepays is its own body's size, not that of the (other
	// feed's, larger or smaller) buffer it was read into.
	for f := range nFeeds {
		want := int64(len(rssDoc(item(f, 2), item(f, 1)))) + 1
		if got := p.feeds[fmt.Sprintf("f%d", f)].state.bodySize; got != want {
			t.Errorf("feed f%d: body size %d, want %d", f, got, want)
		}
	}
	err := c.Read(t.Context(), events.ArticleStream, []string{events.ArticleSubjectPrefix + "*"}, 0, func(data []byte, _ uint64) error {
		a, err := events.ParseArticle(data)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(a.Title, "feed "+a.FeedID+" item ") {
			t.Errorf("article of feed %s is titled %q", a.FeedID, a.Title)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
