package fetch

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func fileURL(path string) string { return (&url.URL{Scheme: "file", Path: path}).String() }

func writeFile(t *testing.T, path string, data []byte, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func TestFetchFileConditional(t *testing.T) {
	t.Parallel()
	feed := readFeed(t)
	path := filepath.Join(t.TempDir(), "world.xml")
	mtime := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)
	writeFile(t, path, feed, mtime)
	f := newTestFetcher(t, Config{})
	ctx := t.Context()

	first, err := f.Fetch(ctx, Request{URL: fileURL(path)})
	if err != nil {
		t.Fatal(err)
	}
	if first.NotModified || first.StatusCode != 200 || !bytes.Equal(first.Body, feed) {
		t.Fatalf("first fetch = %+v, want 200 with the file's bytes", first)
	}
	if !regexp.MustCompile(`^W/"\d+-\d+"$`).MatchString(first.ETag) {
		t.Errorf("ETag = %q, want a weak size-mtime tag", first.ETag)
	}
	if first.LastModified != "Sat, 01 Mar 2025 12:00:00 GMT" || first.ContentType != "text/xml; charset=utf-8" {
		t.Errorf("LastModified = %q, ContentType = %q", first.LastModified, first.ContentType)
	}

	tests := []struct {
		name       string
		req        Request
		wantNotMod bool
	}{
		{"same etag", Request{ETag: first.ETag, LastModified: first.LastModified}, true},
		{"same etag, strong form", Request{ETag: strings.TrimPrefix(first.ETag, "W/")}, true},
		{"other etag", Request{ETag: `W/"1-1"`, LastModified: first.LastModified}, false},
		{"last-modified only", Request{LastModified: first.LastModified}, true},
		{"older last-modified", Request{LastModified: "Sat, 01 Mar 2025 11:59:59 GMT"}, false},
	}
	for _, tt := range tests {
		tt.req.URL = fileURL(path)
		resp, err := f.Fetch(ctx, tt.req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if resp.NotModified != tt.wantNotMod || (len(resp.Body) == 0) != tt.wantNotMod {
			t.Errorf("%s: NotModified = %v with %d bytes, want %v", tt.name, resp.NotModified, len(resp.Body), tt.wantNotMod)
		}
		if resp.ETag != first.ETag {
			t.Errorf("%s: ETag = %q, want %q", tt.name, resp.ETag, first.ETag)
		}
	}

	// Same size, new mtime: the stored ETag no longer matches.
	changed := bytes.Replace(feed, []byte("World news"), []byte("World NEWS"), 1)
	writeFile(t, path, changed, mtime.Add(time.Second))
	resp, err := f.Fetch(ctx, Request{URL: fileURL(path), ETag: first.ETag, LastModified: first.LastModified})
	if err != nil {
		t.Fatal(err)
	}
	if resp.NotModified || !bytes.Equal(resp.Body, changed) || resp.ETag == first.ETag {
		t.Errorf("after change: NotModified=%v ETag=%q, want new content and a new ETag", resp.NotModified, resp.ETag)
	}
}

func TestFetchFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	big := filepath.Join(dir, "big.xml")
	writeFile(t, big, bytes.Repeat([]byte("x"), 2048), time.Now())
	canceled, cancel := context.WithCancel(t.Context())
	cancel()

	tests := []struct {
		name string
		ctx  context.Context
		url  string
		kind Kind
		want string
	}{
		{"missing", t.Context(), fileURL(filepath.Join(dir, "nope.xml")), KindNetwork,
			"file " + filepath.Join(dir, "nope.xml") + " does not exist"},
		{"directory", t.Context(), fileURL(dir), KindRefused, "is not a regular file"},
		{"device", t.Context(), "file:///dev/null", KindRefused, "is not a regular file"},
		{"remote host", t.Context(), "file://fileserver/feeds/x.xml", KindRefused, "must not name a host"},
		{"too large", t.Context(), fileURL(big), KindTooLarge, "limit of 1024 bytes"},
		{"canceled", canceled, fileURL(big), KindNetwork, "context canceled"},
		{"unsupported scheme", t.Context(), "ftp://example.com/feed.xml", KindRefused, `unsupported URL scheme "ftp"`},
		{"invalid URL", t.Context(), "http://[::1", KindRefused, "invalid URL"},
		{"no host", t.Context(), "http:///feed", KindRefused, "no host"},
	}
	f := newTestFetcher(t, Config{MaxBodyBytes: 1024})
	for _, tt := range tests {
		_, err := f.Fetch(tt.ctx, Request{URL: tt.url})
		fe := wantError(t, err, tt.kind)
		if !strings.Contains(fe.Error(), tt.want) {
			t.Errorf("%s: message = %q, want %q", tt.name, fe.Error(), tt.want)
		}
		if tt.kind == KindRefused && !errors.Is(err, ErrRefused) {
			t.Errorf("%s: errors.Is(err, ErrRefused) = false", tt.name)
		}
	}
}
