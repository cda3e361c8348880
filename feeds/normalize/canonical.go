package normalize

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrBadURL is returned, wrapped, by CanonicalURL for a URL that is not an absolute http(s) URL.
var ErrBadURL = errors.New("normalize: not an absolute http(s) URL")

// trackingParams are query parameters that identify a click or a campaign, not a document.
// Besides every parameter starting with utm_, CanonicalURL drops, in any letter case:
//
//	fbclid              Facebook click id
//	gclid, gclsrc       Google Ads click id and its source
//	dclid               Google Display (DoubleClick) click id
//	gbraid, wbraid      Google Ads app/web click ids (iOS)
//	_ga, _gl            Google Analytics cross-domain linker
//	msclkid             Microsoft Ads click id
//	yclid               Yandex Direct click id
//	igshid              Instagram share id
//	twclid              Twitter/X Ads click id
//	mc_cid, mc_eid      Mailchimp campaign and subscriber ids
//	_hsenc, _hsmi       HubSpot e-mail tracking
//	mkt_tok             Marketo e-mail tracking
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "gclsrc": true, "dclid": true, "gbraid": true, "wbraid": true,
	"_ga": true, "_gl": true, "msclkid": true, "yclid": true, "igshid": true, "twclid": true,
	"mc_cid": true, "mc_eid": true, "_hsenc": true, "_hsmi": true, "mkt_tok": true,
}

// CanonicalURL returns the canonical form of an absolute http(s) URL (PRODUCT §5), the form
// under which two links to one article compare equal:
//   - scheme and host in lower case (an internationalized host is lower-cased as Unicode, not
//     converted to punycode), trailing dots on the host removed;
//   - the default port (:80 for http, :443 for https) and an empty port dropped;
//   - an empty path becomes "/"; the path is otherwise kept, in its escaped form;
//   - percent-escapes get upper-case hex digits, and characters a URL may not contain
//     (space, non-ASCII, controls, "<>\^`{|}) are percent-encoded, in path and query;
//   - the fragment removed;
//   - tracking parameters removed from the query (see trackingParams); every other
//     parameter kept as it is (but for the escaping above) and in its original order, which
//     can matter to the server; empty parameters dropped; an empty query removed with its "?".
//
// User info is kept. Anything else (other schemes, relative URLs, no host, IPv6 zones,
// unparseable input) is an error wrapping ErrBadURL. CanonicalURL is idempotent.
func CanonicalURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("%w: %q", ErrBadURL, raw)
	}
	host, err := canonicalHost(u, scheme)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %w", ErrBadURL, raw, err)
	}
	var b strings.Builder
	b.Grow(len(raw))
	b.WriteString(scheme)
	b.WriteString("://")
	if u.User != nil {
		b.WriteString(u.User.String())
		b.WriteByte('@')
	}
	b.WriteString(host)
	if p := u.EscapedPath(); p != "" {
		writeEscaped(&b, p)
	} else {
		b.WriteByte('/')
	}
	if q := cleanQuery(u.RawQuery); q != "" {
		b.WriteByte('?')
		b.WriteString(q)
	}
	return b.String(), nil
}

// canonicalHost returns the lower-cased host with its port, if any and not the default.
func canonicalHost(u *url.URL, scheme string) (string, error) {
	if u.Opaque != "" {
		return "", errors.New("no host")
	}
	if !utf8.ValidString(u.Hostname()) {
		return "", errors.New("host is not UTF-8")
	}
	host := strings.TrimRight(strings.ToLower(u.Hostname()), ".")
	if host == "" {
		return "", errors.New("no host")
	}
	port := u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") { // IPv6 literal; a zone (link-local) has no place in a feed
		if strings.Contains(host, "%") || net.ParseIP(host) == nil {
			return "", fmt.Errorf("bad IPv6 host %q", host)
		}
		host = "[" + host + "]"
	} else if strings.ContainsAny(host, " \"<>`{}|^%@/?#[]\\\x7f") || strings.ContainsFunc(host, unicode.IsControl) {
		return "", fmt.Errorf("bad host %q", host)
	}
	if port != "" {
		host += ":" + port
	}
	return host, nil
}

// cleanQuery drops tracking and empty parameters from a raw query, keeping the others as they
// are and in order.
func cleanQuery(raw string) string {
	if raw == "" {
		return ""
	}
	var b strings.Builder
	for raw != "" {
		var param string
		param, raw, _ = strings.Cut(raw, "&")
		if param == "" || isTracking(param) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		writeEscaped(&b, param)
	}
	return b.String()
}

const upperHex = "0123456789ABCDEF"

// writeEscaped writes s with the hex digits of its percent-escapes in upper case and with
// the bytes a URL may not contain (controls, space, non-ASCII, "<>\"^`{|}) percent-encoded,
// so that the spellings of one URL that RFC 3986 calls equivalent become one.
func writeEscaped(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte('%')
			b.WriteByte(upper(s[i+1]))
			b.WriteByte(upper(s[i+2]))
			i += 2
		case c <= ' ' || c >= 0x7f || strings.IndexByte("\"<>\\^`{|}", c) >= 0:
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		default:
			b.WriteByte(c)
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}

// isTracking reports whether a raw key=value pair is a tracking parameter.
func isTracking(param string) bool {
	key, _, _ := strings.Cut(param, "=")
	if strings.Contains(key, "%") {
		if k, err := url.QueryUnescape(key); err == nil {
			key = k
		}
	}
	key = strings.ToLower(key)
	return strings.HasPrefix(key, "utm_") || trackingParams[key]
}
