package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxResponseBytes bounds how much of a receiver's response body is read.
const MaxResponseBytes = 64 << 10

// maxErrorBody bounds how much of a response body an error quotes.
const maxErrorBody = 200

// StatusError is a delivery that the receiver answered with a status other than 2xx.
type StatusError struct {
	// StatusCode and Status are the response's, e.g. 404 and "404 Not Found".
	StatusCode int
	Status     string
	// Body is the start of the response body (at most 200 bytes), on one line.
	Body string
	// Location is the target of a redirect, which deliveries never follow.
	Location string
}

// Error names the status and quotes the start of the body, or the redirect target.
func (e *StatusError) Error() string {
	status := e.Status
	if status == "" {
		status = strconv.Itoa(e.StatusCode)
	}
	var b strings.Builder
	b.WriteString("receiver answered ")
	b.WriteString(status)
	if e.StatusCode >= 300 && e.StatusCode < 400 {
		if e.Location != "" {
			fmt.Fprintf(&b, ", a redirect to %q that is not followed: configure the final URL", e.Location)
		} else {
			b.WriteString(", a redirect that is not followed: configure the final URL")
		}
	}
	if e.Body != "" {
		fmt.Fprintf(&b, ": %q", e.Body)
	}
	return b.String()
}

// Classify turns the outcome of an HTTP delivery into the Notifier contract, and consumes
// and closes the response body (reading at most MaxResponseBytes, so that the connection
// can be reused).
//
//   - 2xx: delivered, (false, nil).
//   - 408, 425, 429 and 5xx: retry. A 429 or 503 with a Retry-After header (seconds or an
//     HTTP date) yields a *RetryAfterError; an HTTP date counts from the response's Date
//     header when it has one, which keeps the receiver's clock skew out of the delay.
//   - Network errors, timeouts and cancellation: retry.
//   - Any other status, redirects included: permanent, (false, err) with a *StatusError that
//     names the status and quotes the first 200 bytes of the body, or the redirect target.
//
// Transport errors are reported without the request URL, which may hold a secret (Slack
// webhook URLs do).
func Classify(resp *http.Response, err error) (retry bool, _ error) {
	if err != nil {
		if resp != nil {
			drain(resp.Body)
		}
		return true, transportError(err)
	}
	body := readLimited(resp.Body)
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return false, nil
	}
	se := &StatusError{StatusCode: code, Status: resp.Status, Body: excerpt(body)}
	switch {
	case code >= 300 && code < 400:
		se.Location = resp.Header.Get("Location")
		return false, se
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly, code >= 500,
		code == http.StatusTooManyRequests:
		if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
			if d, ok := retryAfter(resp.Header, time.Now()); ok {
				return true, &RetryAfterError{Delay: d, Err: se}
			}
		}
		return true, se
	default:
		return false, se
	}
}

// transportError describes a failed round trip without the request URL.
func transportError(err error) error {
	var what string
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		what = "timed out"
	case errors.Is(err, context.Canceled):
		what = "canceled"
	default:
		what = "failed"
	}
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	return fmt.Errorf("request %s: %w", what, err)
}

// retryAfter parses a Retry-After header: delay-seconds or an HTTP date. A date in the past
// or a zero delay yields no delay.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(secs) * time.Second, secs > 0
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if date, err := http.ParseTime(h.Get("Date")); err == nil {
		now = date
	}
	d := at.Sub(now)
	return d, d > 0
}

// readLimited reads at most MaxResponseBytes of body and closes it.
func readLimited(body io.ReadCloser) []byte {
	b, _ := io.ReadAll(io.LimitReader(body, MaxResponseBytes))
	body.Close()
	return b
}

// drain discards at most MaxResponseBytes of body and closes it.
func drain(body io.ReadCloser) {
	if body != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(body, MaxResponseBytes))
		body.Close()
	}
}

// excerpt returns the first maxErrorBody bytes of a response body as one line of valid
// UTF-8: runs of whitespace and control characters become one space.
func excerpt(b []byte) string {
	if len(b) > maxErrorBody {
		b = b[:maxErrorBody]
		// Do not end inside a multi-byte character.
		for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
			if r, n := utf8.DecodeLastRune(b); r != utf8.RuneError || n > 1 {
				break
			}
			b = b[:len(b)-1]
		}
	}
	var sb strings.Builder
	space := false
	for _, r := range strings.ToValidUTF8(string(b), "\uFFFD") {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = true
			continue
		}
		if space && sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		space = false
		sb.WriteRune(r)
	}
	return sb.String()
}

// NoRedirects returns a copy of c (http.DefaultClient when nil) that never follows
// redirects: a delivery must reach the configured URL, and a redirect is reported to the
// operator as a permanent failure instead of silently re-posting the alert elsewhere.
func NoRedirects(c *http.Client) *http.Client {
	if c == nil {
		c = http.DefaultClient
	}
	cp := *c
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

// CheckURL reports whether raw is an absolute http:// or https:// URL with a host, as a
// delivery endpoint must be. The error does not repeat the URL, which may hold a secret.
func CheckURL(raw string) error {
	if raw == "" {
		return errors.New("url is empty")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("url is not an http:// or https:// URL with a host")
	}
	return nil
}
