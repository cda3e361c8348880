package fetch

import (
	"bytes"
	"compress/gzip"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// loopbackOnly is the exception tests need to reach their httptest servers
// with the SSRF guard on.
var loopbackOnly = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

func newTestFetcher(t *testing.T, cfg Config) *Fetcher {
	t.Helper()
	f := New(cfg)
	t.Cleanup(f.CloseIdleConnections)
	return f
}

func readFeed(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/feed.xml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantError asserts that err is a *Error of the given kind and returns it.
func wantError(t *testing.T, err error, kind Kind) *Error {
	t.Helper()
	fe, ok := errors.AsType[*Error](err)
	if !ok {
		t.Fatalf("err = %v (%T), want *fetch.Error", err, err)
	}
	if fe.Kind != kind {
		t.Fatalf("kind = %v, want %v; err: %v", fe.Kind, kind, err)
	}
	if strings.Contains(fe.Error(), "\n") {
		t.Errorf("error message spans lines: %q", fe.Error())
	}
	return fe
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFetchOK(t *testing.T) {
	feed := readFeed(t)
	tests := []struct {
		name string
		gzip bool
	}{
		{"identity", false},
		{"gzip", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if got := r.Header.Get("User-Agent"); got != "newswatch-test/1.0" {
					t.Errorf("User-Agent = %q", got)
				}
				if got := r.Header.Get("Accept"); got != acceptHeader {
					t.Errorf("Accept = %q", got)
				}
				if got := r.Header.Get("Accept-Encoding"); got != "gzip" {
					t.Errorf("Accept-Encoding = %q, want gzip negotiated by the transport", got)
				}
				if r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "" {
					t.Errorf("unexpected conditional headers: %v", r.Header)
				}
				w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
				w.Header().Set("ETag", `"v1"`)
				w.Header().Set("Last-Modified", "Mon, 04 Nov 2024 10:00:00 GMT")
				body := feed
				if tt.gzip {
					w.Header().Set("Content-Encoding", "gzip")
					body = gzipBytes(t, feed)
				}
				_, _ = w.Write(body)
			}))
			defer srv.Close()
			f := newTestFetcher(t, Config{UserAgent: "newswatch-test/1.0", AllowNetworks: loopbackOnly})

			resp, err := f.Fetch(t.Context(), Request{URL: srv.URL + "/feed.xml"})
			if err != nil {
				t.Fatal(err)
			}
			want := Response{
				StatusCode:   200,
				Body:         feed,
				ContentType:  "application/rss+xml; charset=utf-8",
				ETag:         `"v1"`,
				LastModified: "Mon, 04 Nov 2024 10:00:00 GMT",
				FinalURL:     srv.URL + "/feed.xml",
			}
			if !bytes.Equal(resp.Body, want.Body) {
				t.Errorf("body = %q, want the feed", resp.Body)
			}
			resp.Body, want.Body = nil, nil
			if !reflect.DeepEqual(*resp, want) {
				t.Errorf("response = %+v\nwant       %+v", *resp, want)
			}
		})
	}
}

func TestFetchConditional(t *testing.T) {
	feed := readFeed(t)
	modTime := time.Date(2024, 11, 4, 10, 0, 0, 0, time.UTC)
	lastMod := modTime.Format(http.TimeFormat)
	// serveContent is net/http's own conditional-request logic, i.e. what a
	// real static file server answers.
	serveContent := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		http.ServeContent(w, r, "feed.xml", modTime, bytes.NewReader(feed))
	})
	lastModOnly := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "feed.xml", modTime, bytes.NewReader(feed))
	})
	// bare304 answers 304 without repeating any validator.
	bare304 := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotModified)
	})

	tests := []struct {
		name         string
		handler      http.Handler
		req          Request
		wantNotMod   bool
		wantETag     string
		wantLastMod  string
		wantBodySize int
	}{
		{"etag matches", serveContent, Request{ETag: `"v1"`, LastModified: lastMod}, true, `"v1"`, lastMod, 0},
		{"etag changed", serveContent, Request{ETag: `"v0"`}, false, `"v1"`, lastMod, len(feed)},
		{"last-modified matches", lastModOnly, Request{LastModified: lastMod}, true, "", lastMod, 0},
		{"last-modified older", lastModOnly,
			Request{LastModified: modTime.Add(-time.Hour).Format(http.TimeFormat)}, false, "", lastMod, len(feed)},
		{"304 without validators keeps the request's", bare304,
			Request{ETag: `"old"`, LastModified: lastMod}, true, `"old"`, lastMod, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			f := newTestFetcher(t, Config{AllowNetworks: loopbackOnly})
			req := tt.req
			req.URL = srv.URL
			resp, err := f.Fetch(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.NotModified != tt.wantNotMod || resp.ETag != tt.wantETag ||
				resp.LastModified != tt.wantLastMod || len(resp.Body) != tt.wantBodySize {
				t.Errorf("got NotModified=%v ETag=%q LastModified=%q body=%d bytes, want %v %q %q %d",
					resp.NotModified, resp.ETag, resp.LastModified, len(resp.Body),
					tt.wantNotMod, tt.wantETag, tt.wantLastMod, tt.wantBodySize)
			}
			if tt.wantNotMod && resp.StatusCode != http.StatusNotModified {
				t.Errorf("StatusCode = %d, want 304", resp.StatusCode)
			}
		})
	}
}

