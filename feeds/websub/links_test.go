package websub

import (
	"fmt"
	"strings"
	"testing"
)

func TestDiscover(t *testing.T) {
	const base = "https://news.example/feed.xml"
	tests := []struct {
		name    string
		body    string
		headers []string
		want    Links
	}{
		{
			name: "rss with atom:link",
			body: `<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>t</title>
<link>https://news.example/</link>
<atom:link rel="hub" href="https://hub.example/"/><atom:link rel="self" type="application/rss+xml" href="https://news.example/feed.xml"/>
<item><title>x</title></item></channel></rss>`,
			want: Links{Hub: "https://hub.example/", Self: "https://news.example/feed.xml"},
		},
		{
			name: "atom, relative self, rel list",
			body: `<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><link rel="alternate" href="/"/>
<link rel="self" href="/atom.xml"/><link href="https://hub.example/pub" rel="HUB"/><entry><link rel="hub" href="https://other.example/"/></entry></feed>`,
			want: Links{Hub: "https://hub.example/pub", Self: "https://news.example/atom.xml"},
		},
		{
			name: "links inside an entry do not count",
			body: `<feed xmlns="http://www.w3.org/2005/Atom"><link rel="self" href="/atom.xml"/><entry><link rel="hub" href="https://hub.example/"/></entry></feed>`,
			want: Links{Self: "https://news.example/atom.xml"},
		},
		{
			name:    "Link headers win over the document",
			body:    `<feed xmlns="http://www.w3.org/2005/Atom"><link rel="hub" href="https://doc-hub.example/"/><link rel="self" href="https://news.example/doc"/></feed>`,
			headers: []string{`<https://hub.example/>; rel="hub", <https://news.example/feed.xml>; rel=self`},
			want:    Links{Hub: "https://hub.example/", Self: "https://news.example/feed.xml"},
		},
		{
			name:    "header hub, document self",
			body:    `<rss><channel><atom:link xmlns:atom="http://www.w3.org/2005/Atom" rel="self" href="https://news.example/rss"/></channel></rss>`,
			headers: []string{`<https://hub.example/>; title="a, b"; rel="hub"`},
			want:    Links{Hub: "https://hub.example/", Self: "https://news.example/rss"},
		},
		{
			name: "only http(s) hubs",
			body: `<feed><link rel="hub" href="javascript:alert(1)"/><link rel="self" href="file:///etc/passwd"/></feed>`,
			want: Links{},
		},
		{name: "JSON Feed", body: `{"version":"https://jsonfeed.org/version/1.1","hubs":[]}`, want: Links{}},
		{name: "broken XML", body: `<rss><channel><atom:link rel="hub" href="https://hub.example/"`, want: Links{}},
	}
	for _, tt := range tests {
		got := Discover([]byte(tt.body), tt.headers, base)
		if got != tt.want {
			t.Errorf("%s: Discover = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func FuzzDiscover(f *testing.F) {
	f.Add([]byte(`<feed><link rel="hub" href="https://h/"/></feed>`), `<https://h/>; rel="hub self"`)
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		l := Discover(body, []string{header}, "https://news.example/")
		for _, u := range []string{l.Hub, l.Self} {
			if u != "" && len(u) < len("http://x") {
				t.Fatalf("implausible link %q", u)
			}
		}
	})
}

// BenchmarkDiscover is the cost the parse stage adds to every changed document when WebSub
// is on: a 20-item RSS document whose head announces a hub.
func BenchmarkDiscover(b *testing.B) {
	var doc strings.Builder
	doc.WriteString(`<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>t</title><link>https://news.example/</link>`)
	doc.WriteString(`<atom:link rel="hub" href="https://hub.example/"/><atom:link rel="self" href="https://news.example/feed.xml"/>`)
	for i := range 20 {
		fmt.Fprintf(&doc, `<item><title>Story %d</title><link>https://news.example/%d</link><description>%s</description></item>`, i, i, strings.Repeat("text ", 200))
	}
	doc.WriteString(`</channel></rss>`)
	body := []byte(doc.String())
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if l := Discover(body, nil, "https://news.example/feed.xml"); !l.Valid() {
			b.Fatal(l)
		}
	}
}
