package config

import (
	"fmt"
	"math"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/newswatch/newswatch/topics"
)

var (
	logLevels   = map[string]bool{"debug": true, "info": true, "warn": true, "error": true}
	logFormats  = map[string]bool{"auto": true, "json": true, "text": true}
	alertKinds  = map[string]bool{"match": true, "spike": true, "digest": true}
	notifyTypes = map[string]bool{"webhook": true, "slack": true, "email": true}
)

// Validate checks the whole configuration and returns every problem as
// Errors, sorted by position, or nil when the configuration is valid.
// Problems are positioned at the offending value, or at its parent when a
// required key is missing.
func (c *Config) Validate() error {
	return c.validate(nil).asError()
}

// validate runs every check. Paths in tainted already had a decoding error
// and are not reported again.
func (c *Config) validate(tainted map[string]bool) Errors {
	v := &validator{c: c, tainted: tainted}
	v.required("data_dir", c.DataDir)
	v.nats()
	v.listenAddr("http.listen", c.HTTP.Listen, "127.0.0.1:8080")
	v.allowedHosts()
	v.fetch()
	v.ingest()
	v.oneOf("log.level", c.Log.Level, "level", "debug, info, warn or error", logLevels)
	v.oneOf("log.format", c.Log.Format, "format", "auto, json or text", logFormats)
	v.feeds()
	v.topics()
	v.alerts()
	v.notify()
	v.silences()
	v.cluster()
	v.websub()
	return v.errs
}

// validator collects problems, skipping paths that failed to decode.
type validator struct {
	c       *Config
	tainted map[string]bool
	errs    Errors
}

// errorf reports a problem with the value at path.
func (v *validator) errorf(path, format string, args ...any) {
	if !v.isTainted(path) {
		v.errs = append(v.errs, v.c.Errorf(path, format, args...))
	}
}

// isTainted reports whether path or one of its ancestors failed to decode.
func (v *validator) isTainted(path string) bool {
	for p := path; ; p = parentPath(p) {
		if v.tainted[p] {
			return true
		}
		if p == "" {
			return false
		}
	}
}

// required reports an empty string at path: as "must not be empty" when
// the key was written, else as a missing key at the parent. It returns
// whether the value is non-empty.
func (v *validator) required(path, value string) bool {
	switch {
	case value != "":
		return true
	case v.isTainted(path):
	case v.c.has(path):
		v.errorf(path, "must not be empty")
	default:
		parent, key := parentPath(path), path[strings.LastIndexAny(path, ".")+1:]
		v.errorf(parent, "%s is required", key)
	}
	return false
}

// oneOf reports a value that is not in the allowed set.
func (v *validator) oneOf(path, value, noun, allowed string, set map[string]bool) bool {
	if set[value] {
		return true
	}
	v.errorf(path, "unknown %s %s (use %s)", noun, quote(value), allowed)
	return false
}

// firstAt describes where the first occurrence of a duplicated value is.
func (v *validator) firstAt(path string) string {
	if p := v.c.lookup(path); p.line > 0 {
		return fmt.Sprintf("line %d", p.line)
	}
	return path
}

// listenAddr checks an optional host:port listen address.
func (v *validator) listenAddr(path, addr, example string) {
	if addr != "" && !isHostPort(addr) {
		v.errorf(path, "%s is not a host:port address such as %s", quote(addr), example)
	}
}

func (v *validator) positive(path string, n int64) {
	if n <= 0 {
		v.errorf(path, "must be positive, got %d", n)
	}
}

func (v *validator) nonNegative(path string, d time.Duration) {
	if d < 0 {
		v.errorf(path, "must not be negative, got %s", d)
	}
}

// schedule checks a cron spec, including the @every floor of one second.
func (v *validator) schedule(path, spec string) {
	if err := checkSchedule(spec); err != nil {
		v.errorf(path, "%v", err)
	}
}

func (v *validator) nats() {
	if v.c.NATS.MaxStore < 0 {
		v.errorf("nats.max_store", "must not be negative, got %d", v.c.NATS.MaxStore)
	}
	n := v.c.NATS
	if n.URL != "" {
		for _, s := range strings.Split(n.URL, ",") {
			if s = strings.TrimSpace(s); !isNATSServer(s) {
				v.errorf("nats.url", "%s is not a NATS server address: use nats://, tls://, ws:// or wss:// URLs, or host:port, separated by commas", quote(redactURL(s)))
			}
		}
	}
	v.listenAddr("nats.listen", n.Listen, "127.0.0.1:4222")
	switch {
	case n.Replicas < 1 || n.Replicas > 5:
		v.errorf("nats.replicas", "must be between 1 and 5, got %d", n.Replicas)
	case n.Replicas > 1 && n.URL == "":
		v.errorf("nats.replicas", "%d replicas need a NATS cluster: set nats.url, or use 1 with the embedded server", n.Replicas)
	}
	auth := 0
	for _, s := range []string{n.Creds, n.Token, n.User + n.Password} {
		if s != "" {
			auth++
		}
	}
	if auth > 1 {
		v.errorf("nats", "use only one of creds, token and user/password")
	}
	if (n.TLS.Cert == "") != (n.TLS.Key == "") {
		v.errorf("nats.tls", "cert and key must be given together")
	}
}

