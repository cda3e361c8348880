package fetch

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

func TestGuardCheck(t *testing.T) {
	refused := []string{
		// IPv4
		"0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255", "100.64.0.1", "100.127.255.254",
		"127.0.0.1", "127.1.2.3", "169.254.169.254", "169.254.0.1", "172.16.0.1", "172.31.255.255",
		"192.0.0.8", "192.0.2.1", "192.168.0.1", "192.168.255.255", "198.18.0.1", "198.19.255.255",
		"198.51.100.7", "203.0.113.9", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
		// IPv6
		"::", "::1", "fe80::1", "fe80::1%eth0", "febf::1", "fc00::1", "fd12:3456:789a::1",
		"ff02::1", "ff05::1:3", "2001:db8::1", "100::1", "fec0::1", "64:ff9b:1::1",
		// IPv4-mapped and IPv4-compatible IPv6 forms of refused IPv4 addresses
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:0.0.0.0",
		"::ffff:192.168.1.1", "::ffff:100.64.0.1", "::ffff:255.255.255.255", "::ffff:224.0.0.1",
		"::127.0.0.1", "::10.0.0.1",
		// NAT64 of refused IPv4 addresses
		"64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1", "64:ff9b::10.1.2.3",
		// 6to4 of refused IPv4 addresses, Teredo, the 6to4 relay anycast
		"2002:7f00:1::1", "2002:a9fe:a9fe::", "2002:c0a8:101:1::1", "2002:0a00:0001::",
		"2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:2::1", "192.88.99.1",
		// IPv4-mapped in its other spellings
		"::ffff:7f00:1", "0:0:0:0:0:ffff:a9fe:a9fe",
	}
	allowed := []string{
		"1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.1", "100.63.255.255", "100.128.0.0",
		"126.255.255.255", "128.0.0.1", "169.253.255.255", "169.255.0.1", "172.15.255.255",
		"172.32.0.1", "192.167.255.255", "192.169.0.1", "198.17.255.255", "198.20.0.1",
		"223.255.255.255", "151.101.1.69",
		"2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "2001:4860:4860::8888",
		"::ffff:8.8.8.8", "::ffff:151.101.1.69", "64:ff9b::808:808",
		"2002:808:808::1", "2001:4860::1", "2001:3::1",
	}
	g := newGuard(false, nil)
	for _, s := range refused {
		err := g.check(netip.MustParseAddr(s), s)
		if !errors.Is(err, ErrRefused) {
			t.Errorf("check(%s) = %v, want refused", s, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, s) || !strings.Contains(msg, "fetch.allow_private_networks: true") {
			t.Errorf("check(%s) message %q should name the address and the setting", s, msg)
		}
	}
	for _, s := range allowed {
		if err := g.check(netip.MustParseAddr(s), s); err != nil {
			t.Errorf("check(%s) = %v, want allowed", s, err)
		}
	}

	all := newGuard(true, nil)
	for _, s := range refused {
		if err := all.check(netip.MustParseAddr(s), s); err != nil {
			t.Errorf("AllowPrivateNetworks: check(%s) = %v, want allowed", s, err)
		}
	}
}

func TestGuardAllowNetworks(t *testing.T) {
	g := newGuard(false, []netip.Prefix{
		netip.MustParsePrefix("10.20.0.0/16"),
		netip.MustParsePrefix("::ffff:192.168.7.0/120"), // mapped form of 192.168.7.0/24
		netip.MustParsePrefix("fd00:1::/32"),
		{}, // invalid prefixes are ignored
	})
	tests := []struct {
		addr    string
		allowed bool
	}{
		{"10.20.1.2", true},
		{"::ffff:10.20.1.2", true},
		{"10.21.0.1", false},
		{"192.168.7.9", true},
		{"::ffff:192.168.7.9", true},
		{"192.168.8.1", false},
		{"fd00:1::5", true},
		{"fd00:2::5", false},
		{"127.0.0.1", false},
		{"8.8.8.8", true},
	}
	for _, tt := range tests {
		err := g.check(netip.MustParseAddr(tt.addr), tt.addr)
		if (err == nil) != tt.allowed {
			t.Errorf("check(%s) = %v, want allowed=%v", tt.addr, err, tt.allowed)
		}
	}
}

func TestGuardControl(t *testing.T) {
	g := newGuard(false, nil)
	tests := []struct {
		address string
		want    string // substring of the refusal, "" for allowed
	}{
		{"169.254.169.254:80", "refused to connect to 169.254.169.254:80: it is a link-local address"},
		{"[::1]:443", "refused to connect to [::1]:443: it is a loopback address"},
		{"[::ffff:10.0.0.1]:80", "refused to connect to [::ffff:10.0.0.1]:80: it is a private address"},
		{"93.184.215.14:443", ""},
		{"not-an-address", `cannot parse the tcp4 address`},
	}
	for _, tt := range tests {
		err := g.control("tcp4", tt.address, nil)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("control(%s) = %v, want allowed", tt.address, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("control(%s) = %v, want %q", tt.address, err, tt.want)
		}
	}
}

// countingServer is an httptest server that counts accepted connections, so
// a test can prove the guard refused before connecting.
func countingServer(t *testing.T, ln net.Listener) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("<rss/>"))
	}))
	if ln != nil {
		srv.Listener.Close()
		srv.Listener = ln
	}
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func TestFetchRefusesLoopback(t *testing.T) {
	t.Parallel()
	srv, conns := countingServer(t, nil)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	tests := []struct {
		name, url, wantAddr string
	}{
		{"ipv4 literal", srv.URL, srv.Listener.Addr().String()},
		{"ipv4-mapped ipv6 literal", "http://[::ffff:127.0.0.1]:" + strconv.Itoa(port) + "/", "127.0.0.1"},
		{"host name resolving to loopback", "http://localhost:" + strconv.Itoa(port) + "/", "refused to connect to "},
	}
	f := newTestFetcher(t, Config{})
	for _, tt := range tests {
		_, err := f.Fetch(t.Context(), Request{URL: tt.url})
		fe := wantError(t, err, KindRefused)
		if !errors.Is(err, ErrRefused) {
			t.Errorf("%s: errors.Is(err, ErrRefused) = false", tt.name)
		}
		msg := fe.Error()
		if !strings.Contains(msg, tt.wantAddr) || !strings.Contains(msg, "fetch.allow_private_networks: true") {
			t.Errorf("%s: message = %q, want the address and how to allow it", tt.name, msg)
		}
		if fe.Kind.Result() != "refused" {
			t.Errorf("%s: Result() = %q", tt.name, fe.Kind.Result())
		}
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("server accepted %d connections; the guard must refuse before connecting", n)
	}

	// The same URLs pass once the guard is off or the range is allowed.
	for _, cfg := range []Config{{AllowPrivateNetworks: true}, {AllowNetworks: loopbackOnly}} {
		f := newTestFetcher(t, cfg)
		for _, tt := range tests[:2] {
			if _, err := f.Fetch(t.Context(), Request{URL: tt.url}); err != nil {
				t.Errorf("%+v %s: %v", cfg, tt.name, err)
			}
		}
	}
}

