package fetch

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// PostForm is held to the fetcher's SSRF guard, like a poll, and otherwise sends the form
// and returns any answer.
func TestPostForm(t *testing.T) {
	t.Parallel()
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		got.Store(r.PostForm.Get("hub.mode") + " " + r.Header.Get("User-Agent"))
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, strings.Repeat("x", 4<<10))
	}))
	t.Cleanup(srv.Close)
	form := url.Values{"hub.mode": {"subscribe"}}

	_, err := newTestFetcher(t, Config{}).PostForm(t.Context(), srv.URL, form)
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("PostForm to loopback with the guard on = %v, want refused", err)
	}
	if got.Load() != nil {
		t.Fatal("the guarded request reached the server")
	}
	resp, err := newTestFetcher(t, Config{AllowNetworks: loopbackOnly, UserAgent: "nw-test"}).PostForm(t.Context(), srv.URL, form)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusAccepted || len(resp.Body) != maxFormAnswer || got.Load() != "subscribe nw-test" {
		t.Errorf("answer %d with %d bytes, server saw %v", resp.StatusCode, len(resp.Body), got.Load())
	}
	if _, err := newTestFetcher(t, Config{}).PostForm(t.Context(), "file:///etc/passwd", form); !errors.Is(err, ErrRefused) {
		t.Errorf("file URL: %v, want refused", err)
	}
}
