package robots

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/newswatch/newswatch/feeds/fetch"
)

// site is an httptest server that serves robots.txt with a given status and body and counts
// every request by path.
type site struct {
	srv *httptest.Server

	mu     sync.Mutex
	status int
	body   string
	seen   map[string]int
}

func newSite(t *testing.T, status int, body string) *site {
	t.Helper()
	s := &site{status: status, body: body, seen: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen[r.URL.RequestURI()]++
		status, body := s.status, s.body
		s.mu.Unlock()
		if r.URL.Path == "/robots.txt" {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
			return
		}
		_, _ = w.Write([]byte("<html><body>page</body></html>"))
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *site) requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[path]
}

func (s *site) setRobots(status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body = status, body
}

// testFetcher is the real fetcher with the SSRF guard off, since httptest listens on loopback.
func testFetcher() *fetch.Fetcher {
	return fetch.New(fetch.Config{AllowPrivateNetworks: true, Timeout: 5 * time.Second,
		UserAgent: "newswatch/test (+https://example.org)"})
}

const rules = `User-agent: *
Disallow: /

User-agent: newswatch
Disallow: /private/
Disallow: /*?print=
Allow: /
`

func TestAllowed(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		path      string
		want      bool
		wantUnavl bool
	}{
		{"allowed page", 200, rules, "/news/a.html", true, false},
		{"disallowed page", 200, rules, "/private/b.html", false, false},
		{"disallowed by query", 200, rules, "/news/a.html?print=1", false, false},
		{"other agents' rules do not apply", 200, "User-agent: otherbot\nDisallow: /\n", "/a", true, false},
		{"wildcard group applies", 200, "User-agent: *\nDisallow: /news/\n", "/news/a", false, false},
		{"404 allows all", 404, "", "/private/b.html", true, false},
		{"403 allows all", 403, rules, "/private/b.html", true, false},
		{"500 disallows", 500, rules, "/news/a.html", false, true},
		{"503 disallows", 503, "", "/news/a.html", false, true},
		{"429 disallows", 429, "", "/news/a.html", false, true},
		{"empty file allows all", 200, "", "/private/b.html", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSite(t, tt.status, tt.body)
			c := New(testFetcher(), Config{Agent: "newswatch"})
			got, err := c.Allowed(t.Context(), s.srv.URL+tt.path)
			if tt.wantUnavl != errors.Is(err, ErrUnavailable) {
				t.Fatalf("Allowed(%s): error %v, want unavailable %v", tt.path, err, tt.wantUnavl)
			}
			if !tt.wantUnavl && err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Allowed(%s) = %v, want %v", tt.path, got, tt.want)
			}
			if n := s.requests("/robots.txt"); n != 1 {
				t.Errorf("robots.txt requested %d times, want 1", n)
			}
		})
	}
}

func TestCacheFetchesRobotsOncePerHostAndTTL(t *testing.T) {
	s := newSite(t, 200, rules)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c := New(testFetcher(), Config{Agent: "newswatch", TTL: time.Hour, Now: clock})

	var wg sync.WaitGroup
	for _, p := range []string{"/a", "/b", "/c", "/private/d", "/e", "/f"} {
		wg.Go(func() {
			if _, err := c.Allowed(t.Context(), s.srv.URL+p); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := s.requests("/robots.txt"); n != 1 {
		t.Fatalf("robots.txt requested %d times for six pages, want 1", n)
	}
	mu.Lock()
	now = now.Add(time.Hour + time.Second)
	mu.Unlock()
	if _, err := c.Allowed(t.Context(), s.srv.URL+"/a"); err != nil {
		t.Fatal(err)
	}
	if n := s.requests("/robots.txt"); n != 2 {
		t.Fatalf("robots.txt requested %d times after the TTL, want 2", n)
	}
}

func TestUnavailableIsRetriedAfterFailureTTL(t *testing.T) {
	s := newSite(t, 500, "")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := New(testFetcher(), Config{Agent: "newswatch", FailureTTL: 10 * time.Minute, Now: func() time.Time { return now }})
	for range 2 {
		if ok, err := c.Allowed(t.Context(), s.srv.URL+"/a"); ok || !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Allowed = %v, %v; want false, ErrUnavailable", ok, err)
		}
	}
	if n := s.requests("/robots.txt"); n != 1 {
		t.Fatalf("robots.txt requested %d times within the failure TTL, want 1", n)
	}
	s.setRobots(404, "")
	now = now.Add(11 * time.Minute)
	if ok, err := c.Allowed(t.Context(), s.srv.URL+"/a"); !ok || err != nil {
		t.Fatalf("after the site recovered: Allowed = %v, %v; want true", ok, err)
	}
}

func TestNetworkErrorDisallows(t *testing.T) {
	s := newSite(t, 200, "")
	url := s.srv.URL
	s.srv.Close()
	c := New(testFetcher(), Config{Agent: "newswatch"})
	if ok, err := c.Allowed(t.Context(), url+"/a"); ok || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Allowed = %v, %v; want false, ErrUnavailable", ok, err)
	}
}

func TestGuardedFetcherRefusesLoopbackRobots(t *testing.T) {
	s := newSite(t, 200, "")
	c := New(fetch.New(fetch.Config{}), Config{Agent: "newswatch"})
	if ok, err := c.Allowed(t.Context(), s.srv.URL+"/a"); ok || !errors.Is(err, fetch.ErrRefused) {
		t.Fatalf("Allowed = %v, %v; want false and the SSRF guard's refusal", ok, err)
	}
	if n := s.requests("/robots.txt"); n != 0 {
		t.Fatalf("the guarded fetcher reached loopback %d times", n)
	}
}

func TestCacheIsBounded(t *testing.T) {
	c := New(testFetcher(), Config{Agent: "newswatch", MaxHosts: 3})
	for range 5 {
		s := newSite(t, 404, "")
		if ok, err := c.Allowed(t.Context(), s.srv.URL+"/a"); !ok || err != nil {
			t.Fatalf("Allowed = %v, %v", ok, err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.hosts) > 3 {
		t.Fatalf("%d hosts cached, want at most 3", len(c.hosts))
	}
}

func TestProductToken(t *testing.T) {
	for ua, want := range map[string]string{
		"newswatch/1.2 (+https://github.com/newswatch/newswatch)": "newswatch",
		"newswatch (+https://github.com/newswatch/newswatch)":     "newswatch",
		"  MyBot  ": "MyBot",
	} {
		if got := ProductToken(ua); got != want {
			t.Errorf("ProductToken(%q) = %q, want %q", ua, got, want)
		}
	}
}

func TestRejectsNonHTTP(t *testing.T) {
	c := New(testFetcher(), Config{Agent: "newswatch"})
	if _, err := c.Allowed(t.Context(), "file:///etc/passwd"); err == nil || errors.Is(err, ErrUnavailable) {
		t.Fatalf("err %v, want a non-http error", err)
	}
}

func TestCancelledFetchIsNotCached(t *testing.T) {
	s := newSite(t, 200, rules)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := New(testFetcher(), Config{Agent: "newswatch", Now: func() time.Time { return now }})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if ok, err := c.Allowed(ctx, s.srv.URL+"/news/a"); ok || err == nil {
		t.Fatalf("Allowed with a cancelled context = %v, %v; want an error", ok, err)
	}
	if ok, err := c.Allowed(t.Context(), s.srv.URL+"/news/a"); !ok || err != nil {
		t.Fatalf("Allowed after the cancelled attempt = %v, %v; want true (not the cached failure)", ok, err)
	}
}
