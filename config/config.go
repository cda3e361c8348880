// Package config loads, defaults and validates the newswatch YAML
// configuration.
//
// Decoding is strict: unknown keys, duplicate keys and values of the wrong
// type are errors, and every problem in a file is reported at once, each at
// the file:line:column it concerns. Keys left out of the file take their
// defaults; keys given explicitly keep their value even when it is a zero
// value, so an invalid explicit value is reported rather than silently
// replaced.
package config

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"
)

// BuiltinFile is the file name that positions in the built-in default
// configuration refer to.
const BuiltinFile = "<built-in>"

//go:embed default.yaml
var defaultYAML []byte

// Config is the whole newswatch configuration. See docs/config.md for the
// meaning and default of every key.
type Config struct {
	DataDir string `yaml:"data_dir"`
	NATS    NATS   `yaml:"nats"`
	HTTP    HTTP   `yaml:"http"`
	Fetch   Fetch  `yaml:"fetch"`
	Ingest  Ingest `yaml:"ingest"`
	// MemoryLimit is the Go runtime's soft memory limit in bytes (debug.SetMemoryLimit); 0
	// derives it from the ingest pipeline's ceiling. The GOMEMLIMIT environment variable,
	// when set, wins.
	MemoryLimit int64    `yaml:"memory_limit"`
	Log         Log      `yaml:"log"`
	Feeds       []Feed   `yaml:"feeds"`
	Topics      []Topic  `yaml:"topics"`
	Alerts      []Alert  `yaml:"alerts"`
	Notify      []Notify `yaml:"notify"`
	// Silences suppress a topic's alerts until a time.
	Silences []Silence `yaml:"silences"`
	Cluster  Cluster   `yaml:"cluster"`
	WebSub   WebSub    `yaml:"websub"`

	file string              // file the config was parsed from
	pos  map[string]position // config path → position of its value
}

// position is a 1-based line and column in the config file.
type position struct{ line, col int }

// NATS says where the event log lives: an embedded server (URL empty) or an
// existing NATS cluster.
type NATS struct {
	URL      string `yaml:"url"`
	Listen   string `yaml:"listen"`
	Creds    string `yaml:"creds"`
	Token    string `yaml:"token"`
	User     string `yaml:"user"`
	Password string `yaml:"password"`
	TLS      TLS    `yaml:"tls"`
	Replicas int    `yaml:"replicas"`
	// MaxStore caps the embedded server's JetStream file storage, in bytes (0: derived from
	// the free disk at start).
	MaxStore int64 `yaml:"max_store"`
}

// TLS holds the client TLS settings for connecting to NATS.
type TLS struct {
	CA         string `yaml:"ca"`
	Cert       string `yaml:"cert"`
	Key        string `yaml:"key"`
	ServerName string `yaml:"server_name"`
}

// HTTP configures the API, metrics and health endpoint.
type HTTP struct {
	Listen string `yaml:"listen"`
	// Token, when set, is the bearer token that requests changing state (silences) must carry.
	// Without it, such requests are accepted only on a loopback listener.
	Token string `yaml:"token"`
	// AllowedHosts are host names, besides IP addresses, localhost and the listen address's
	// host, that clients use in the Host header (a proxy's or a service's name).
	AllowedHosts []string `yaml:"allowed_hosts"`
}

// Fetch configures how feeds are downloaded.
type Fetch struct {
	AllowPrivateNetworks bool          `yaml:"allow_private_networks"`
	Timeout              time.Duration `yaml:"timeout"`
	MaxBodyBytes         int64         `yaml:"max_body_bytes"`
	PerHostConcurrency   int           `yaml:"per_host_concurrency"`
	UserAgent            string        `yaml:"user_agent"`
	AllowNetworks        []string      `yaml:"allow_networks"`
}

