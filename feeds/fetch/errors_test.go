package fetch

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{" 30 ", 30 * time.Second, true},
		{"86400", 24 * time.Hour, true},
		{"86401", 24 * time.Hour, true},
		{"99999999999999999999999", 24 * time.Hour, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"Saturday, 01-Mar-25 12:05:00 GMT", 5 * time.Minute, true}, // RFC 850
		{"Sat Mar  1 12:00:10 2025", 10 * time.Second, true},        // ANSI C asctime
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},      // past: retry now
		{now.Add(30 * 24 * time.Hour).Format(http.TimeFormat), 24 * time.Hour, true},
		{"", 0, false},
		{"   ", 0, false},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"+10", 0, false},
		{"2m", 0, false},
		{"soon", 0, false},
		{"2025-03-01T12:05:00Z", 0, false},
		{"Sat, 01 Mar 2025 25:00:00 GMT", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseRetryAfter(%q) = %s, %v; want %s, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "0", "Sat, 01 Mar 2025 12:05:00 GMT", "-1", "1e9", "99999999999999999999"} {
		f.Add(s)
	}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := ParseRetryAfter(v, now)
		if d < 0 || d > maxRetryAfter || (!ok && d != 0) {
			t.Errorf("ParseRetryAfter(%q) = %s, %v: out of range", v, d, ok)
		}
	})
}

func TestKindResult(t *testing.T) {
	tests := []struct {
		kind Kind
		want string
	}{
		{KindHTTP, "http_error"},
		{KindTooLarge, "http_error"},
		{KindNetwork, "network_error"},
		{KindRefused, "refused"},
		{Kind(0), "network_error"},
	}
	for _, tt := range tests {
		if got := tt.kind.Result(); got != tt.want {
			t.Errorf("%v.Result() = %q, want %q", tt.kind, got, tt.want)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Kind: KindHTTP, URL: "https://x/feed", StatusCode: 503, RetryAfter: 2 * time.Minute},
			"GET https://x/feed: HTTP 503 Service Unavailable (retry after 2m0s)"},
		{&Error{Kind: KindHTTP, URL: "https://x/feed", StatusCode: 404, hop: "https://y/feed"},
			"GET https://x/feed (redirected to https://y/feed): HTTP 404 Not Found"},
		{&Error{Kind: KindHTTP, URL: "https://x/feed", StatusCode: 599},
			"GET https://x/feed: HTTP 599"},
		{&Error{Kind: KindNetwork, URL: "https://x/feed", Err: context.Canceled},
			"GET https://x/feed: context canceled"},
		{&Error{Kind: KindNetwork, URL: "https://x/feed", Err: &timeoutError{time.Second, "reading the body"}},
			"GET https://x/feed: timed out after 1s reading the body (fetch.timeout)"},
		{&Error{Kind: KindNetwork, URL: "file:///srv/feed.xml", Err: errors.New("file /srv/feed.xml does not exist")},
			"read file:///srv/feed.xml: file /srv/feed.xml does not exist"},
		{&Error{Kind: KindNetwork, URL: "https://x/feed"}, "GET https://x/feed: network error"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q\nwant      %q", got, tt.want)
		}
	}
}
