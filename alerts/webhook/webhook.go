// Package webhook delivers alerts as signed JSON POSTs to an HTTP endpoint (PRODUCT §5), and
// gives receivers written in Go the functions to check the signature. The wire format is
// described in docs/alerts-delivery.md.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/newswatch/newswatch/alerts/notify"
)

// Request headers of a delivery.
const (
	HeaderTimestamp      = "X-Newswatch-Timestamp"
	HeaderSignature      = "X-Newswatch-Signature"
	HeaderIdempotencyKey = "Idempotency-Key"
)

// DefaultTimeout bounds one delivery attempt when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// DefaultUserAgent is sent when Config.UserAgent is empty.
const DefaultUserAgent = "newswatch-webhook"

// ErrConfig is wrapped by every configuration problem that Validate reports.
var ErrConfig = errors.New("webhook: invalid config")

// Config configures one webhook receiver.
type Config struct {
	// Name identifies the receiver in errors, logs and metrics.
	Name string
	// URL is the http:// or https:// endpoint to POST to. Redirects are not followed.
	URL string
	// Secret is the HMAC-SHA256 key for X-Newswatch-Signature; empty: deliveries are unsigned.
	Secret string
	// Timeout bounds one attempt, response included; zero means DefaultTimeout.
	Timeout time.Duration
	// Client sends the requests; nil means http.DefaultClient. It is copied, and the copy
	// never follows redirects.
	Client *http.Client
	// UserAgent is the User-Agent header; empty means DefaultUserAgent.
	UserAgent string
	// Now is the clock for X-Newswatch-Timestamp; nil means time.Now.
	Now func() time.Time
}

// Validate reports whether the config can deliver: the URL must be absolute http(s) with a
// host, and the timeout not negative. The error never contains the URL's secrets.
func (c Config) Validate() error {
	var errs []error
	if err := notify.CheckURL(c.URL); err != nil {
		errs = append(errs, fmt.Errorf("%w: %w", ErrConfig, err))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("%w: timeout %s is negative", ErrConfig, c.Timeout))
	}
	return errors.Join(errs...)
}

// Notifier delivers alerts to one webhook receiver. It is safe for concurrent use.
type Notifier struct {
	name, url, secret, userAgent string
	timeout                      time.Duration
	client                       *http.Client
	now                          func() time.Time
	invalid                      error // from Config.Validate: every Notify fails permanently
}

// New returns a notifier for cfg. A config that does not Validate yields a notifier whose
// every delivery fails permanently with the validation error, so a bad receiver dead-letters
// its alerts instead of blocking them; check Validate first to refuse such a config.
func New(cfg Config) *Notifier {
	n := &Notifier{
		name:      cfg.Name,
		url:       cfg.URL,
		secret:    cfg.Secret,
		userAgent: cfg.UserAgent,
		timeout:   cfg.Timeout,
		client:    notify.NoRedirects(cfg.Client),
		now:       cfg.Now,
		invalid:   cfg.Validate(),
	}
	if n.name == "" {
		n.name = "webhook"
	}
	if n.userAgent == "" {
		n.userAgent = DefaultUserAgent
	}
	if n.timeout <= 0 {
		n.timeout = DefaultTimeout
	}
	if n.now == nil {
		n.now = time.Now
	}
	return n
}

// Name returns the receiver's name.
func (n *Notifier) Name() string { return n.name }

// Notify POSTs the alert, signed when a secret is set, and classifies the outcome with
// notify.Classify. Every attempt is signed anew with the time of sending; the body and the
// Idempotency-Key stay the same, so the receiver can drop repeated deliveries.
func (n *Notifier) Notify(ctx context.Context, a notify.Alert) (retry bool, err error) {
	if n.invalid != nil {
		return false, fmt.Errorf("webhook %s: %w", n.name, n.invalid)
	}
	body, err := json.Marshal(a)
	if err != nil {
		return false, fmt.Errorf("webhook %s: encode alert %s: %w", n.name, a.ID, err)
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url, bytes.NewReader(body))
	if err != nil {
		// Validate accepted the URL, so this is not expected; never echo the URL.
		return false, fmt.Errorf("webhook %s: cannot build request", n.name)
	}
	ts := n.now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", n.userAgent)
	req.Header.Set(HeaderIdempotencyKey, a.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	if n.secret != "" {
		req.Header.Set(HeaderSignature, Sign(n.secret, ts, body))
	}
	retry, err = notify.Classify(n.client.Do(req))
	if err != nil {
		return retry, fmt.Errorf("webhook %s: deliver alert %s: %w", n.name, a.ID, err)
	}
	return false, nil
}
