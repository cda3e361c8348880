package config

import (
	"fmt"
	"time"
)

// Defaults for keys left out of the file; docs/config.md lists them too.
const (
	defaultDataDir            = "./data"
	defaultNATSListen         = "127.0.0.1:4222"
	defaultReplicas           = 1
	defaultHTTPListen         = "127.0.0.1:8080"
	defaultTimeout            = 20 * time.Second
	defaultMaxBodyBytes       = 10 << 20
	defaultPerHostConcurrency = 2
	defaultLogLevel           = "info"
	defaultLogFormat          = "auto"
	defaultFeedSchedule       = "@every 5m"
	defaultAlertKind          = "match"
)

// applyDefaults fills in every key that was absent from the file. Keys that
// were present keep their value, even a zero one, so that Validate reports
// an invalid explicit value instead of replacing it; this is also how an
// explicit `nats.listen: ""` (in-process only) differs from no listen key.
func (c *Config) applyDefaults() {
	setDefault(c, "data_dir", &c.DataDir, defaultDataDir)
	setDefault(c, "nats.listen", &c.NATS.Listen, defaultNATSListen)
	setDefault(c, "nats.replicas", &c.NATS.Replicas, defaultReplicas)
	setDefault(c, "http.listen", &c.HTTP.Listen, defaultHTTPListen)
	setDefault(c, "fetch.timeout", &c.Fetch.Timeout, defaultTimeout)
	setDefault(c, "fetch.max_body_bytes", &c.Fetch.MaxBodyBytes, defaultMaxBodyBytes)
	setDefault(c, "fetch.per_host_concurrency", &c.Fetch.PerHostConcurrency, defaultPerHostConcurrency)
	setDefault(c, "log.level", &c.Log.Level, defaultLogLevel)
	setDefault(c, "log.format", &c.Log.Format, defaultLogFormat)
	for i := range c.Feeds {
		setDefault(c, fmt.Sprintf("feeds[%d].schedule", i), &c.Feeds[i].Schedule, defaultFeedSchedule)
	}
	for i := range c.Alerts {
		setDefault(c, fmt.Sprintf("alerts[%d].kind", i), &c.Alerts[i].Kind, defaultAlertKind)
	}
	for i := range c.Notify {
		n := &c.Notify[i]
		// Only a valid type yields a name; an invalid one is reported once,
		// at the type, not again as an invalid derived name.
		if notifyTypes[n.Type] {
			setDefault(c, fmt.Sprintf("notify[%d].name", i), &n.Name, fmt.Sprintf("%s-%d", n.Type, i))
		}
	}
}

// setDefault stores def in *field when path was absent from the file.
func setDefault[T any](c *Config, path string, field *T, def T) {
	if !c.has(path) {
		*field = def
	}
}
