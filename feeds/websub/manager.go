package websub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/newswatch/newswatch/feeds/fetch"
	"github.com/prometheus/client_golang/prometheus"
)

// Store keeps subscriptions durably, one per feed, with compare-and-set writes so that two
// instances (or a verification racing a request) never lose each other's change.
type Store interface {
	// List returns every stored subscription.
	List(ctx context.Context) ([]Subscription, error)
	// Get returns a feed's subscription and its revision; nil when there is none (the
	// revision is then 0, or that of an unreadable value, which the next Put replaces).
	Get(ctx context.Context, feed string) (*Subscription, uint64, error)
	// Put stores sub if the stored revision is still rev (0: there is none) and returns the
	// new revision; ErrConflict when it changed.
	Put(ctx context.Context, sub Subscription, rev uint64) (uint64, error)
	// Delete removes a feed's subscription.
	Delete(ctx context.Context, feed string) error
}

// ErrConflict is returned by Store.Put when the subscription changed since it was read.
var ErrConflict = errors.New("websub: subscription changed since it was read")

// Hub sends subscription requests. fetch.Fetcher implements it, with its SSRF guard.
type Hub interface {
	PostForm(ctx context.Context, rawURL string, form url.Values) (*fetch.FormResponse, error)
}

// PushResult is what the ingest pipeline made of a pushed document.
type PushResult struct {
	// Result is ok, parse_error or store_error.
	Result          string
	New, Duplicates int
	Error           string
}

// Ingester takes a pushed document as the feed's document: the same parse, normalize and
// store path as a poll's body. ErrUnknownFeed when the feed is not polled (any more).
type Ingester interface {
	Push(ctx context.Context, feed string, body []byte, contentType, base string) (PushResult, error)
}

// ErrUnknownFeed is what an Ingester returns for a feed it does not poll.
var ErrUnknownFeed = errors.New("websub: feed not polled")

// Options configure a Manager.
type Options struct {
	// CallbackBase is the public base URL hubs reach this daemon at; each feed's callback is
	// CallbackBase + CallbackPath + feed id.
	CallbackBase string
	// LeaseSeconds is the lease asked for (the hub decides); 0: DefaultLeaseSeconds.
	LeaseSeconds int
	// MaxBodyBytes caps a pushed body (fetch.max_body_bytes).
	MaxBodyBytes int64
	// PushTimeout bounds the storing of one push (default 30s).
	PushTimeout time.Duration
	// MaxPushes caps pushes being read, verified and stored at once; more get 503 (default 4).
	// Bodies being read and checked hold up to MaxPushes × MaxBodyBytes beside the ingest
	// pipeline's budget, which takes them once they enter it.
	MaxPushes int
	Store     Store
	Hub       Hub
	Ingest    Ingester
	// Owns, when set, says whether this instance subscribes for a feed (cluster mode: the
	// feed's owner); nil: every feed.
	Owns func(feed string) bool
	// Pushed, when set, is told until when a feed's hub pushes (zero: it does not), so the
	// poller can slow the feed's polls to the fallback schedule.
	Pushed     func(feed string, until time.Time)
	Policy     Policy
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Now        func() time.Time
}

// DefaultLeaseSeconds is the lease asked for when the config names none: 10 days.
const DefaultLeaseSeconds = 10 * 24 * 3600

// CallbackPath is where the callback handler is served, followed by the feed id.
const CallbackPath = "/websub/"

// maxStepsPerRound bounds the requests one round of the loop sends, so a start with many due
// subscriptions spreads them instead of sending thousands at once.
const maxStepsPerRound = 16

// idleCheck is the longest the loop sleeps: ownership can change without a wake-up.
const idleCheck = time.Minute

// entry is what the manager knows of one polled feed.
type entry struct {
	links Links
	// seen is set once a document of the feed was examined in this process: until then the
	// stored topic and hub stand (a restart), after it zero links mean "no hub announced".
	seen bool
	sub  *Subscription // nil: none stored
	// holdUntil pauses the feed's steps after one that could not read or write the store, so
	// a store that is down is not asked again in a busy loop.
	holdUntil time.Time
}

