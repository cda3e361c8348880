package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/robfig/cron/v3"
)

// maxIDLen bounds feed, topic and notify ids: they become NATS subject
// tokens and metric label values.
const maxIDLen = 64

// isID reports whether s is 1 to maxIDLen characters from [a-z0-9-].
func isID(s string) bool {
	if s == "" || len(s) > maxIDLen {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}

// isFeedURL accepts http(s) URLs with a host and file URLs with a path on
// the local host.
func isFeedURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "http", "https":
		return u.Host != "" && u.Hostname() != ""
	case "file":
		if u.Opaque != "" { // file:relative/path, resolved against the config's directory
			return true
		}
		return (u.Host == "" || u.Host == "localhost") && u.Path != "" && u.Path != "/"
	}
	return false
}

// isHTTPURL accepts http(s) URLs with a host.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Hostname() != ""
}

// isNATSServer accepts one entry of a NATS server list: a nats://, tls://,
// ws:// or wss:// URL with a host, or a bare host:port.
func isNATSServer(s string) bool {
	if !strings.Contains(s, "://") {
		if _, hostport, ok := strings.Cut(s, "@"); ok {
			s = hostport
		}
		host, _, err := net.SplitHostPort(s)
		return err == nil && host != "" && isHostPort(s)
	}
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" {
		return false
	}
	switch u.Scheme {
	case "nats", "tls", "ws", "wss":
		return u.Port() == "" || isHostPort(u.Host)
	}
	return false
}

// isHostPort accepts "host:port" and ":port" with a numeric port.
func isHostPort(s string) bool {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return false
	}
	_, err = strconv.ParseUint(port, 10, 16)
	return err == nil
}

// checkSchedule parses spec as robfig/cron does at run time, and rejects
// @every intervals under one second, which cron would silently round up.
func checkSchedule(spec string) error {
	body := spec
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		var ok bool
		if _, body, ok = strings.Cut(spec, " "); !ok {
			return fmt.Errorf("invalid cron spec %s: a time zone must be followed by a schedule", quote(spec))
		}
	}
	if _, err := parseCron(spec); err != nil {
		return fmt.Errorf("invalid cron spec %s: %v (use a spec such as \"*/10 * * * *\" or \"@every 5m\")", quote(spec), err)
	}
	if rest, ok := strings.CutPrefix(strings.TrimSpace(body), "@every "); ok {
		if d, err := time.ParseDuration(strings.TrimSpace(rest)); err == nil && d < time.Second {
			return fmt.Errorf("%s is too frequent; the minimum is @every 1s", quote(spec))
		}
	}
	return nil
}

// parseCron calls cron.ParseStandard, turning a panic into an error: the
// parser panics on some input (such as "TZ=UTC" with nothing after it), and
// a bad config must never crash the binary.
func parseCron(spec string) (s cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return cron.ParseStandard(spec)
}

func isControl(r rune) bool { return unicode.IsControl(r) }

// unwrapPath drops the operation and path from a *fs.PathError, which the
// message around it already names.
func unwrapPath(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	return err
}

// allowedHosts checks http.allowed_hosts: names as they appear in a Host header.
func (v *validator) allowedHosts() {
	for i, h := range v.c.HTTP.AllowedHosts {
		if h == "" || strings.ContainsAny(h, "/@ ") {
			v.errorf(fmt.Sprintf("http.allowed_hosts[%d]", i), "%s is not a host name: write it as in a Host header, e.g. newswatch or news.example.org:8443", quote(h))
		}
	}
}
