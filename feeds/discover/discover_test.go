package discover_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/newswatch/newswatch/feeds/discover"
	"github.com/newswatch/newswatch/feeds/fetch"
)

const rssDoc = `<?xml version="1.0"?><rss version="2.0"><channel><title>%s</title><link>https://example.org/</link>
<item><title>One</title><link>https://example.org/1</link></item></channel></rss>`

// site serves pages and feeds by path and counts requests.
type site struct {
	mu    sync.Mutex
	pages map[string]string
	hits  []string
	srv   *httptest.Server
}

func newSite(t *testing.T, pages map[string]string) *site {
	s := &site{pages: pages}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits = append(s.hits, r.URL.Path)
		body, ok := s.pages[r.URL.Path]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		if strings.HasPrefix(body, "<?xml") {
			w.Header().Set("Content-Type", "application/rss+xml")
		} else {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		}
		io.WriteString(w, strings.ReplaceAll(body, "BASE", s.srv.URL))
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func fetcher() *fetch.Fetcher {
	return fetch.New(fetch.Config{AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
}

func feed(title string) string { return strings.Replace(rssDoc, "%s", title, 1) }

func TestFind(t *testing.T) {
	tests := []struct {
		name     string
		pages    map[string]string
		path     string
		wantPath string
		wantVia  string
		title    string
	}{
		{
			name:  "the address is a feed",
			pages: map[string]string{"/news.xml": feed("News")}, path: "/news.xml",
			wantPath: "/news.xml", wantVia: discover.ViaURL, title: "News",
		},
		{
			name: "the page announces feeds; a broken first one is skipped",
			pages: map[string]string{
				"/": `<!doctype html><html><head><title>Site</title>
<link rel="alternate" type="application/rss+xml" href="/gone.xml" title="Gone">
<link rel="alternate" type="application/atom+xml" href="BASE/posts.xml" title="Posts">
</head><body><a href="/rss.xml">rss</a></body></html>`,
				"/posts.xml": feed("Posts"), "/rss.xml": feed("Guessed"),
			},
			path: "/", wantPath: "/posts.xml", wantVia: discover.ViaLink, title: "Posts",
		},
		{
			name: "no announcement: the usual paths in order",
			pages: map[string]string{
				"/":          `<html><head><title>Site</title></head><body>hello</body></html>`,
				"/rss":       `<html><body>not a feed either</body></html>`,
				"/index.xml": feed("Hugo"), "/rss.xml": feed("Later"),
			},
			path: "/", wantPath: "/index.xml", wantVia: discover.ViaGuess, title: "Hugo",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSite(t, tt.pages)
			got, err := discover.Find(t.Context(), fetcher(), s.srv.URL+tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if got.URL != s.srv.URL+tt.wantPath || got.Via != tt.wantVia || got.Title != tt.title {
				t.Errorf("found %s via %s titled %q, want %s via %s titled %q", got.URL, got.Via, got.Title, s.srv.URL+tt.wantPath, tt.wantVia, tt.title)
			}
			if got.Feed == nil || len(got.Feed.Items) != 1 {
				t.Errorf("found feed carries no parsed items: %+v", got.Feed)
			}
		})
	}
}

func TestFindNothingSaysWhatWasTried(t *testing.T) {
	s := newSite(t, map[string]string{"/": `<html><head></head><body>plain</body></html>`})
	_, err := discover.Find(t.Context(), fetcher(), s.srv.URL+"/")
	if !errors.Is(err, discover.ErrNoFeed) {
		t.Fatalf("err = %v, want ErrNoFeed", err)
	}
	for _, p := range discover.UsualPaths {
		if !strings.Contains(err.Error(), s.srv.URL+p) {
			t.Errorf("error does not name %s: %v", p, err)
		}
	}
	if len(s.hits) != 1+len(discover.UsualPaths) {
		t.Errorf("requests %v, want the page and the %d usual paths", s.hits, len(discover.UsualPaths))
	}
}

func TestFindGoesThroughTheSSRFGuard(t *testing.T) {
	s := newSite(t, map[string]string{"/": feed("Private")})
	_, err := discover.Find(t.Context(), fetch.New(fetch.Config{}), s.srv.URL+"/")
	var fe *fetch.Error
	if !errors.As(err, &fe) || fe.Kind != fetch.KindRefused {
		t.Fatalf("err = %v, want the fetcher's refusal of a loopback address", err)
	}
}

func TestFindRefusesNonHTTP(t *testing.T) {
	for _, a := range []string{"file:///etc/passwd", "ftp://x/", "example.org", ""} {
		if _, err := discover.Find(t.Context(), fetcher(), a); err == nil {
			t.Errorf("Find(%q) succeeded", a)
		}
	}
}
