// Package robots decides whether a page may be fetched under its site's robots.txt (RFC 9309).
// The files are fetched through the caller's fetcher, so the SSRF guard, the per-host limit, the
// timeout and the body cap apply to them as to any page, and kept in a bounded per-host cache.
package robots

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/newswatch/newswatch/feeds/fetch"
	"github.com/temoto/robotstxt"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultMaxHosts   = 1000
	DefaultTTL        = time.Hour
	DefaultFailureTTL = 10 * time.Minute
)

// ErrUnavailable is wrapped by the error of Allowed when a site's robots.txt could not be read
// (a 5xx, 429, network failure or refusal): the page is then treated as disallowed until the
// file is fetched again, after Config.FailureTTL.
var ErrUnavailable = errors.New("robots: robots.txt unavailable")

// Fetcher fetches one URL; *fetch.Fetcher is one.
type Fetcher interface {
	Fetch(ctx context.Context, req fetch.Request) (*fetch.Response, error)
}

// Config configures a Checker.
type Config struct {
	// Agent is the product token matched against User-agent lines, e.g. "newswatch".
	Agent string
	// MaxHosts caps the hosts whose robots.txt is cached. Default 1,000.
	MaxHosts int
	// TTL is how long a fetched robots.txt (or a 4xx for it) is trusted. Default 1h.
	TTL time.Duration
	// FailureTTL is how long an unreadable robots.txt keeps its site disallowed before it is
	// tried again. Default 10m.
	FailureTTL time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Checker answers whether a URL may be fetched. It is safe for concurrent use; concurrent
// questions about one host share one fetch of its robots.txt.
type Checker struct {
	f   Fetcher
	cfg Config

	mu    sync.Mutex
	hosts map[string]*entry
}

// entry is one host's robots.txt; ready is closed once data or err is set.
type entry struct {
	ready   chan struct{}
	data    *robotstxt.RobotsData
	err     error
	expires time.Time
}

// New returns a Checker that fetches robots.txt files through f.
func New(f Fetcher, cfg Config) *Checker {
	if cfg.MaxHosts <= 0 {
		cfg.MaxHosts = DefaultMaxHosts
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.FailureTTL <= 0 {
		cfg.FailureTTL = DefaultFailureTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Checker{f: f, cfg: cfg, hosts: map[string]*entry{}}
}

// ProductToken returns the product token of a User-Agent header, the part robots.txt groups
// name: "newswatch" for "newswatch/1.2 (+https://…)".
func ProductToken(userAgent string) string {
	tok, _, _ := strings.Cut(strings.TrimSpace(userAgent), " ")
	tok, _, _ = strings.Cut(tok, "/")
	return tok
}

// Allowed reports whether rawURL may be fetched. An error wrapping ErrUnavailable means the
// site's robots.txt could not be read and the page must not be fetched now; any other error
// means rawURL is not an http(s) URL.
func (c *Checker) Allowed(ctx context.Context, rawURL string) (bool, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false, fmt.Errorf("robots: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false, fmt.Errorf("robots: not an http(s) URL: %s://%s", u.Scheme, u.Host)
	}
	e, err := c.entry(ctx, u)
	if err != nil {
		return false, err
	}
	if e.err != nil {
		return false, e.err
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	return e.data.TestAgent(path, c.cfg.Agent), nil
}

// entry returns the fresh cache entry of u's site, fetching its robots.txt when there is none.
func (c *Checker) entry(ctx context.Context, u *url.URL) (*entry, error) {
	key := u.Scheme + "://" + strings.ToLower(u.Host)
	c.mu.Lock()
	e, ok := c.hosts[key]
	if ok {
		select {
		case <-e.ready:
			if c.cfg.Now().After(e.expires) {
				ok = false
			}
		default: // another caller is fetching it
		}
	}
	if !ok {
		if _, stale := c.hosts[key]; !stale {
			c.evict()
		}
		e = &entry{ready: make(chan struct{})}
		c.hosts[key] = e
	}
	c.mu.Unlock()

	if !ok {
		c.load(ctx, e, key)
	}
	select {
	case <-e.ready:
		return e, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("robots: waiting for %s/robots.txt: %w", key, ctx.Err())
	}
}

// load fetches and parses the robots.txt of site (scheme://host) into e and marks it ready.
func (c *Checker) load(ctx context.Context, e *entry, site string) {
	defer close(e.ready)
	resp, err := c.f.Fetch(ctx, fetch.Request{URL: site + "/robots.txt"})
	status := 0
	if err == nil {
		status = resp.StatusCode
	} else if fe, ok := errors.AsType[*fetch.Error](err); ok && fe.Kind == fetch.KindHTTP {
		status = fe.StatusCode
	}
	ttl := c.cfg.TTL
	switch {
	case err == nil:
		// A file we cannot parse states no rule we can read; RFC 9309 asks parsers to skip
		// what they do not understand, so it allows all.
		if e.data, err = robotstxt.FromBytes(resp.Body); err != nil {
			e.data, _ = robotstxt.FromStatusAndBytes(404, nil)
		}
	case status >= 400 && status < 500 && status != 429:
		// No robots.txt: no restrictions (RFC 9309 §2.3.1.3).
		e.data, _ = robotstxt.FromStatusAndBytes(status, nil)
	default:
		// 5xx, 429, a network failure or a refusal: the site's wishes are unknown, so it is
		// treated as disallowing everything until the file is tried again (§2.3.1.4).
		e.err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		ttl = c.cfg.FailureTTL
		if ctx.Err() != nil {
			// Our own cancellation says nothing about the site: forget the answer.
			c.mu.Lock()
			if c.hosts[site] == e {
				delete(c.hosts, site)
			}
			c.mu.Unlock()
		}
	}
	e.expires = c.cfg.Now().Add(ttl)
}

// evict makes room for one more host: expired entries go first, then the one expiring
// soonest. The caller holds c.mu.
func (c *Checker) evict() {
	if len(c.hosts) < c.cfg.MaxHosts {
		return
	}
	now := c.cfg.Now()
	var oldest string
	var oldestAt time.Time
	for k, e := range c.hosts {
		select {
		case <-e.ready:
		default:
			continue // being fetched; its waiters hold it
		}
		if now.After(e.expires) {
			delete(c.hosts, k)
			continue
		}
		if oldest == "" || e.expires.Before(oldestAt) {
			oldest, oldestAt = k, e.expires
		}
	}
	if len(c.hosts) >= c.cfg.MaxHosts && oldest != "" {
		delete(c.hosts, oldest)
	}
}