// Log configures the process log.
type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// Feed is one RSS, Atom or JSON Feed source.
type Feed struct {
	ID       string `yaml:"id"`
	Name     string `yaml:"name"`
	URL      string `yaml:"url"`
	Schedule string `yaml:"schedule"`
	// Tags group feeds (an OPML import keeps its folders as tags); topics scope on them with
	// tag:TAG (docs/query-language.md).
	Tags []string `yaml:"tags"`
	// FullText fetches each new article's page and extracts its main text, for feeds that
	// carry only teasers (docs/sources.md).
	FullText bool `yaml:"full_text"`
}

// Topic is an analyst's boolean query with optional example articles that
// must or must not match it.
type Topic struct {
	ID       string   `yaml:"id"`
	Name     string   `yaml:"name"`
	Query    string   `yaml:"query"`
	Examples Examples `yaml:"examples"`
}

// Examples are articles a topic's query is checked against.
type Examples struct {
	Match   []Example `yaml:"match"`
	NoMatch []Example `yaml:"no_match"`
}

// Example is one example article, given either as a file (relative to the
// config file's directory, see Config.Resolve) or inline as title and text.
type Example struct {
	Name  string `yaml:"name"`
	File  string `yaml:"file"`
	Title string `yaml:"title"`
	Text  string `yaml:"text"`
}

// Alert is a rule that fires alerts for a topic. Which of the kind-specific
// keys apply is defined by the alerts package.
type Alert struct {
	Topic       string        `yaml:"topic"`
	Kind        string        `yaml:"kind"`
	GroupWait   time.Duration `yaml:"group_wait"`
	MinInterval time.Duration `yaml:"min_interval"`
	Window      time.Duration `yaml:"window"`
	Threshold   float64       `yaml:"threshold"`
	MinSources  int           `yaml:"min_sources"`
	Cooldown    time.Duration `yaml:"cooldown"`
	TimeZone    string        `yaml:"time_zone"`
	Schedule    string        `yaml:"schedule"`
	SendEmpty   bool          `yaml:"send_empty"`
	Top         int           `yaml:"top"`
}

// Location is the spike rule's time zone (UTC when unset or invalid; Validate reports an
// invalid one).
func (a Alert) Location() *time.Location {
	if a.TimeZone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(a.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Notify is one alert receiver.
type Notify struct {
	Name   string   `yaml:"name"`
	Type   string   `yaml:"type"`
	URL    string   `yaml:"url"`
	Secret string   `yaml:"secret"`
	Topics []string `yaml:"topics"`
	// Kinds are the alert kinds the receiver gets (default: all).
	Kinds []string `yaml:"kinds"`
	// MaxAge is how long an undelivered alert is retried before it is dead-lettered.
	MaxAge time.Duration `yaml:"max_age"`
	// E-mail receivers (type: email): the SMTP server's host:port, the sender and the
	// recipients, optional credentials, and whether STARTTLS is required (else used when the
	// server offers it).
	SMTP     string   `yaml:"smtp"`
	From     string   `yaml:"from"`
	To       []string `yaml:"to"`
	Username string   `yaml:"username"`
	Password string   `yaml:"password"`
	StartTLS bool     `yaml:"starttls"`
}

// Silence suppresses a topic's alerts until Until (RFC 3339).
type Silence struct {
	Topic   string `yaml:"topic"`
	Until   string `yaml:"until"`
	Comment string `yaml:"comment"`
}

// UntilTime is the parsed expiry of a validated silence.
func (s Silence) UntilTime() time.Time {
	t, _ := time.Parse(time.RFC3339, s.Until)
	return t
}

// Load reads, decodes, defaults and validates the config file at path. Any
// error is an Errors value; a file that cannot be read yields one Error
// that wraps the cause (so errors.Is(err, fs.ErrNotExist) works).
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		cause := err
		if pe, ok := errors.AsType[*fs.PathError](err); ok {
			cause = pe.Err
		}
		return nil, Errors{{File: path, Msg: "cannot read config: " + cause.Error(), err: err}}
	}
	return Parse(data, path)
}

