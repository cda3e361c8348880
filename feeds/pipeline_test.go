package feeds

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/feeds/fetch"
	"github.com/newswatch/newswatch/feeds/normalize"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testStore starts an embedded JetStream in a temporary directory.
func testStore(t testing.TB) (*events.Conn, *events.Store) {
	t.Helper()
	c, err := events.Connect(context.Background(), events.ConnConfig{DataDir: t.TempDir()}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := c.EnsureStreams(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c, events.NewStore(c)
}

// feedServer serves documents by path; a path's document can be replaced while it runs.
type feedServer struct {
	mu   sync.Mutex
	docs map[string][]byte
	srv  *httptest.Server
}

func newFeedServer(t testing.TB) *feedServer {
	fs := &feedServer{docs: map[string][]byte{}}
	fs.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.mu.Lock()
		doc, ok := fs.docs[r.URL.Path]
		fs.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		_, _ = w.Write(doc)
	}))
	t.Cleanup(fs.srv.Close)
	return fs
}

func (fs *feedServer) set(path string, doc []byte) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.docs[path] = doc
}

// rssDoc is an RSS document whose items are given as XML.
func rssDoc(items ...string) []byte {
	return []byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://example.org/</link>` +
		strings.Join(items, "") + `</channel></rss>`)
}

func rssItem(n int, title string) string {
	return fmt.Sprintf(`<item><title>%s</title><link>https://example.org/a/%d</link><description>Text of story %d.</description></item>`, title, n, n)
}

