package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/newswatch/newswatch/cluster"
	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/feeds"
	"github.com/newswatch/newswatch/feeds/websub"
	"github.com/newswatch/newswatch/projections/feedhealth"
)

// WebSub push (docs/sources.md, "WebSub"): the poller hands every changed document to the
// manager, which finds the hub it announces and subscribes; the callback is served on the
// API's listener, outside the API's browser guard (hubs are not browsers and use the public
// name); pushed documents go back into the poller's pipeline.

// websubKeyPrefix is the state bucket's prefix of the subscriptions: state.websub.<feed-id>.
const websubKeyPrefix = "websub"

// defaultFallbackInterval is websub.fallback_interval's default.
const defaultFallbackInterval = time.Hour

// newWebSub makes the manager when websub.callback_base_url is set (nil otherwise).
func (a *App) newWebSub(cfg *config.Config) error {
	if !cfg.WebSub.Enabled() {
		return nil
	}
	o := websub.Options{
		CallbackBase: cfg.WebSub.CallbackBaseURL, LeaseSeconds: cfg.WebSub.LeaseSeconds,
		MaxBodyBytes: cfg.Fetch.MaxBodyBytes, PushTimeout: cfg.Fetch.Timeout + 10*time.Second,
		Store: subscriptionStore{a.conn, a.log.With("component", "websub")}, Hub: a.fetcher, Ingest: pushIngester{a},
		Pushed:     func(feed string, until time.Time) { a.poller.SetPushed(feed, until) },
		Registerer: a.deps.Registry, Logger: a.log, Now: a.deps.Now,
	}
	if a.node != nil {
		// The feed's rendezvous owner, the instance that polls it, subscribes for it.
		o.Owns = func(feed string) bool { return cluster.Owner(a.node.Members(), feed) == a.node.ID() }
	}
	m, err := websub.New(o)
	if err != nil {
		return err
	}
	a.websub = m
	a.log.Info("websub on", "component", "websub", "callback", m.Callback("<feed-id>"))
	return nil
}

// websubPollerOptions are the poller's hooks for WebSub: hub discovery on every changed
// document, and the fallback interval of pushed feeds.
func (a *App) websubPollerOptions(cfg *config.Config, o *feeds.Options) {
	if a.websub == nil {
		return
	}
	o.OnDocument = func(feed string, body []byte, links []string, base string) {
		a.websub.Observe(feed, websub.Discover(body, links, base))
	}
	o.FallbackInterval = cfg.WebSub.FallbackInterval
	if o.FallbackInterval == 0 {
		o.FallbackInterval = defaultFallbackInterval
	}
}

// setWebSubFeeds tells the manager the polled feeds.
func (a *App) setWebSubFeeds(list []feeds.Feed) {
	if a.websub == nil {
		return
	}
	ids := make([]string, len(list))
	for i, f := range list {
		ids[i] = f.ID
	}
	a.websub.SetFeeds(ids)
}

// pushState is a feed's subscription for GET /api/v1/feeds (nil: none, or WebSub off).
func (a *App) pushState(feed string) *feedhealth.Push {
	if a.websub == nil {
		return nil
	}
	sub, ok := a.websub.Subscription(feed)
	if !ok {
		return nil
	}
	out := &feedhealth.Push{State: sub.Status(a.deps.Now()), Hub: sub.Hub, LastError: sub.LastError}
	if !sub.ExpiresAt.IsZero() {
		at := sub.ExpiresAt.UTC()
		out.ExpiresAt = &at
	}
	return out
}

// withWebSub routes the callback path to the manager and everything else to h.
func (a *App) withWebSub(h http.Handler) http.Handler {
	if a.websub == nil {
		return h
	}
	cb := a.websub.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, websub.CallbackPath) {
			cb.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// subscriptionStore keeps subscriptions in the state bucket, one small key per feed. A value
// that does not decode counts as no subscription (with a warning): the feed subscribes anew
// and overwrites it, rather than being stuck on it.
type subscriptionStore struct {
	c   *events.Conn
	log *slog.Logger
}

func (s subscriptionStore) List(ctx context.Context) ([]websub.Subscription, error) {
	var out []websub.Subscription
	err := s.c.ListState(ctx, websubKeyPrefix, func(key string, data []byte) error {
		var sub websub.Subscription
		if err := json.Unmarshal(data, &sub); err != nil {
			s.log.Warn("stored subscription unreadable; the feed subscribes anew", "key", "state."+websubKeyPrefix+"."+key, "error", err)
			return nil
		}
		out = append(out, sub)
		return nil
	})
	return out, err
}

func (s subscriptionStore) Get(ctx context.Context, feed string) (*websub.Subscription, uint64, error) {
	data, rev, err := s.c.GetStateRev(ctx, websubKeyPrefix+"."+feed)
	if err != nil || data == nil {
		return nil, 0, err
	}
	var sub websub.Subscription
	if err := json.Unmarshal(data, &sub); err != nil {
		s.log.Warn("stored subscription unreadable; the feed subscribes anew", "key", "state."+websubKeyPrefix+"."+feed, "error", err)
		return nil, rev, nil // the revision lets the next write replace it
	}
	return &sub, rev, nil
}

func (s subscriptionStore) Put(ctx context.Context, sub websub.Subscription, rev uint64) (uint64, error) {
	data, err := json.Marshal(sub)
	if err != nil {
		return 0, err
	}
	n, err := s.c.PutStateIf(ctx, websubKeyPrefix+"."+sub.Feed, data, rev)
	if errors.Is(err, events.ErrStateChanged) {
		return 0, websub.ErrConflict
	}
	return n, err
}

func (s subscriptionStore) Delete(ctx context.Context, feed string) error {
	return s.c.DeleteState(ctx, websubKeyPrefix+"."+feed)
}

// pushIngester feeds pushed documents into the poller's pipeline.
type pushIngester struct{ a *App }

func (p pushIngester) Push(ctx context.Context, feed string, body []byte, contentType, base string) (websub.PushResult, error) {
	poll, err := p.a.poller.Push(ctx, feed, body, contentType, base)
	if errors.Is(err, feeds.ErrUnknownFeed) {
		return websub.PushResult{}, websub.ErrUnknownFeed
	}
	if err != nil {
		return websub.PushResult{}, err
	}
	res := websub.PushResult{New: poll.New, Duplicates: poll.Duplicates, Error: poll.Error}
	switch poll.Result {
	case events.ResultOK:
		res.Result = websub.PushOK
	case events.ResultParseError:
		res.Result = websub.PushParseError
	default:
		res.Result = websub.PushStoreError
	}
	return res, nil
}
