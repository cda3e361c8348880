package fetch

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestFetchReadsIntoTheGivenBuffer: a body is read into the buffer Request.Buffer gives when
// it is large enough (its memory, its capacity), and into new memory when it is too small;
// the body is the same either way.
func TestFetchReadsIntoTheGivenBuffer(t *testing.T) {
	feed := readFeed(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(feed)
	}))
	t.Cleanup(srv.Close)
	f := newTestFetcher(t, Config{UserAgent: "newswatch-test/1.0", AllowNetworks: loopbackOnly})
	tests := []struct {
		name  string
		given int
		reuse bool
	}{
		{"large enough", 2*len(feed) + 100, true},
		{"too small", len(feed) / 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			given := make([]byte, 7, tt.given) // stale bytes must not show
			var asked int64
			resp, err := f.Fetch(t.Context(), Request{URL: srv.URL, Buffer: func(n int64) []byte { asked = n; return given }})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(resp.Body, feed) {
				t.Fatalf("body is %d bytes, not the %d served", len(resp.Body), len(feed))
			}
			if asked < int64(len(feed)) {
				t.Errorf("asked for a buffer of %d bytes, want at least the body's %d", asked, len(feed))
			}
			if shared := &resp.Body[:1][0] == &given[:1][0]; shared != tt.reuse {
				t.Errorf("body shares the given buffer: %v, want %v", shared, tt.reuse)
			}
		})
	}
}