func newTestPoller(t testing.TB, store Store, reg prometheus.Registerer, feeds []Feed, o Options) *Poller {
	t.Helper()
	o.Feeds, o.Store, o.Registerer, o.Logger = feeds, store, reg, quietLog()
	if o.Fetcher == nil {
		o.Fetcher = fetch.New(fetch.Config{AllowPrivateNetworks: true})
	}
	o.MaxJitter = -1
	p, err := NewPoller(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestOversizeItemDoesNotBlockItsFeed is issue 13.5: a feed of three normal items and one
// with a 9 MB title used to store nothing, ever, and record no poll. The three are stored,
// the big one cut to the caps, and the poll says so.
func TestOversizeItemDoesNotBlockItsFeed(t *testing.T) {
	c, store := testStore(t)
	fs := newFeedServer(t)
	huge := strings.Repeat("x", 9<<20)
	fs.set("/poison.xml", rssDoc(rssItem(1, "one"), rssItem(2, "two"), rssItem(3, huge), rssItem(4, "four")))
	reg := prometheus.NewRegistry()
	p := newTestPoller(t, store, reg, []Feed{{ID: "poison", URL: fs.srv.URL + "/poison.xml", Schedule: "@every 1h"}}, Options{})
	poll, err := p.PollNow(t.Context(), "poison")
	if err != nil {
		t.Fatal(err)
	}
	if poll.Result != events.ResultOK || poll.New != 4 || !strings.Contains(poll.Error, "over a field cap") {
		t.Errorf("poll = %s, %d new, error %q; want ok, 4 new, an error naming the field cap", poll.Result, poll.New, poll.Error)
	}
	last, err := store.LastPoll(t.Context(), "poison")
	if err != nil || last == nil || last.Error == "" {
		t.Fatalf("stored poll = %+v, %v; want one that shows the failure", last, err)
	}
	var titles []string
	err = c.Read(t.Context(), events.ArticleStream, []string{events.ArticleSubjectPrefix + "poison"}, 0, func(data []byte, _ uint64) error {
		a, err := events.ParseArticle(data)
		titles = append(titles, a.Title)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(titles) != 4 || titles[0] != "one" || titles[3] != "four" || len(titles[2]) > normalize.MaxTitleBytes {
		t.Errorf("stored %d articles (title lengths %v), want 4 with the third cut to %d bytes", len(titles), lens(titles), normalize.MaxTitleBytes)
	}
	if got := testutil.ToFloat64(p.pm.oversize.WithLabelValues("truncated")); got != 1 {
		t.Errorf("oversize{truncated} = %v, want 1", got)
	}
}

func lens(ss []string) []int {
	out := make([]int, len(ss))
	for i, s := range ss {
		out[i] = len(s)
	}
	return out
}

// TestOnlyWhatIsNewIsParsed polls a feed three times: the same bytes again are not parsed,
// and of a changed document only the new item is.
func TestOnlyWhatIsNewIsParsed(t *testing.T) {
	_, store := testStore(t)
	fs := newFeedServer(t)
	var items []string
	for i := range 20 {
		items = append(items, rssItem(i, fmt.Sprintf("Story %d", i)))
	}
	fs.set("/f.xml", rssDoc(items...))
	reg := prometheus.NewRegistry()
	p := newTestPoller(t, store, reg, []Feed{{ID: "f", URL: fs.srv.URL + "/f.xml", Schedule: "@every 1h"}}, Options{})
	poll := func(wantNew, wantDups int) {
		t.Helper()
		got, err := p.PollNow(t.Context(), "f")
		if err != nil || got.Result != events.ResultOK || got.New != wantNew || got.Duplicates != wantDups || got.Items != 20 {
			t.Fatalf("poll = %+v, %v; want ok, %d new, %d duplicates of 20 items", got, err, wantNew, wantDups)
		}
	}
	poll(20, 0)
	poll(0, 20) // the server ignores conditional GET: same bytes
	if got := testutil.ToFloat64(p.pm.unchanged); got != 1 {
		t.Errorf("unchanged documents = %v, want 1", got)
	}
	fs.set("/f.xml", rssDoc(append([]string{rssItem(99, "Breaking")}, items[:19]...)...))
	poll(1, 19)
	if got := testutil.ToFloat64(p.pm.knownItems); got != 19 {
		t.Errorf("known items skipped = %v, want 19", got)
	}
}

// TestScheduledPollsCommitInGroups runs the scheduler over many feeds that share stories:
// every story is stored once, every poll recorded, and the budget is empty at the end.
func TestScheduledPollsCommitInGroups(t *testing.T) {
	c, store := testStore(t)
	fs := newFeedServer(t)
	var feeds []Feed
	for f := range 60 {
		var items []string
		for i := range 10 {
			items = append(items, rssItem(f*5+i, fmt.Sprintf("Story %d", f*5+i))) // neighbours share 5
		}
		path := fmt.Sprintf("/f%d.xml", f)
		fs.set(path, rssDoc(items...))
		feeds = append(feeds, Feed{ID: fmt.Sprintf("f%d", f), URL: fs.srv.URL + path, Schedule: "@every 1h"})
	}
	reg := prometheus.NewRegistry()
	p := newTestPoller(t, store, reg, feeds, Options{FetchConcurrency: 8, MaxBytesInFlight: 64 << 10})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	waitFor(t, func() bool {
		info, err := c.StreamInfo(t.Context(), events.PollStream)
		return err == nil && info.Msgs == 60
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	info, err := c.StreamInfo(t.Context(), events.ArticleStream)
	if err != nil {
		t.Fatal(err)
	}
	if want := uint64(2 * (59*5 + 10)); info.Msgs != want {
		t.Errorf("article stream holds %d messages, want %d (each story and its marker once)", info.Msgs, want)
	}
	if used := p.budget.Used(); used != 0 {
		t.Errorf("budget holds %d bytes after every poll ended", used)
	}
}

// runUntilPolled runs p until the poll stream holds n poll events (one per feed), then stops it.
func runUntilPolled(t *testing.T, p *Poller, c *events.Conn, n int) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	waitFor(t, func() bool {
		info, err := c.StreamInfo(t.Context(), events.PollStream)
		return err == nil && info.Msgs == uint64(n)
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