// storeHold is how long a feed's steps pause after the store failed them.
const storeHold = 10 * time.Second

// Manager subscribes the polled feeds that announce a hub, renews their leases and serves the
// callback (Handler). Safe for concurrent use; bounded by the number of polled feeds.
type Manager struct {
	o      Options
	policy Policy
	log    *slog.Logger
	now    func() time.Time
	m      *metrics
	pushes chan struct{} // semaphore: pushes in flight

	mu    sync.Mutex
	feeds map[string]*entry
	gone  map[string]bool // feeds removed whose stored subscription is still to delete
	wake  chan struct{}
}

// New returns a Manager for the feeds set later with SetFeeds.
func New(o Options) (*Manager, error) {
	base, err := url.Parse(o.CallbackBase)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("websub: callback base URL %q: give an absolute http(s) URL", o.CallbackBase)
	}
	o.CallbackBase = strings.TrimRight(o.CallbackBase, "/")
	if o.LeaseSeconds <= 0 {
		o.LeaseSeconds = DefaultLeaseSeconds
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = fetch.DefaultMaxBodyBytes
	}
	if o.PushTimeout <= 0 {
		o.PushTimeout = 30 * time.Second
	}
	if o.MaxPushes <= 0 {
		o.MaxPushes = 4
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Manager{
		o: o, policy: o.Policy.withDefaults(), log: o.Logger.With("component", "websub"), now: o.Now,
		pushes: make(chan struct{}, o.MaxPushes), feeds: map[string]*entry{}, gone: map[string]bool{}, wake: make(chan struct{}, 1),
	}
	m.m = newMetrics(o.Registerer, m)
	return m, nil
}

// Callback is the callback URL of a feed.
func (m *Manager) Callback(feed string) string { return m.o.CallbackBase + CallbackPath + feed }

// SetFeeds sets the polled feeds. Feeds no longer polled are forgotten; their stored
// subscriptions are deleted by the loop (their leases lapse at the hub, and pushes for them
// are answered 410 Gone).
func (m *Manager) SetFeeds(ids []string) {
	m.mu.Lock()
	keep := make(map[string]bool, len(ids))
	for _, id := range ids {
		keep[id] = true
		if m.feeds[id] == nil {
			m.feeds[id] = &entry{}
		}
		delete(m.gone, id)
	}
	for id, e := range m.feeds {
		if !keep[id] {
			delete(m.feeds, id)
			if e.sub != nil {
				m.gone[id] = true
			}
		}
	}
	m.mu.Unlock()
	m.signal()
}

// Observe records the hub and topic a feed's document announced (the poller calls it with
// every changed document it parses). A change wakes the loop. A document that announces no
// hub (or no topic) stops the renewals of the feed's subscription: it lapses at the end of
// its lease, and the feed is polled on its schedule again.
func (m *Manager) Observe(feed string, l Links) {
	if !l.Valid() {
		l = Links{}
	}
	m.mu.Lock()
	e := m.feeds[feed]
	changed := e != nil && (e.links != l || !e.seen)
	if changed {
		e.links, e.seen = l, true
	}
	m.mu.Unlock()
	if changed {
		m.signal()
	}
}

func (m *Manager) signal() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func (m *Manager) count(is func(*Subscription) bool) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, e := range m.feeds {
		if e.sub != nil && is(e.sub) {
			n++
		}
	}
	return n
}

// Subscription returns a copy of a feed's subscription as this instance knows it.
func (m *Manager) Subscription(feed string) (Subscription, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.feeds[feed]; e != nil && e.sub != nil {
		return *e.sub, true
	}
	return Subscription{}, false
}