func (v *validator) fetch() {
	f := v.c.Fetch
	if f.Timeout <= 0 {
		v.errorf("fetch.timeout", "must be positive, got %s", f.Timeout)
	}
	v.positive("fetch.max_body_bytes", f.MaxBodyBytes)
	v.positive("fetch.per_host_concurrency", int64(f.PerHostConcurrency))
	if strings.ContainsFunc(f.UserAgent, isControl) {
		v.errorf("fetch.user_agent", "must not contain control characters")
	}
	for i, s := range f.AllowNetworks {
		if _, err := netip.ParsePrefix(s); err != nil {
			v.errorf(fmt.Sprintf("fetch.allow_networks[%d]", i),
				"%s is not a CIDR prefix such as 10.0.0.0/8 or fd00::/8", quote(s))
		}
	}
}

// id checks that an id at path is well formed and unique in seen, which
// maps ids to the path of their first occurrence.
func (v *validator) id(path, id, kind string, seen map[string]string) {
	if !v.required(path, id) {
		return
	}
	if !isID(id) {
		v.errorf(path, "invalid %s %s: use 1 to %d characters from a-z, 0-9 and -", kind, quote(id), maxIDLen)
		return
	}
	if first, dup := seen[id]; dup {
		v.errorf(path, "duplicate %s %s (first defined at %s)", kind, quote(id), v.firstAt(first))
		return
	}
	seen[id] = path
}

func (v *validator) feeds() {
	seen := make(map[string]string)
	for i, f := range v.c.Feeds {
		p := fmt.Sprintf("feeds[%d]", i)
		v.id(p+".id", f.ID, "feed id", seen)
		if v.required(p+".url", f.URL) && !isFeedURL(f.URL) {
			v.errorf(p+".url", "%s is not a feed URL: use http:// or https:// with a host, or file:// with a path", quote(f.URL))
		}
		if v.required(p+".schedule", f.Schedule) {
			v.schedule(p+".schedule", f.Schedule)
		}
		for j, tag := range f.Tags {
			if !topics.ValidTag(tag) {
				v.errorf(fmt.Sprintf("%s.tags[%d]", p, j), "invalid tag %s: use 1 to %d characters from a-z, 0-9 and -", quote(tag), topics.MaxTagLen)
			}
		}
	}
}

func (v *validator) topics() {
	seen := make(map[string]string)
	for i, t := range v.c.Topics {
		p := fmt.Sprintf("topics[%d]", i)
		v.id(p+".id", t.ID, "topic id", seen)
		v.required(p+".query", t.Query)
		for j, e := range t.Examples.Match {
			v.example(fmt.Sprintf("%s.examples.match[%d]", p, j), e)
		}
		for j, e := range t.Examples.NoMatch {
			v.example(fmt.Sprintf("%s.examples.no_match[%d]", p, j), e)
		}
	}
}

// example checks that an example has exactly one of file and text, and
// that its file can be read.
func (v *validator) example(path string, e Example) {
	switch {
	case e.File == "" && e.Text == "":
		v.errorf(path, "give either file or text")
	case e.File != "" && e.Text != "":
		v.errorf(path, "give either file or text, not both")
	case e.File != "" && e.Title != "":
		v.errorf(path+".title", "title goes with text; a file carries its own title")
	case e.File != "":
		if _, err := os.Stat(v.c.Resolve(e.File)); err != nil {
			v.errorf(path+".file", "cannot read example %s: %v", quote(v.c.Resolve(e.File)), unwrapPath(err))
		}
	}
}

// alertKeys are the kind-specific keys of alert rules, with the kind they belong to: a key
// set on a rule of another kind is a mistake (a spike rule given a schedule), not ignored.
var alertKeys = []struct{ key, kind string }{
	{"group_wait", "match"}, {"min_interval", "match"},
	{"window", "spike"}, {"threshold", "spike"}, {"min_sources", "spike"}, {"cooldown", "spike"}, {"time_zone", "spike"},
	{"schedule", "digest"}, {"send_empty", "digest"}, {"top", "digest"},
}