func TestFetchRefusesRedirects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, target, want string
	}{
		{"cloud metadata", "http://169.254.169.254/latest/meta-data/", "169.254.169.254:80: it is a link-local address"},
		{"rfc1918", "http://10.0.0.1/feed", "10.0.0.1:80: it is a private address"},
		{"cgnat", "https://100.64.1.1/", "100.64.1.1:443: it is a carrier-grade NAT address"},
		{"mapped ipv6", "http://[::ffff:192.168.0.1]/", "it is a private address"},
		{"link-local ipv6", "http://[fe80::1]/", "it is a link-local address"},
		{"file scheme", "file:///etc/passwd", "refused to follow a redirect to file:///etc/passwd"},
		{"gopher scheme", "gopher://example.com/", "only http and https redirects are followed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, tt.target, http.StatusFound)
			}))
			defer srv.Close()
			f := newTestFetcher(t, Config{AllowNetworks: loopbackOnly})
			_, err := f.Fetch(t.Context(), Request{URL: srv.URL + "/feed"})
			fe := wantError(t, err, KindRefused)
			if !errors.Is(err, ErrRefused) || !strings.Contains(fe.Error(), tt.want) {
				t.Errorf("message = %q, want %q", fe.Error(), tt.want)
			}
		})
	}
}

// TestFetchRedirectNeverConnects redirects to a second loopback address that
// is not allowed and checks that its server never saw a connection.
func TestFetchRedirectNeverConnects(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("this platform cannot listen on 127.0.0.2: %v", err)
	}
	inner, conns := countingServer(t, ln)
	outer := httptest.NewServer(http.RedirectHandler(inner.URL+"/internal", http.StatusFound))
	defer outer.Close()

	f := newTestFetcher(t, Config{AllowNetworks: loopbackOnly})
	_, err = f.Fetch(t.Context(), Request{URL: outer.URL})
	fe := wantError(t, err, KindRefused)
	if want := "(redirected to " + inner.URL + "/internal)"; !strings.Contains(fe.Error(), want) {
		t.Errorf("message = %q, want it to name the hop %q", fe.Error(), want)
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("refused server accepted %d connections", n)
	}
}