// remember caches a feed's stored subscription, tells the poller whether it is pushed, and
// wakes the loop: the next step may have moved (a verification sets the lease's renewal).
func (m *Manager) remember(feed string, sub *Subscription) {
	m.mu.Lock()
	e := m.feeds[feed]
	if e != nil {
		e.sub = sub
	}
	m.mu.Unlock()
	m.signal()
	if e != nil && m.o.Pushed != nil {
		var until time.Time
		if sub.Active(m.now()) {
			until = sub.ExpiresAt
		}
		m.o.Pushed(feed, until)
	}
}

// Load reads the stored subscriptions of the polled feeds and deletes those of feeds no
// longer polled. Run calls it; a caller may call it before to fill the cache early.
func (m *Manager) Load(ctx context.Context) error {
	subs, err := m.o.Store.List(ctx)
	if err != nil {
		return fmt.Errorf("websub: read subscriptions: %w", err)
	}
	for _, s := range subs {
		m.mu.Lock()
		known := m.feeds[s.Feed] != nil
		m.mu.Unlock()
		if !known {
			if err := m.o.Store.Delete(ctx, s.Feed); err != nil {
				m.log.Warn("subscription of a removed feed not deleted", "feed", s.Feed, "error", err)
			}
			continue
		}
		m.remember(s.Feed, &s)
	}
	return nil
}

// Run sends the subscription requests as they fall due (Plan) until ctx ends. Until the
// stored subscriptions are read it sends nothing, and tries again every 10 s.
func (m *Manager) Run(ctx context.Context) error {
	for {
		err := m.Load(ctx)
		if err == nil {
			break
		}
		m.log.Warn("subscriptions not read; WebSub requests wait", "error", err, "retry_in", storeHold.String())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(storeHold):
		}
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-m.wake:
		}
		next := m.round(ctx)
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(max(0, min(next.Sub(m.now()), idleCheck)))
	}
}

// round takes the due steps (at most maxStepsPerRound) and returns when the next falls due.
func (m *Manager) round(ctx context.Context) time.Time {
	now := m.now()
	next := now.Add(idleCheck)
	var due, gone []string
	m.mu.Lock()
	for id := range m.gone {
		gone = append(gone, id)
		delete(m.gone, id)
	}
	for id, e := range m.feeds {
		if m.o.Owns != nil && !m.o.Owns(id) || e.seen && !e.links.Valid() {
			continue
		}
		st := Plan(e.sub, e.links, now, m.policy)
		if st.Kind != None && e.holdUntil.After(st.At) {
			st.At = e.holdUntil
		}
		switch {
		case st.Kind == None:
		case st.Due(now) && len(due) < maxStepsPerRound:
			due = append(due, id)
		case st.Due(now):
			next = now
		case st.At.Before(next):
			next = st.At
		}
	}
	m.mu.Unlock()
	for _, id := range gone {
		if err := m.o.Store.Delete(ctx, id); err != nil {
			m.log.Warn("subscription of a removed feed not deleted", "feed", id, "error", err)
		}
	}
	for _, id := range due {
		if ctx.Err() != nil {
			break
		}
		m.step(ctx, id)
	}
	return next
}