func (v *validator) alerts() {
	topics := v.topicIDs()
	digests := map[string]string{}
	for i, a := range v.c.Alerts {
		p := fmt.Sprintf("alerts[%d]", i)
		if v.required(p+".topic", a.Topic) {
			v.topicRef(p+".topic", a.Topic, topics)
		}
		if !v.oneOf(p+".kind", a.Kind, "kind", "match, spike or digest", alertKinds) {
			continue
		}
		misplaced := map[string]bool{}
		for _, k := range alertKeys {
			if k.kind != a.Kind && v.c.has(p+"."+k.key) {
				v.errorf(p+"."+k.key, "%s applies to %s rules only, and this rule is kind %s", k.key, k.kind, a.Kind)
				misplaced[k.key] = true
			}
		}
		check := func(key string, bad bool, format string, args ...any) {
			if bad && !misplaced[key] {
				v.errorf(p+"."+key, format, args...)
			}
		}
		check("group_wait", a.GroupWait < 0, "must not be negative, got %v", a.GroupWait)
		check("min_interval", a.MinInterval < 0, "must not be negative, got %v", a.MinInterval)
		check("cooldown", a.Cooldown < 0, "must not be negative, got %v", a.Cooldown)
		check("window", a.Window < 0 || a.Window > 7*24*time.Hour, "must be between 0 and 168h, got %v", a.Window)
		check("threshold", a.Threshold < 0 || math.IsNaN(a.Threshold) || math.IsInf(a.Threshold, 0),
			"must be a finite number ≥ 0, got %v", a.Threshold)
		check("min_sources", a.MinSources < 0, "must not be negative, got %d", a.MinSources)
		check("top", a.Top < 0, "must not be negative, got %d", a.Top)
		if a.TimeZone != "" && !misplaced["time_zone"] {
			if _, err := time.LoadLocation(a.TimeZone); err != nil {
				v.errorf(p+".time_zone", "unknown time zone %s: use an IANA name such as Europe/Berlin or Asia/Seoul", quote(a.TimeZone))
			}
		}
		switch a.Kind {
		case "digest":
			if v.required(p+".schedule", a.Schedule) {
				v.schedule(p+".schedule", a.Schedule)
				key := a.Topic + " " + a.Schedule
				if first, dup := digests[key]; dup {
					v.errorf(p+".schedule", "topic %s already has a digest with this schedule at %s", a.Topic, first)
				}
				digests[key] = v.firstAt(p)
			}
		case "spike":
			for j, b := range v.c.Alerts[:i] {
				if b.Kind == "spike" && b.Topic == a.Topic && a.Topic != "" {
					v.errorf(p+".topic", "topic %s already has a spike rule (alerts[%d])", a.Topic, j)
					break
				}
			}
		}
	}
}

func (v *validator) notify() {
	topics := v.topicIDs()
	seen := make(map[string]string)
	for i, n := range v.c.Notify {
		p := fmt.Sprintf("notify[%d]", i)
		if n.Name != "" || v.c.has(p+".name") {
			v.id(p+".name", n.Name, "notify name", seen)
		}
		if v.required(p+".type", n.Type) {
			v.oneOf(p+".type", n.Type, "type", "webhook, slack or email", notifyTypes)
		}
		if n.Type == "email" {
			v.email(p, n)
		} else if v.required(p+".url", n.URL) && !isHTTPURL(n.URL) {
			v.errorf(p+".url", "%s is not an http:// or https:// URL with a host", quote(redactURL(n.URL)))
		}
		for j, t := range n.Topics {
			v.topicRef(fmt.Sprintf("%s.topics[%d]", p, j), t, topics)
		}
		for j, k := range n.Kinds {
			v.oneOf(fmt.Sprintf("%s.kinds[%d]", p, j), k, "kind", "match, spike or digest", alertKinds)
		}
		v.nonNegative(p+".max_age", n.MaxAge)
	}
}

func (v *validator) silences() {
	topics := v.topicIDs()
	for i, s := range v.c.Silences {
		p := fmt.Sprintf("silences[%d]", i)
		if v.required(p+".topic", s.Topic) {
			v.topicRef(p+".topic", s.Topic, topics)
		}
		if v.required(p+".until", s.Until) {
			if _, err := time.Parse(time.RFC3339, s.Until); err != nil {
				v.errorf(p+".until", "%s is not an RFC 3339 time such as 2026-12-31T18:00:00Z", quote(s.Until))
			}
		}
	}
}

// topicIDs lists the defined topic ids in order.
func (v *validator) topicIDs() []string {
	ids := make([]string, 0, len(v.c.Topics))
	for _, t := range v.c.Topics {
		ids = append(ids, t.ID)
	}
	return ids
}

// topicRef reports a reference to a topic that is not defined.
func (v *validator) topicRef(path, id string, topics []string) {
	for _, t := range topics {
		if t == id {
			return
		}
	}
	hint := ""
	if s, ok := suggest(id, topics); ok {
		hint = fmt.Sprintf(" (did you mean %s?)", quote(s))
	}
	v.errorf(path, "unknown topic %s%s", quote(id), hint)
}
