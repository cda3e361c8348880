package websub

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newswatch/newswatch/feeds/fetch"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// memStore is a Store in memory with revisions, for the manager's logic; the daemon's
// JetStream store is exercised end to end in cmd/newswatch.
type memStore struct {
	mu      sync.Mutex
	subs    map[string]Subscription
	revs    map[string]uint64
	seq     uint64
	failGet atomic.Bool
	gets    atomic.Int64
}

func newMemStore() *memStore {
	return &memStore{subs: map[string]Subscription{}, revs: map[string]uint64{}}
}

func (s *memStore) List(context.Context) ([]Subscription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Subscription
	for _, sub := range s.subs {
		out = append(out, sub)
	}
	return out, nil
}

func (s *memStore) Get(_ context.Context, feed string) (*Subscription, uint64, error) {
	s.gets.Add(1)
	if s.failGet.Load() {
		return nil, 0, errors.New("store down")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, ok := s.subs[feed]
	if !ok {
		return nil, 0, nil
	}
	return &sub, s.revs[feed], nil
}

func (s *memStore) Put(_ context.Context, sub Subscription, rev uint64) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.revs[sub.Feed] != rev {
		return 0, ErrConflict
	}
	s.seq++
	s.subs[sub.Feed], s.revs[sub.Feed] = sub, s.seq
	return s.seq, nil
}