// step re-reads a feed's subscription (another instance or a verification may have changed
// it) and, if a request is still due, stores the request and sends it to the hub.
func (m *Manager) step(ctx context.Context, feed string) {
	stored, rev, err := m.o.Store.Get(ctx, feed)
	if err != nil {
		m.log.Warn("subscription not read", "feed", feed, "error", err)
		m.hold(feed)
		return
	}
	m.mu.Lock()
	e := m.feeds[feed]
	var links Links
	if e != nil {
		links = e.links
	}
	m.mu.Unlock()
	if e == nil || e.seen && !links.Valid() {
		return
	}
	m.remember(feed, stored)
	now := m.now()
	st := Plan(stored, links, now, m.policy)
	if !st.Due(now) {
		return
	}
	sub := m.request(feed, stored, links, st, now)
	if rev, err = m.o.Store.Put(ctx, sub, rev); err != nil {
		if !errors.Is(err, ErrConflict) {
			m.log.Warn("subscription request not stored; not sent", "feed", feed, "error", err)
		}
		m.hold(feed) // a conflict: the next round reads the newer copy
		return
	}
	m.remember(feed, &sub)
	resp, err := m.o.Hub.PostForm(ctx, sub.Hub, url.Values{
		"hub.mode": {"subscribe"}, "hub.topic": {sub.Topic}, "hub.callback": {m.Callback(feed)},
		"hub.secret": {sub.Secret}, "hub.lease_seconds": {strconv.Itoa(m.o.LeaseSeconds)},
	})
	if err == nil && resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		m.m.requests.WithLabelValues(st.Reason, "accepted").Inc()
		m.log.Info("subscription requested", "feed", feed, "hub", sub.Hub, "topic", sub.Topic, "reason", st.Reason)
		return
	}
	m.m.requests.WithLabelValues(st.Reason, "failed").Inc()
	if err == nil {
		err = fmt.Errorf("hub answered %d: %s", resp.StatusCode, strings.TrimSpace(resp.Body))
	}
	m.fail(ctx, feed, fmt.Sprintf("subscribe at %s: %v", sub.Hub, err))
}

// hold pauses a feed's steps for storeHold.
func (m *Manager) hold(feed string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.feeds[feed]; e != nil {
		e.holdUntil = m.now().Add(storeHold)
	}
}

// request builds the subscription a step asks for.
func (m *Manager) request(feed string, stored *Subscription, links Links, st Step, now time.Time) Subscription {
	var sub Subscription
	if stored != nil {
		sub = *stored
	}
	if st.Kind == Subscribe {
		topic, hub := links.Self, links.Hub
		if !links.Valid() {
			topic, hub = sub.Topic, sub.Hub
		}
		sub = Subscription{Feed: feed, Topic: topic, Hub: hub, Secret: newSecret(), State: StateRequested, Failures: sub.Failures}
		if stored == nil || stored.Topic != topic || stored.Hub != hub {
			sub.Failures = 0
		}
	}
	if st.Reason == "unverified" {
		sub.Failures++
		sub.LastError = "the hub did not verify the request in time"
	}
	sub.RequestedAt, sub.RetryAt = now, time.Time{}
	return sub
}

// fail records a failed request: the next waits for the backoff.
func (m *Manager) fail(ctx context.Context, feed, reason string) {
	for range 3 {
		stored, rev, err := m.o.Store.Get(ctx, feed)
		if err != nil || stored == nil || !stored.Pending() {
			return // verified meanwhile (a hub that verifies before it answers), or gone
		}
		sub := *stored
		sub.Failures++
		wait := m.policy.Backoff(sub.Failures)
		sub.RetryAt, sub.LastError = m.now().Add(wait), reason
		if _, err := m.o.Store.Put(ctx, sub, rev); errors.Is(err, ErrConflict) {
			continue
		} else if err != nil {
			m.log.Warn("failed subscription request not recorded", "feed", feed, "error", err)
			return
		}
		m.remember(feed, &sub)
		m.log.Warn("subscription request failed", "feed", feed, "error", reason, "failures", sub.Failures, "retry_in", wait.String())
		return
	}
}

// update applies change to a feed's stored subscription with compare-and-set, re-reading on
// a conflict. change returns false to leave it as it is.
func (m *Manager) update(ctx context.Context, feed string, change func(*Subscription) bool) (*Subscription, error) {
	for range 5 {
		stored, rev, err := m.o.Store.Get(ctx, feed)
		if err != nil {
			return nil, err
		}
		if stored == nil {
			return nil, nil
		}
		sub := *stored
		if !change(&sub) {
			return nil, nil
		}
		if _, err := m.o.Store.Put(ctx, sub, rev); errors.Is(err, ErrConflict) {
			continue
		} else if err != nil {
			return nil, err
		}
		m.remember(feed, &sub)
		return &sub, nil
	}
	return nil, ErrConflict
}

func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}
