package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/feeds/fetch"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestFullTextRespectsRobots drives the full-text handler against a real site: pages its
// robots.txt allows are fetched, pages it disallows are never requested, a 404 robots.txt allows
// all, a 500 one fetches nothing, and robots.txt is requested once for many pages.
func TestFullTextRespectsRobots(t *testing.T) {
	page, err := os.ReadFile("../../feeds/fulltext/testdata/teaser-article.html")
	if err != nil {
		t.Fatal(err)
	}
	const rules = "User-agent: *\nDisallow: /\n\nUser-agent: newswatch\nDisallow: /private/\n"
	tests := []struct {
		name         string
		robotsStatus int
		paths        []string
		wantFetched  []string // page paths the server must see
		wantResults  map[string]float64
	}{
		{"allowed and disallowed pages", 200, []string{"/news/a.html", "/private/b.html", "/news/c.html"},
			[]string{"/news/a.html", "/news/c.html"}, map[string]float64{"extracted": 2, "robots_disallowed": 1}},
		{"404 robots.txt allows all", 404, []string{"/private/b.html"},
			[]string{"/private/b.html"}, map[string]float64{"extracted": 1}},
		{"500 robots.txt fetches nothing", 500, []string{"/news/a.html", "/news/c.html"},
			nil, map[string]float64{"robots_unavailable": 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			seen := map[string]int{}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen[r.URL.Path]++
				mu.Unlock()
				if r.URL.Path == "/robots.txt" {
					w.WriteHeader(tt.robotsStatus)
					_, _ = io.WriteString(w, rules)
					return
				}
				_, _ = w.Write(page)
			}))
			defer srv.Close()

			now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
			f := fetch.New(fetch.Config{AllowPrivateNetworks: true, Timeout: 10 * time.Second})
			ft := newFullTexter(f, prometheus.NewRegistry(), func() time.Time { return now },
				slog.New(slog.DiscardHandler))
			ft.setFeeds(map[string]bool{"site": true})
			for i, p := range tt.paths {
				data, err := events.EncodeArticle(events.Article{ID: string(rune('a' + i)), FeedID: "site",
					URL: srv.URL + p, Title: "Envoys", Summary: "Read more.", FirstSeenAt: now})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := ft.Handle(data, uint64(i+1)); err != nil {
					t.Fatal(err)
				}
			}

			mu.Lock()
			defer mu.Unlock()
			if seen["/robots.txt"] != 1 {
				t.Errorf("robots.txt requested %d times for %d pages, want 1", seen["/robots.txt"], len(tt.paths))
			}
			want := map[string]bool{}
			for _, p := range tt.wantFetched {
				want[p] = true
			}
			for _, p := range tt.paths {
				if got := seen[p] > 0; got != want[p] {
					t.Errorf("page %s requested %d times, want fetched %v", p, seen[p], want[p])
				}
			}
			for _, r := range []string{"extracted", "robots_disallowed", "robots_unavailable", "fetch_error"} {
				if got := testutil.ToFloat64(ft.results.WithLabelValues(r)); got != tt.wantResults[r] {
					t.Errorf("result %s counted %v, want %v", r, got, tt.wantResults[r])
				}
			}
		})
	}
}