func (s *memStore) Delete(_ context.Context, feed string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.subs, feed)
	delete(s.revs, feed)
	return nil
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func testManager(t *testing.T, store Store, now func() time.Time) (*Manager, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := New(Options{
		CallbackBase: "https://news.example/", Store: store, Hub: fetch.New(fetch.Config{AllowPrivateNetworks: true}),
		Registerer: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return m, reg
}

// A hub that fails is retried after the backoff; a denial waits an hour; a removed feed's
// subscription is deleted; a store that fails pauses the feed instead of spinning.
func TestManagerFailuresAndDenial(t *testing.T) {
	var status atomic.Int32
	status.Store(http.StatusInternalServerError)
	var requests atomic.Int32
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.WriteHeader(int(status.Load()))
		_, _ = io.WriteString(w, "hub trouble")
	}))
	t.Cleanup(hub.Close)
	store := newMemStore()
	clk := &clock{now: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	m, reg := testManager(t, store, clk.Now)
	links := Links{Hub: hub.URL + "/", Self: "https://news.example/feed.xml"}
	m.SetFeeds([]string{"f"})
	m.Observe("f", links)
	ctx := t.Context()

	m.round(ctx)
	sub, _ := m.Subscription("f")
	if requests.Load() != 1 || sub.Failures != 1 || !sub.RetryAt.Equal(clk.Now().Add(time.Minute)) || !strings.Contains(sub.LastError, "500") {
		t.Fatalf("after a failing hub: %d requests, %+v", requests.Load(), sub)
	}
	if got := testutil.ToFloat64(m.m.requests.WithLabelValues("new", "failed")); got != 1 {
		t.Errorf("requests{new,failed} = %v", got)
	}
	m.round(ctx)
	if requests.Load() != 1 {
		t.Fatal("retried before the backoff")
	}
	clk.Add(time.Minute)
	status.Store(http.StatusAccepted)
	m.round(ctx)
	sub, _ = m.Subscription("f")
	if requests.Load() != 2 || !sub.Pending() || !sub.RetryAt.IsZero() {
		t.Fatalf("after the backoff: %d requests, %+v", requests.Load(), sub)
	}

	// The hub denies it.
	rec := httptest.NewRecorder()
	q := url.Values{"hub.mode": {"denied"}, "hub.topic": {links.Self}, "hub.reason": {"not allowed"}}
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, CallbackPath+"f?"+q.Encode(), nil))
	sub, _ = m.Subscription("f")
	if rec.Code != http.StatusOK || sub.State != StateDenied || !sub.RetryAt.Equal(clk.Now().Add(time.Hour)) || !strings.Contains(sub.LastError, "not allowed") {
		t.Fatalf("denied: %d, %+v", rec.Code, sub)
	}
	if got := testutil.ToFloat64(m.m.verifications.WithLabelValues("denied", "accepted")); got != 1 {
		t.Errorf("verifications{denied,accepted} = %v", got)
	}
	const gauges = `
# HELP newswatch_websub_subscriptions Subscriptions this instance knows, by state: active (verified, lease not over), pending (waiting for the hub's verification), denied.
# TYPE newswatch_websub_subscriptions gauge
newswatch_websub_subscriptions{state="active"} 0
newswatch_websub_subscriptions{state="denied"} 1
newswatch_websub_subscriptions{state="pending"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(gauges), "newswatch_websub_subscriptions"); err != nil {
		t.Errorf("subscription gauges: %v", err)
	}
	clk.Add(59 * time.Minute)
	m.round(ctx)
	if requests.Load() != 2 {
		t.Fatal("asked again within the hour after a denial")
	}
	clk.Add(time.Minute)
	m.round(ctx)
	sub, _ = m.Subscription("f")
	if requests.Load() != 3 || sub.State != StateRequested {
		t.Fatalf("an hour after the denial: %d requests, %+v", requests.Load(), sub)
	}

	// The store fails: the feed's step waits instead of asking again at once.
	clk.Add(time.Hour) // the request went unverified: due again
	store.failGet.Store(true)
	before := store.gets.Load()
	for range 5 {
		m.round(ctx)
	}
	if n := store.gets.Load() - before; n != 1 {
		t.Errorf("a failing store was asked %d times in 5 rounds, want 1", n)
	}
	store.failGet.Store(false)

	// A removed feed's subscription is deleted.
	m.SetFeeds(nil)
	m.round(ctx)
	if got, _, _ := store.Get(ctx, "f"); got != nil {
		t.Errorf("subscription of a removed feed still stored: %+v", got)
	}
}

// A push is refused while its body is over the limit, and a forged verification of a
// subscription with no request pending is not echoed.
func TestCallbackRefusals(t *testing.T) {
	store := newMemStore()
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	m, _ := testManager(t, store, func() time.Time { return now })
	m.o.MaxBodyBytes = 10
	_, _ = store.Put(t.Context(), Subscription{Feed: "f", Topic: "https://news.example/feed", Secret: "s", State: StateActive,
		RequestedAt: now.Add(-time.Hour), VerifiedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour)}, 0)
	m.SetFeeds([]string{"f"})

	rec := httptest.NewRecorder()
	big := strings.Repeat("x", 11)
	req := httptest.NewRequest(http.MethodPost, CallbackPath+"f", strings.NewReader(big))
	req.Header.Set("X-Hub-Signature", Sign("sha256", []byte("s"), []byte(big)))
	m.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || testutil.ToFloat64(m.m.pushes.WithLabelValues(PushTooLarge)) != 1 {
		t.Errorf("oversized push: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	q := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {"https://news.example/feed"}, "hub.challenge": {"xyz"}}
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, CallbackPath+"f?"+q.Encode(), nil))
	if rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "xyz") {
		t.Errorf("verification with no request pending: %d %q", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, CallbackPath+"other", strings.NewReader("x")))
	if rec.Code != http.StatusGone {
		t.Errorf("push for a feed without a subscription: %d, want 410", rec.Code)
	}
}

// Only the feeds this instance owns are subscribed (cluster mode).
func TestManagerSubscribesOwnedFeedsOnly(t *testing.T) {
	var topics sync.Map
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		topics.Store(r.PostForm.Get("hub.topic"), true)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(hub.Close)
	store := newMemStore()
	m, _ := testManager(t, store, time.Now)
	m.o.Owns = func(feed string) bool { return feed == "mine" }
	m.SetFeeds([]string{"mine", "theirs"})
	for _, id := range []string{"mine", "theirs"} {
		m.Observe(id, Links{Hub: hub.URL + "/", Self: "https://news.example/" + id})
	}
	m.round(t.Context())
	_, mine := topics.Load("https://news.example/mine")
	_, theirs := topics.Load("https://news.example/theirs")
	if !mine || theirs {
		t.Errorf("subscribed mine: %v, theirs: %v; want only mine", mine, theirs)
	}
	if got, _, _ := store.Get(t.Context(), "theirs"); got != nil {
		t.Errorf("stored a subscription for a feed another instance owns: %+v", got)
	}
}

// A feed whose document stops announcing its hub is not renewed: the lease lapses. After a
// restart, before any document is seen, the stored topic and hub are renewed.
func TestManagerStopsRenewingWhenTheHubIsGone(t *testing.T) {
	var requests atomic.Int32
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(hub.Close)
	store := newMemStore()
	clk := &clock{now: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	sub := Subscription{Feed: "f", Topic: "https://news.example/feed", Hub: hub.URL + "/", Secret: "s", State: StateActive,
		RequestedAt: clk.Now(), VerifiedAt: clk.Now(), LeaseSeconds: 1000, ExpiresAt: clk.Now().Add(1000 * time.Second)}
	_, _ = store.Put(t.Context(), sub, 0)

	m, _ := testManager(t, store, clk.Now)
	m.SetFeeds([]string{"f"})
	if err := m.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	clk.Add(900 * time.Second)
	m.round(t.Context())
	if requests.Load() != 1 {
		t.Fatalf("after a restart the stored subscription was not renewed (%d requests)", requests.Load())
	}

	m2, _ := testManager(t, store, clk.Now)
	m2.SetFeeds([]string{"f"})
	if err := m2.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	m2.Observe("f", Links{Hub: hub.URL + "/"}) // a hub but no self link: not a WebSub feed
	clk.Add(2000 * time.Second)
	m2.round(t.Context())
	if requests.Load() != 1 {
		t.Errorf("a feed that no longer announces its hub was subscribed again (%d requests)", requests.Load())
	}
}
