package config

import (
	"slices"
	"strings"
)

// redacted replaces secret values in printouts.
const redacted = "<redacted>"

// Query parameters whose values Redacted hides: names containing one of
// secretWords, or ending in one of secretSuffixes ("api_key", "apikey",
// "sig"), compared in lower case.
var (
	secretWords    = []string{"token", "secret", "password", "passwd", "credential"}
	secretSuffixes = []string{"key", "sig", "signature", "auth"}
)

// Redacted returns a deep copy of c that is safe to print: the NATS token
// and password, notify secrets, the user info of every URL, secret-looking
// query parameters, and the path of Slack webhook URLs (which is the
// credential) are replaced by "<redacted>". Empty values stay empty so a
// printout still shows what is unset. Positions and the file name are kept.
func (c *Config) Redacted() *Config {
	r := c.clone()
	r.NATS.Token = redactSecret(r.NATS.Token)
	r.HTTP.Token = redactSecret(r.HTTP.Token)
	r.NATS.Password = redactSecret(r.NATS.Password)
	if r.NATS.URL != "" {
		servers := strings.Split(r.NATS.URL, ",")
		for i, s := range servers {
			servers[i] = redactURL(s)
		}
		r.NATS.URL = strings.Join(servers, ",")
	}
	for i := range r.Feeds {
		r.Feeds[i].URL = redactURL(r.Feeds[i].URL)
	}
	for i := range r.Notify {
		n := &r.Notify[i]
		n.Secret = redactSecret(n.Secret)
		n.Password = redactSecret(n.Password)
		n.URL = redactURL(n.URL)
		if n.Type == "slack" {
			n.URL = redactPath(n.URL)
		}
	}
	return r
}

// clone returns a copy of c that shares no slices with it. The position
// map is shared: it is never modified after Parse.
func (c *Config) clone() *Config {
	r := *c
	r.Fetch.AllowNetworks = slices.Clone(c.Fetch.AllowNetworks)
	r.Feeds = slices.Clone(c.Feeds)
	r.Topics = slices.Clone(c.Topics)
	for i := range r.Topics {
		ex := &r.Topics[i].Examples
		ex.Match = slices.Clone(ex.Match)
		ex.NoMatch = slices.Clone(ex.NoMatch)
	}
	r.Alerts = slices.Clone(c.Alerts)
	r.Notify = slices.Clone(c.Notify)
	for i := range r.Notify {
		r.Notify[i].Topics = slices.Clone(r.Notify[i].Topics)
		r.Notify[i].To = slices.Clone(r.Notify[i].To)
	}
	return &r
}

func redactSecret(s string) string {
	if s == "" {
		return ""
	}
	return redacted
}

// splitURL cuts a URL, with or without a scheme, into the part before the
// authority, the authority, and the rest (path, query, fragment). It works
// on text rather than url.Parse so that even an invalid URL is redacted.
func splitURL(s string) (prefix, authority, rest string) {
	if i := strings.Index(s, "://"); i >= 0 {
		prefix, s = s[:i+3], s[i+3:]
	}
	end := strings.IndexAny(s, "/?#")
	if end < 0 {
		end = len(s)
	}
	return prefix, s[:end], s[end:]
}

// redactURL hides the user info and secret-looking query values of a URL.
func redactURL(s string) string {
	prefix, authority, rest := splitURL(s)
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		authority = redacted + authority[at:]
	}
	return prefix + authority + redactQuery(rest)
}

// redactQuery hides the values of secret-looking parameters in the query
// part of rest, keeping their order and the fragment.
func redactQuery(rest string) string {
	path, query, hasQuery := strings.Cut(rest, "?")
	if !hasQuery {
		return rest
	}
	query, fragment, hasFragment := strings.Cut(query, "#")
	params := strings.Split(query, "&")
	for i, p := range params {
		name, _, hasValue := strings.Cut(p, "=")
		if hasValue && isSecretParam(name) {
			params[i] = name + "=" + redacted
		}
	}
	out := path + "?" + strings.Join(params, "&")
	if hasFragment {
		out += "#" + fragment
	}
	return out
}

func isSecretParam(name string) bool {
	name = strings.ToLower(name)
	return slices.ContainsFunc(secretWords, func(w string) bool { return strings.Contains(name, w) }) ||
		slices.ContainsFunc(secretSuffixes, func(s string) bool { return strings.HasSuffix(name, s) })
}

// redactPath hides the path, query and fragment of a URL, for webhook URLs
// whose path is itself the credential.
func redactPath(s string) string {
	prefix, authority, rest := splitURL(s)
	if rest == "" {
		return s
	}
	return prefix + authority + "/" + redacted
}
