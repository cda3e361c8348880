package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Kind classifies a failed fetch so that callers can pick a metric label and
// a retry policy without parsing error text.
type Kind int

const (
	// KindHTTP means the server answered, but not with content: a 4xx or 5xx
	// status, an unexpected 3xx, or a redirect chain that was too long.
	KindHTTP Kind = iota + 1
	// KindNetwork means no usable answer arrived: DNS, connect, TLS, a
	// malformed response, a timeout, a cancelled context or an unreadable
	// local file.
	KindNetwork
	// KindRefused means the fetcher declined to make the request: the SSRF
	// guard refused the address, or the URL or a redirect target used a
	// scheme other than http, https (or file for the configured URL).
	KindRefused
	// KindTooLarge means the decompressed body exceeded Config.MaxBodyBytes.
	KindTooLarge
)

// String returns a short lower-case name for the kind.
func (k Kind) String() string {
	switch k {
	case KindHTTP:
		return "http"
	case KindNetwork:
		return "network"
	case KindRefused:
		return "refused"
	case KindTooLarge:
		return "too_large"
	}
	return "unknown"
}

// Result returns the value of the result label of
// newswatch_feed_polls_total for a failure of this kind. An oversized body is
// the server's fault and counts as "http_error".
func (k Kind) Result() string {
	switch k {
	case KindHTTP, KindTooLarge:
		return "http_error"
	case KindRefused:
		return "refused"
	}
	return "network_error"
}

// ErrRefused is wrapped by every *Error of KindRefused, so
// errors.Is(err, ErrRefused) tells a refusal from any other failure.
var ErrRefused = errors.New("fetch: refused by SSRF guard")

// Error is the error type returned by Fetcher.Fetch. Its message is one line
// naming the method, the URL (password redacted) and what went wrong.
type Error struct {
	// Kind classifies the failure.
	Kind Kind
	// URL is the requested URL with any password redacted.
	URL string
	// StatusCode is the HTTP status for KindHTTP failures that got a
	// response, and 0 otherwise.
	StatusCode int
	// RetryAfter is the server's Retry-After, clamped to 24h, or 0 if it sent
	// none or an unparsable one.
	RetryAfter time.Duration
	// Err is the underlying cause; nil for a plain HTTP error status.
	Err error

	// hop is the redirect target where the failure happened, if it differs
	// from URL.
	hop string
}

// Error returns a one-line description such as
// `GET https://x/feed: HTTP 503 Service Unavailable (retry after 2m0s)`.
func (e *Error) Error() string {
	var b strings.Builder
	op := "GET"
	if strings.HasPrefix(e.URL, "file:") {
		op = "read"
	}
	b.WriteString(op + " " + e.URL)
	if e.hop != "" && e.hop != e.URL {
		b.WriteString(" (redirected to " + e.hop + ")")
	}
	b.WriteString(": ")
	switch {
	case e.StatusCode != 0 && e.Err == nil:
		b.WriteString("HTTP " + strconv.Itoa(e.StatusCode))
		if text := http.StatusText(e.StatusCode); text != "" {
			b.WriteString(" " + text)
		}
		if e.RetryAfter > 0 {
			b.WriteString(" (retry after " + e.RetryAfter.String() + ")")
		}
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	default:
		b.WriteString(e.Kind.String() + " error")
	}
	return b.String()
}

// Unwrap returns the underlying cause, so errors.Is(err, context.Canceled)
// and errors.Is(err, ErrRefused) work.
func (e *Error) Unwrap() error { return e.Err }

// refusal is the cause of every KindRefused error. Its message says what was
// refused and how to allow it; it unwraps to ErrRefused.
type refusal struct{ msg string }

func (r *refusal) Error() string { return r.msg }
func (r *refusal) Unwrap() error { return ErrRefused }

// redirectLimitError reports a redirect chain longer than maxRedirects.
type redirectLimitError struct{}

func (redirectLimitError) Error() string {
	return fmt.Sprintf("stopped after %d redirects (redirect loop?)", maxRedirects)
}

// timeoutError reports that the whole-request deadline (Config.Timeout)
// expired, and during which stage.
type timeoutError struct {
	after time.Duration
	stage string
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("timed out after %s %s (fetch.timeout)", e.after, e.stage)
}

// Timeout reports true, as net.Error does for timeouts.
func (e *timeoutError) Timeout() bool { return true }
func (e *timeoutError) Unwrap() error { return context.DeadlineExceeded }

// redact returns s with any password and credential-like query values replaced, or s
// unchanged if it does not parse as a URL.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	return redactURL(u)
}

// secretParams are substrings of query parameter names whose values are credentials.
var secretParams = []string{"key", "token", "secret", "password", "passwd", "auth", "sig", "session"}

// redactURL is u for logs and errors: the password and the values of credential-like query
// parameters (api_key, token, sig, ...) replaced, since feed URLs often carry them.
func redactURL(u *url.URL) string {
	if u.RawQuery == "" {
		return u.Redacted()
	}
	c := *u
	q := c.Query()
	changed := false
	for name := range q {
		lower := strings.ToLower(name)
		for _, w := range secretParams {
			if strings.Contains(lower, w) {
				q[name] = []string{"REDACTED"}
				changed = true
				break
			}
		}
	}
	if changed {
		c.RawQuery = q.Encode()
	}
	return c.Redacted()
}

// maxRetryAfter caps Retry-After so a hostile or confused server cannot park
// a feed for weeks.
const maxRetryAfter = 24 * time.Hour

// ParseRetryAfter parses a Retry-After header value, either delta-seconds
// ("120") or an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT"), relative to now.
// The result is clamped to [0, 24h]: a date in the past means retry now, an
// absurdly large number means 24h. It reports false for an empty or
// unparsable value.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if strings.Trim(v, "0123456789") == "" {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs > int64(maxRetryAfter/time.Second) {
			// Only digits, so the error is overflow: a huge number.
			return maxRetryAfter, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), maxRetryAfter), true
}
