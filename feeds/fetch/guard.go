package fetch

import (
	"fmt"
	"net/netip"
	"syscall"
)

// blockedRange is an address range the SSRF guard refuses, with the reason
// shown to the user.
type blockedRange struct {
	prefix netip.Prefix
	reason string
}

// blockedRanges lists the special-purpose ranges (IANA registries, RFC 6890)
// that are not globally reachable. First match wins, so more specific
// entries come first.
var blockedRanges = func() []blockedRange {
	table := []struct{ cidr, reason string }{
		{"0.0.0.0/8", "a \"this network\" address"},
		{"10.0.0.0/8", "a private address (RFC 1918)"},
		{"100.64.0.0/10", "a carrier-grade NAT address (RFC 6598)"},
		{"127.0.0.0/8", "a loopback address"},
		{"169.254.0.0/16", "a link-local address (cloud metadata endpoints live here)"},
		{"172.16.0.0/12", "a private address (RFC 1918)"},
		{"192.0.0.0/24", "an IETF protocol assignment address"},
		{"192.0.2.0/24", "a documentation address"},
		{"192.88.99.0/24", "a 6to4 relay anycast address (RFC 7526)"},
		{"192.168.0.0/16", "a private address (RFC 1918)"},
		{"198.18.0.0/15", "a benchmarking address"},
		{"198.51.100.0/24", "a documentation address"},
		{"203.0.113.0/24", "a documentation address"},
		{"224.0.0.0/4", "a multicast address"},
		{"240.0.0.0/4", "a reserved or broadcast address"},
		{"::/128", "the unspecified address"},
		{"::1/128", "a loopback address"},
		{"::/96", "an IPv4-compatible address"},
		{"64:ff9b:1::/48", "a local-use NAT64 address"},
		{"100::/64", "a discard-only address"},
		{"2001::/32", "a Teredo address (RFC 4380)"},
		{"2001:2::/48", "a benchmarking address"},
		{"2001:db8::/32", "a documentation address"},
		{"fc00::/7", "a unique-local address"},
		{"fe80::/10", "a link-local address"},
		{"fec0::/10", "a site-local address"},
		{"ff00::/8", "a multicast address"},
	}
	out := make([]blockedRange, len(table))
	for i, r := range table {
		out[i] = blockedRange{netip.MustParsePrefix(r.cidr), r.reason}
	}
	return out
}()

// nat64 is the well-known NAT64 prefix (RFC 6052). Behind a NAT64 gateway
// 64:ff9b::a9fe:a9fe reaches 169.254.169.254, so the embedded IPv4 address is
// checked instead.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// sixToFour is the 6to4 prefix (RFC 3056): 2002:AABB:CCDD::/48 is routed to
// the IPv4 address AA.BB.CC.DD, which is checked instead.
var sixToFour = netip.MustParsePrefix("2002::/16")

// guard decides which resolved addresses the fetcher may connect to.
type guard struct {
	allowAll bool
	allow    []netip.Prefix
}

func newGuard(allowAll bool, allow []netip.Prefix) *guard {
	g := &guard{allowAll: allowAll}
	for _, p := range allow {
		if !p.IsValid() {
			continue
		}
		// An IPv4-mapped prefix (::ffff:10.0.0.0/104) is stored as the IPv4
		// prefix, because addresses are unmapped before the check.
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		g.allow = append(g.allow, p.Masked())
	}
	return g
}

// check returns nil if addr may be dialled, or a *refusal naming target
// (the address as shown to the user) and the way to allow it.
func (g *guard) check(addr netip.Addr, target string) error {
	if g.allowAll {
		return nil
	}
	// Zoned addresses never match a prefix; mapped ones would not match the
	// IPv4 table.
	a := addr.WithZone("").Unmap()
	for _, p := range g.allow {
		if p.Contains(a) {
			return nil
		}
	}
	reason, blocked := blockedReason(a)
	if !blocked {
		return nil
	}
	return &refusal{msg: fmt.Sprintf(
		"refused to connect to %s: it is %s; to allow it, set fetch.allow_private_networks: true or list its range in fetch.allow_networks",
		target, reason)}
}

// blockedReason reports whether a (unmapped, unzoned) is in a refused range,
// and why.
func blockedReason(a netip.Addr) (string, bool) {
	if !a.IsValid() {
		return "not a valid IP address", true
	}
	if nat64.Contains(a) {
		b := a.As16()
		v4 := netip.AddrFrom4([4]byte(b[12:]))
		if reason, blocked := blockedReason(v4); blocked {
			return fmt.Sprintf("a NAT64 address of %s, %s", v4, reason), true
		}
		return "", false
	}
	if sixToFour.Contains(a) {
		b := a.As16()
		v4 := netip.AddrFrom4([4]byte(b[2:6]))
		if reason, blocked := blockedReason(v4); blocked {
			return fmt.Sprintf("a 6to4 address of %s, %s", v4, reason), true
		}
		return "", false
	}
	for _, r := range blockedRanges {
		if r.prefix.Contains(a) {
			return r.reason, true
		}
	}
	return "", false
}

// control is a net.Dialer.Control hook. It runs after DNS resolution and
// before connect(2), on the exact IP about to be dialled, for the first
// request and for every redirect hop. Checking here rather than on the URL's
// host name is what defeats DNS rebinding and redirects to internal hosts.
func (g *guard) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		// Fail closed: an address we cannot parse is an address we cannot vet.
		return &refusal{msg: fmt.Sprintf("refused to connect to %q: cannot parse the %s address", address, network)}
	}
	return g.check(ap.Addr(), ap.String())
}
