package normalize

import (
	"errors"
	"testing"
)

func TestCanonicalURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://example.com/a", "https://example.com/a"},
		{"HTTPS://Example.COM/Path/Keeps/Case", "https://example.com/Path/Keeps/Case"},
		{"https://example.com", "https://example.com/"},
		{"https://example.com?", "https://example.com/"},
		{"https://example.com/a?", "https://example.com/a"},
		{"https://example.com/a#section-2", "https://example.com/a"},
		{"https://example.com/a?b=1#frag?x", "https://example.com/a?b=1"},
		{"http://example.com:80/a", "http://example.com/a"},
		{"https://example.com:443/a", "https://example.com/a"},
		{"http://example.com:443/a", "http://example.com:443/a"},
		{"https://example.com:80/a", "https://example.com:80/a"},
		{"https://example.com:8443/a", "https://example.com:8443/a"},
		{"https://example.com:/a", "https://example.com/a"},
		{"https://example.com./a", "https://example.com/a"},
		{"https://example.com/a?utm_source=rss&utm_medium=feed", "https://example.com/a"},
		{"https://example.com/a?UTM_Source=rss&Utm_Campaign=x&id=7", "https://example.com/a?id=7"},
		{"https://example.com/a?z=1&utm_source=x&a=2&m=3", "https://example.com/a?z=1&a=2&m=3"},
		{"https://example.com/a?fbclid=IwAR0&gclid=x&mc_cid=1&mc_eid=2&dclid=3&msclkid=4&igshid=5&_ga=6&yclid=7", "https://example.com/a"},
		{"https://example.com/a?FBCLID=x&page=2", "https://example.com/a?page=2"},
		{"https://example.com/a?utm%5Fsource=x&q=1", "https://example.com/a?q=1"},
		{"https://example.com/a?utm_source", "https://example.com/a"},
		{"https://example.com/a?utm=1&xutm_source=2", "https://example.com/a?utm=1&xutm_source=2"},
		{"https://example.com/a?q=a+b&q=c%20d&&x", "https://example.com/a?q=a+b&q=c%20d&x"},
		{"https://example.com/search?q=%E5%8C%97%E6%9C%9D%E9%AE%AE", "https://example.com/search?q=%E5%8C%97%E6%9C%9D%E9%AE%AE"},
		{"https://example.com/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/1", "https://example.com/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/1"},
		{"https://example.com/a%2Fb", "https://example.com/a%2Fb"},
		{"https://example.com/a b", "https://example.com/a%20b"},
		{"https://example.com/a%2fb%c3%a9?q=%c3%a9", "https://example.com/a%2Fb%C3%A9?q=%C3%A9"},
		{"https://example.com/s?q=a b&r=북한&s=<x>&t=%zz", "https://example.com/s?q=a%20b&r=%EB%B6%81%ED%95%9C&s=%3Cx%3E&t=%zz"},
		{"  https://example.com/a\n", "https://example.com/a"},
		{"http://[2001:DB8::1]:80/a", "http://[2001:db8::1]/a"},
		{"http://[2001:db8::1]:8080/a", "http://[2001:db8::1]:8080/a"},
		{"https://[::1]/", "https://[::1]/"},
		{"https://192.168.0.1:443", "https://192.168.0.1/"},
		{"https://BÜCHER.example/Straße", "https://bücher.example/Stra%C3%9Fe"},
		{"https://xn--bcher-kva.example/", "https://xn--bcher-kva.example/"},
		{"https://user:pass@Example.com/a", "https://user:pass@example.com/a"},
		{"https://example.com//double//slash", "https://example.com//double//slash"},
	}
	for _, tc := range tests {
		got, err := CanonicalURL(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("CanonicalURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			continue
		}
		if again, err := CanonicalURL(got); err != nil || again != got {
			t.Errorf("CanonicalURL(%q) = %q, %v; not idempotent", got, again, err)
		}
	}
}

func TestCanonicalURLErrors(t *testing.T) {
	for _, in := range []string{
		"",
		"   ",
		"/relative/path",
		"example.com/a",
		"//example.com/a",
		"ftp://example.com/a",
		"mailto:desk@example.com",
		"javascript:alert(1)",
		"file:///etc/passwd",
		"http://",
		"http:///a",
		"http:example.com",
		"http://exa mple.com/",
		"http://example.com:port/",
		"http://[::1/",
		"http://[zz::1]/",
		"http://[fe80::1%25en0]/",
		"https://%zz/",
		"http://a\x00b/",
	} {
		got, err := CanonicalURL(in)
		if err == nil || !errors.Is(err, ErrBadURL) {
			t.Errorf("CanonicalURL(%q) = %q, %v; want ErrBadURL", in, got, err)
		}
	}
}
