package itemscan

import (
	"bytes"
	"testing"
)

func TestItems(t *testing.T) {
	tests := []struct {
		name, doc string
		items     []string // expected item texts; nil means ok == false
	}{
		{"rss", `<rss><channel><title>x</title><item><title>a</title></item>
<item id="2"><title>b</title></item></channel></rss>`, []string{`<item><title>a</title></item>`, `<item id="2"><title>b</title></item>`}},
		{"atom with prefix and self-closing", `<feed><atom:entry a=">"><id>1</id></atom:entry><entry/></feed>`,
			[]string{`<atom:entry a=">"><id>1</id></atom:entry>`, `<entry/>`}},
		{"cdata and comments hide tags", `<rss><item><description><![CDATA[</item><item>]]></description><!-- </item> --></item></rss>`,
			[]string{`<item><description><![CDATA[</item><item>]]></description><!-- </item> --></item>`}},
		{"items not confused with itemsx", `<rss><items><item>a</item></items></rss>`, []string{`<item>a</item>`}},
		{"nested", `<rss><item><item>a</item></item></rss>`, nil},
		{"unterminated", `<rss><item>a</rss>`, nil},
		{"no items", `<rss><channel/></rss>`, nil},
		{"utf-16", "\xff\xfe<\x00r\x00", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spans, ok := Items([]byte(tc.doc))
			if tc.items == nil {
				if ok {
					t.Fatalf("ok with spans %v, want not ok", spans)
				}
				return
			}
			if !ok || len(spans) != len(tc.items) {
				t.Fatalf("ok=%v spans=%v, want %d items", ok, spans, len(tc.items))
			}
			for i, s := range spans {
				if got := tc.doc[s.Start:s.End]; got != tc.items[i] {
					t.Errorf("item %d = %q, want %q", i, got, tc.items[i])
				}
			}
		})
	}
}

func TestWithoutKeepsTheRest(t *testing.T) {
	doc := []byte(`<rss><channel><title>t</title><item>a</item><x/><item>b</item><item>c</item></channel></rss>`)
	spans, ok := Items(doc)
	if !ok {
		t.Fatal("not ok")
	}
	got, cut := Without(doc, spans, func(i int) bool { return i != 1 })
	if want := `<rss><channel><title>t</title><x/><item>b</item></channel></rss>`; string(got) != want || cut != 2 {
		t.Errorf("Without = %q (%d cut), want %q", got, cut, want)
	}
	same, cut := Without(doc, spans, func(int) bool { return false })
	if !bytes.Equal(same, doc) || cut != 0 {
		t.Errorf("Without nothing changed the document")
	}
}

func FuzzItems(f *testing.F) {
	f.Add([]byte(`<rss><item><![CDATA[x]]></item></rss>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		spans, ok := Items(doc)
		last := 0
		for _, s := range spans {
			if !ok || s.Start < last || s.End <= s.Start || s.End > len(doc) || doc[s.Start] != '<' || doc[s.End-1] != '>' {
				t.Fatalf("bad span %v in %q", s, doc)
			}
			last = s.End
		}
	})
}