func TestFetchHTTPErrors(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		status     int
		retryAfter string
		wantRetry  time.Duration
		wantMsg    string
	}{
		{"429 seconds", 429, "120", 2 * time.Minute, "HTTP 429 Too Many Requests (retry after 2m0s)"},
		{"429 http-date", 429, now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second,
			"HTTP 429 Too Many Requests (retry after 1m30s)"},
		{"503 seconds", 503, "120", 2 * time.Minute, "HTTP 503 Service Unavailable (retry after 2m0s)"},
		{"503 no header", 503, "", 0, "HTTP 503 Service Unavailable"},
		{"503 garbage header", 503, "soon-ish", 0, "HTTP 503 Service Unavailable"},
		{"503 huge delay clamped", 503, "99999999999999999999", 24 * time.Hour, "(retry after 24h0m0s)"},
		{"404", 404, "", 0, "HTTP 404 Not Found"},
		{"410", 410, "", 0, "HTTP 410 Gone"},
		{"500", 500, "", 0, "HTTP 500 Internal Server Error"},
		{"final 300", 300, "", 0, "HTTP 300 Multiple Choices"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte("<html>error page</html>"))
			}))
			defer srv.Close()
			f := newTestFetcher(t, Config{AllowNetworks: loopbackOnly})
			f.now = func() time.Time { return now }

			resp, err := f.Fetch(t.Context(), Request{URL: srv.URL + "/feed"})
			if resp != nil {
				t.Errorf("resp = %+v, want nil", resp)
			}
			fe := wantError(t, err, KindHTTP)
			if fe.StatusCode != tt.status || fe.RetryAfter != tt.wantRetry {
				t.Errorf("StatusCode=%d RetryAfter=%s, want %d %s", fe.StatusCode, fe.RetryAfter, tt.status, tt.wantRetry)
			}
			prefix := "GET " + srv.URL + "/feed: "
			if msg := err.Error(); !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("message = %q, want %q + ...%q", msg, prefix, tt.wantMsg)
			}
			if fe.Kind.Result() != "http_error" {
				t.Errorf("Result() = %q", fe.Kind.Result())
			}
		})
	}
}

func TestFetchTooLarge(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 2048)
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"declared content-length", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write(body)
		}},
		{"chunked", func(w http.ResponseWriter, r *http.Request) {
			for range 4 {
				_, _ = w.Write(body[:512])
				w.(http.Flusher).Flush()
			}
		}},
		{"gzip", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(gzipBytes(t, body))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			f := newTestFetcher(t, Config{MaxBodyBytes: 1024, AllowNetworks: loopbackOnly})
			_, err := f.Fetch(t.Context(), Request{URL: srv.URL})
			fe := wantError(t, err, KindTooLarge)
			if !strings.Contains(fe.Error(), "limit of 1024 bytes (fetch.max_body_bytes)") {
				t.Errorf("message = %q, want it to name the limit", fe.Error())
			}
			if fe.Kind.Result() != "http_error" {
				t.Errorf("Result() = %q", fe.Kind.Result())
			}
		})
	}

	t.Run("exactly the limit is fine", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write(body[:1024])
		}))
		defer srv.Close()
		f := newTestFetcher(t, Config{MaxBodyBytes: 1024, AllowNetworks: loopbackOnly})
		resp, err := f.Fetch(t.Context(), Request{URL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Body) != 1024 {
			t.Errorf("body = %d bytes, want 1024", len(resp.Body))
		}
	})
}