// Parse decodes, defaults and validates a config document. file names the
// document in error messages and anchors relative paths (see Resolve). On
// error Parse returns nil and an Errors value holding every problem found.
func Parse(data []byte, file string) (*Config, error) {
	c, err := ParsePartial(data, file)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// LoadPartial is Load that also returns the configuration as far as it could be decoded when
// it has problems, so that a caller can look for more (topic queries and their examples) and
// report every problem at once. The configuration is nil when the file cannot be read or is
// not YAML. A configuration that comes with an error must not be run.
func LoadPartial(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		_, err := Load(path)
		return nil, err
	}
	return ParsePartial(data, path)
}

// ParsePartial is Parse that also returns the configuration with its problems (see
// LoadPartial).
func ParsePartial(data []byte, file string) (*Config, error) {
	root, err := parseDocument(data, file)
	if err != nil {
		return nil, err
	}
	c := &Config{file: file}
	d := newDecoder(file)
	d.decode(root, "", reflect.ValueOf(c).Elem())
	c.pos = d.pos
	c.applyDefaults()
	errs := append(d.errs, c.validate(d.tainted)...)
	if len(errs) == 0 {
		c.resolveFileFeeds()
		return c, nil
	}
	errs.sort()
	if len(errs) > maxErrors {
		errs = append(errs[:maxErrors], &Error{File: file, Msg: "too many problems; fix these and run again"})
	}
	return c, errs
}

// Default returns the built-in configuration used when newswatch runs
// without a config file: embedded NATS in ./data, the API on loopback, one
// topic and a handful of public world-news feeds that cover it.
func Default() *Config {
	c, err := Parse(defaultYAML, BuiltinFile)
	if err != nil {
		// A test guards the embedded file; reaching this is a build defect.
		panic("config: built-in default is invalid:\n" + err.Error())
	}
	return c
}

// File returns the name of the file the config was parsed from, or "" for
// a config built in code.
func (c *Config) File() string { return c.file }

// Position returns the line and column of the value at a config path such
// as "nats.url", "feeds[2].id" or "topics[0].examples.match[1].file". ok is
// false when the path was not present in the file.
func (c *Config) Position(path string) (line, col int, ok bool) {
	p, ok := c.pos[path]
	return p.line, p.col, ok
}

// Errorf returns an Error about the value at a config path, positioned at
// that value, or at its nearest present ancestor when the key is absent.
// The message is prefixed with the path. Other packages use it to report
// problems the config package cannot check itself, such as query syntax.
func (c *Config) Errorf(path, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	p := c.lookup(path)
	return &Error{File: c.file, Line: p.line, Col: p.col, Msg: msg}
}

// Resolve returns p unchanged when it is absolute or empty, and otherwise
// joined to the directory of the config file, which is how example files
// are located.
func (c *Config) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) || c.file == "" || c.file == BuiltinFile {
		return p
	}
	return filepath.Join(filepath.Dir(c.file), p)
}

// resolveFileFeeds turns relative file feeds (file:feeds/x.xml) into absolute file URLs,
// relative to the config file's directory (the working directory for the built-in config).
func (c *Config) resolveFileFeeds() {
	for i, f := range c.Feeds {
		u, err := url.Parse(f.URL)
		if err != nil || u.Scheme != "file" || u.Opaque == "" {
			continue
		}
		p := c.Resolve(filepath.FromSlash(u.Opaque))
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		c.Feeds[i].URL = (&url.URL{Scheme: "file", Path: filepath.ToSlash(p)}).String()
	}
}

// lookup finds the position of path or of its nearest ancestor present in
// the file; the zero position means unknown.
func (c *Config) lookup(path string) position {
	for {
		if p, ok := c.pos[path]; ok {
			return p
		}
		if path == "" {
			return position{}
		}
		path = parentPath(path)
	}
}

// has reports whether path was present in the file.
func (c *Config) has(path string) bool {
	_, ok := c.pos[path]
	return ok
}

// parentPath strips the last ".key" or "[i]" from a config path.
func parentPath(path string) string {
	if i := strings.LastIndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return ""
}
