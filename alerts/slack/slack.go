// Package slack delivers alerts to Slack incoming webhooks as Block Kit messages. The
// message layout is described in docs/alerts-delivery.md.
package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/newswatch/newswatch/alerts/notify"
)

// DefaultTimeout bounds one delivery attempt when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// userAgent identifies deliveries to Slack.
const userAgent = "newswatch-slack"

// ErrConfig is wrapped by every configuration problem that Validate reports.
var ErrConfig = errors.New("slack: invalid config")

// Config configures one Slack receiver.
type Config struct {
	// Name identifies the receiver in errors, logs and metrics.
	Name string
	// URL is the incoming-webhook URL. It is a secret: it never appears in errors.
	URL string
	// Timeout bounds one attempt; zero means DefaultTimeout.
	Timeout time.Duration
	// Client sends the requests; nil means http.DefaultClient. It is copied, and the copy
	// never follows redirects.
	Client *http.Client
}

// Validate reports whether the config can deliver: an absolute http(s) URL with a host
// and a timeout that is not negative. The error never contains the URL.
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

// Notifier posts alerts to one Slack incoming webhook. It is safe for concurrent use.
type Notifier struct {
	name, url string
	timeout   time.Duration
	client    *http.Client
	invalid   error
}

// New returns a notifier for cfg. A config that does not Validate yields a notifier whose
// every delivery fails permanently with the validation error.
func New(cfg Config) *Notifier {
	n := &Notifier{name: cfg.Name, url: cfg.URL, timeout: cfg.Timeout, client: notify.NoRedirects(cfg.Client), invalid: cfg.Validate()}
	if n.name == "" {
		n.name = "slack"
	}
	if n.timeout <= 0 {
		n.timeout = DefaultTimeout
	}
	return n
}

// Name returns the receiver's name.
func (n *Notifier) Name() string { return n.name }

// Notify posts the alert as formatted by Format and classifies the outcome with
// notify.Classify: Slack answers 429 with Retry-After when rate limiting, and 4xx with a
// short reason (invalid_payload, channel_not_found, ...) that the error quotes.
func (n *Notifier) Notify(ctx context.Context, a notify.Alert) (retry bool, err error) {
	if n.invalid != nil {
		return false, fmt.Errorf("slack %s: %w", n.name, n.invalid)
	}
	body, err := Format(a).JSON()
	if err != nil {
		return false, fmt.Errorf("slack %s: encode alert %s: %w", n.name, a.ID, err)
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("slack %s: cannot build request", n.name)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	retry, err = notify.Classify(n.client.Do(req))
	if err != nil {
		return retry, fmt.Errorf("slack %s: deliver alert %s: %w", n.name, a.ID, err)
	}
	return false, nil
}
