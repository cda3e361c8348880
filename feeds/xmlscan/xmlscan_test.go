package xmlscan

import (
	"fmt"
	"strings"
	"testing"
)

// tokens lists the document's tokens as "kind name [empty] [unterminated] <text>".
func tokens(doc string) []string {
	var out []string
	for i := 0; ; {
		t, ok := Next([]byte(doc), i)
		if !ok {
			return out
		}
		s := fmt.Sprintf("%d %s %q", t.Kind, t.Name, doc[t.Start:t.End])
		if t.Empty {
			s += " empty"
		}
		if t.Unterminated {
			s += " unterminated"
		}
		if t.Kind == CDATA {
			s += fmt.Sprintf(" text=%q", t.Text([]byte(doc)))
		}
		out = append(out, s)
		i = t.End
	}
}

func TestNext(t *testing.T) {
	cases := []struct {
		doc  string
		want []string
	}{
		{`<?xml version="1.0"?><rss><channel/></rss>`, []string{
			`3  "<?xml version=\"1.0\"?>"`, `6 rss "<rss>"`, `6 channel "<channel/>" empty`, `5 rss "</rss>"`}},
		// A '>' inside a quoted attribute value does not end the tag; one in text is text.
		{`<a:item href="x>y" t='>'>a > b</a:item>`, []string{
			`6 item "<a:item href=\"x>y\" t='>'>"`, `5 item "</a:item>"`}},
		// Markup inside comments and CDATA is not markup; "<!-->" does not close a comment.
		{`<!--> <item> -->x<![CDATA[<item>]]]><b/>`, []string{
			`1  "<!--> <item> -->"`, `2  "<![CDATA[<item>]]]>" text="<item>]"`, `6 b "<b/>" empty`}},
		{`<!DOCTYPE rss [<!ENTITY a "b">]><rss>`, []string{
			`4  "<!DOCTYPE rss [<!ENTITY a \"b\">"`, `6 rss "<rss>"`}},
		// Whatever never ends runs to the end of the document.
		{`<x><![CDATA[abc`, []string{`6 x "<x>"`, `2  "<![CDATA[abc" unterminated text="abc"`}},
		{`<x a="1>`, []string{`6 x "<x a=\"1>" unterminated`}},
		{`<!-- a`, []string{`1  "<!-- a" unterminated`}},
		{`text only`, nil},
		{`<`, []string{`6  "<" unterminated`}},
	}
	for _, c := range cases {
		got := tokens(c.doc)
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%q:\ngot  %q\nwant %q", c.doc, got, c.want)
		}
	}
}

// FuzzNext holds the scanner to its contract on any input: tokens start at a '<', move
// forward, stay inside the document, and only the last one may be unterminated.
func FuzzNext(f *testing.F) {
	for _, s := range []string{`<rss><item><![CDATA[x]]></item></rss>`, `<!--`, `<a b='>'/>`, `<?x?><!x>`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		b := []byte(doc)
		for i := 0; ; {
			tok, ok := Next(b, i)
			if !ok {
				return
			}
			if tok.Start < i || tok.End <= tok.Start || tok.End > len(b) || b[tok.Start] != '<' {
				t.Fatalf("token %+v after %d in %q", tok, i, doc)
			}
			if tok.Unterminated && tok.End != len(b) {
				t.Fatalf("unterminated token %+v ends before the document in %q", tok, doc)
			}
			if tok.Kind == CDATA {
				_ = tok.Text(b)
			}
			i = tok.End
		}
	})
}
