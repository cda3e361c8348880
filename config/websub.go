package config

import (
	"net/url"
	"time"
)

// WebSub subscribes to the hubs that feeds announce, so their new items are pushed within
// seconds instead of waiting for the next poll (docs/sources.md, "WebSub"). Off unless
// CallbackBaseURL is set.
type WebSub struct {
	// CallbackBaseURL is the public base URL at which hubs reach this daemon's HTTP server
	// (http.listen), e.g. https://news.example.org; each feed's callback is
	// <callback_base_url>/websub/<feed-id>.
	CallbackBaseURL string `yaml:"callback_base_url"`
	// LeaseSeconds is the lease asked of hubs (they may grant another); 0: 864000 (10 days).
	LeaseSeconds int `yaml:"lease_seconds"`
	// FallbackInterval is the least time between polls of a feed whose hub pushes it; 0: 1h.
	FallbackInterval time.Duration `yaml:"fallback_interval"`
}

// Enabled reports whether WebSub is on.
func (w WebSub) Enabled() bool { return w.CallbackBaseURL != "" }

// Limits of the websub keys.
const (
	minLeaseSeconds     = 60
	maxLeaseSeconds     = 365 * 24 * 3600
	minFallbackInterval = time.Minute
	maxFallbackInterval = time.Hour // feed health calls a feed stale after 2 h without a poll
)

func (v *validator) websub() {
	w := v.c.WebSub
	if w.CallbackBaseURL != "" {
		u, err := url.Parse(w.CallbackBaseURL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			v.errorf("websub.callback_base_url", "%s is not an absolute http(s) URL such as https://news.example.org", quote(w.CallbackBaseURL))
		case u.User != nil || u.RawQuery != "" || u.Fragment != "":
			v.errorf("websub.callback_base_url", "%s: give a base URL without credentials, query or fragment; /websub/<feed-id> is appended to it", quote(redactURL(w.CallbackBaseURL)))
		case v.c.HTTP.Listen == "":
			v.errorf("websub.callback_base_url", "the callback is served by the HTTP server: set http.listen (and route callback_base_url to it)")
		}
	}
	if w.LeaseSeconds != 0 && (w.LeaseSeconds < minLeaseSeconds || w.LeaseSeconds > maxLeaseSeconds) {
		v.errorf("websub.lease_seconds", "must be 0 (the default, 864000) or between %d and %d, got %d", minLeaseSeconds, maxLeaseSeconds, w.LeaseSeconds)
	}
	if w.FallbackInterval != 0 && (w.FallbackInterval < minFallbackInterval || w.FallbackInterval > maxFallbackInterval) {
		v.errorf("websub.fallback_interval", "must be 0 (the default, 1h) or between %s and %s, got %s", minFallbackInterval, maxFallbackInterval, w.FallbackInterval)
	}
}
