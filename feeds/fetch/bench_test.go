package fetch

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// benchFeed returns an RSS document of about size bytes.
func benchFeed(size int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Bench</title>`)
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, `<item><title>Story %d about Pyongyang and Moscow</title>`+
			`<link>https://news.example/world/story-%d</link><guid>story-%d</guid>`+
			`<description>Troops, soldiers and military cooperation, paragraph %d.</description></item>`, i, i, i, i)
	}
	b.WriteString(`</channel></rss>`)
	return b.Bytes()
}

func BenchmarkFetch(b *testing.B) {
	feed := benchFeed(50 << 10)
	modTime := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Content-Type", "application/rss+xml")
		http.ServeContent(w, r, "", modTime, bytes.NewReader(feed))
	}))
	defer srv.Close()
	f := New(Config{AllowNetworks: loopbackOnly})
	defer f.CloseIdleConnections()

	for _, bc := range []struct {
		name string
		req  Request
	}{
		{"200", Request{URL: srv.URL}},
		{"304", Request{URL: srv.URL, ETag: `"v1"`}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			if bc.req.ETag == "" {
				b.SetBytes(int64(len(feed)))
			}
			for b.Loop() {
				resp, err := f.Fetch(b.Context(), bc.req)
				if err != nil {
					b.Fatal(err)
				}
				if resp.NotModified != (bc.req.ETag != "") {
					b.Fatalf("NotModified = %v", resp.NotModified)
				}
			}
		})
	}
}

// BenchmarkReadBody reads a 440 KB body (a 20-item news feed) into new memory and into a
// reused buffer (Request.Buffer), as the pipeline does once a parsed body's buffer is free.
func BenchmarkReadBody(b *testing.B) {
	feed := benchFeed(440 << 10)
	for _, tt := range []struct {
		name   string
		buffer func(int64) []byte
	}{
		{"new", nil},
		{"reused", func() func(int64) []byte {
			buf := make([]byte, 0, len(feed)+1)
			return func(int64) []byte { return buf }
		}()},
	} {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(feed)))
			for b.Loop() {
				body, err := readLimited(b.Context(), bytes.NewReader(feed), 10<<20, int64(len(feed)), nil, tt.buffer)
				if err != nil || len(body) != len(feed) {
					b.Fatalf("read %d bytes, %v", len(body), err)
				}
			}
		})
	}
}
