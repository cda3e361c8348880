package parse

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"
)

// sameParse fails unless doc parses the same with every CDATA section lifted as without
// lifting; it reports whether anything was lifted.
func sameParse(t testing.TB, name string, doc []byte) bool {
	t.Helper()
	const url = "https://example.com/feed.xml"
	whole, werr := parseDoc(doc, "", url, 0)
	lift, lerr := parseDoc(doc, "", url, 1)
	if (werr == nil) != (lerr == nil) || (werr != nil && werr.Error() != lerr.Error()) {
		t.Fatalf("%s: error %v whole, %v lifted", name, werr, lerr)
	}
	if werr == nil && !reflect.DeepEqual(whole, lift) {
		t.Fatalf("%s: parses differ\nwhole:  %+v\nlifted: %+v", name, whole, lift)
	}
	_, lifted := liftCDATA(doc, 1)
	return lifted
}

// TestLiftedParseIsTheSame parses every feed of the test corpus with every CDATA section
// lifted out (whatever its size) and without: the results must be equal, errors included.
func TestLiftedParseIsTheSame(t *testing.T) {
	files, lifted := 0, 0
	err := filepath.WalkDir(testdata, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		doc, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if sameParse(t, path, doc) {
			lifted++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// 69 files of the corpus have CDATA; 19 of them in the lifted elements of an RSS item.
	if lifted < 15 {
		t.Fatalf("lifted sections in %d of %d files; the test compares nothing", lifted, files)
	}
}

// TestLiftCDATA checks which sections are lifted and that the bytes come back.
func TestLiftCDATA(t *testing.T) {
	body := strings.Repeat("<p>news &amp; more</p>", 20)
	for _, tc := range []struct {
		name, doc string
		lifts     int
	}{
		{"description and content:encoded", `<rss><channel><item><description><![CDATA[` + body + `]]></description><content:encoded><![CDATA[` + body + `]]></content:encoded></item></channel></rss>`, 2},
		{"upper case, attributes with >", `<rss><item><DESCRIPTION a="x>y" b='>'><![CDATA[` + body + `]]></DESCRIPTION></item></rss>`, 1},
		{"other element", `<rss><item><title><![CDATA[` + body + `]]></title></item></rss>`, 0},
		{"inside a child element", `<rss><item><description><div><![CDATA[` + body + `]]></div></description></item></rss>`, 0},
		{"after a child element", `<rss><item><description><b>x</b><![CDATA[` + body + `]]></description></item></rss>`, 0},
		{"small", `<rss><item><description><![CDATA[<p>x</p>]]></description></item></rss>`, 0},
		{"white space around", `<rss><item><description><![CDATA[ ` + body + "\u00a0\r\n" + `]]></description></item></rss>`, 1},
		{"dc:description, white space around", `<rss xmlns:dc="http://purl.org/dc/elements/1.1/"><item><dc:description><![CDATA[` + "\r\n " + body + "\r\n" + `]]></dc:description></item></rss>`, 1},
		{"carriage return", `<rss xmlns:dc="http://purl.org/dc/elements/1.1/"><item><dc:description><![CDATA[` + body + "\r\n" + body + `]]></dc:description></item></rss>`, 0},
		{"in a comment", `<rss><item><description><!-- <![CDATA[` + body + `]]> --></description></item></rss>`, 0},
		{"unterminated", `<rss><item><description><![CDATA[` + body + `</description></item></rss>`, 0},
		{"internal subset", `<!DOCTYPE rss [<!ENTITY x "y">]><rss><item><description><![CDATA[` + body + `]]></description></item></rss>`, 0},
		{"placeholder in the document", `<rss><item><title>` + placeholderOpen + `</title><description><![CDATA[` + body + `]]></description></item></rss>`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sameParse(t, tc.name, []byte(tc.doc))
			l, ok := liftCDATA([]byte(tc.doc), minLift)
			if got := len(l.sections); got != tc.lifts || ok != (tc.lifts > 0) {
				t.Fatalf("lifted %d sections (ok %v), want %d", got, ok, tc.lifts)
			}
			if !ok {
				return
			}
			if bytes.Contains(l.doc, []byte(body)) {
				t.Fatal("the lifted document still holds a lifted section")
			}
			back, ok := l.restore(string(l.doc))
			if !ok || back != tc.doc {
				t.Fatalf("restored document differs (ok %v):\n%s", ok, back)
			}
		})
	}
}

// TestRestoreRejectsBrokenPlaceholders: a placeholder that is not whole, or one left in a
// field restoreFeed does not restore, makes Parse read the document whole.
func TestRestoreRejectsBrokenPlaceholders(t *testing.T) {
	l := lifted{sections: [][]byte{[]byte("zero"), []byte("one")}}
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"a" + placeholderOpen + "1" + placeholderClose + "b" + placeholderOpen + "0" + placeholderClose, "aonebzero", true},
		{"plain", "plain", true},
		{placeholderOpen + "2" + placeholderClose, "", false},
		{placeholderOpen + "x" + placeholderClose, "", false},
		{placeholderOpen + "1", "", false},
		{"a" + placeholderClose, "", false},
	} {
		got, ok := l.restore(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("restore(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	f := &Feed{Items: []Item{{Content: placeholderOpen + "0" + placeholderClose, Categories: []string{placeholderOpen + "1" + placeholderClose}}}}
	if l.restoreFeed(f) {
		t.Fatal("restoreFeed accepted a placeholder in a category")
	}
}

// FuzzLiftedParse: whatever the document, lifting its CDATA sections changes nothing in the
// parse.
func FuzzLiftedParse(f *testing.F) {
	for _, name := range []string{"newswatch/world-news.rss", "gofeed/testdata/parser/rss/rss_channel_item_xml_base.xml"} {
		f.Add(readFeed(f, name))
	}
	f.Add([]byte(`<rss><channel><item><title>t</title><description>a <![CDATA[<b>x</b>]]> b</description><content:encoded><![CDATA[y]]><![CDATA[z]]></content:encoded></item></channel></rss>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		sameParse(t, "fuzz input", doc)
	})
}

// BenchmarkParseLifted parses a 20-item feed of ~22 KB HTML bodies in CDATA (the shape of
// cmd/nwbench's corpus): bare gofeed (the ceiling issue 12 compares ingest with), Parse
// without lifting, and Parse.
func BenchmarkParseLifted(b *testing.B) {
	doc := benchFeed(20, 22000)
	run := func(b *testing.B, parse func() (int, error)) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		items := 0
		for b.Loop() {
			n, err := parse()
			if err != nil {
				b.Fatal(err)
			}
			items += n
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(items), "ns/item")
	}
	b.Run("gofeed", func(b *testing.B) {
		run(b, func() (int, error) {
			f, err := gofeed.NewParser().Parse(bytes.NewReader(doc))
			if err != nil {
				return 0, err
			}
			return len(f.Items), nil
		})
	})
	for _, c := range []struct {
		name string
		lift int
	}{{"whole", 0}, {"lifted", minLift}} {
		b.Run(c.name, func(b *testing.B) {
			run(b, func() (int, error) {
				f, err := parseDoc(doc, "application/rss+xml", "https://wire.example/feed.xml", c.lift)
				if err != nil {
					return 0, err
				}
				return len(f.Items), nil
			})
		})
	}
}

// benchFeed returns an RSS 2.0 feed of n items, each with a short escaped description and a
// CDATA body of about size bytes of HTML.
func benchFeed(n, size int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Wire</title><link>https://wire.example/</link><language>en</language>
`)
	para := `<p>Officials said on Tuesday that the <a href="https://wire.example/x">agreement</a> between the two <em>governments</em> would hold, after talks in the capital.</p>` + "\n"
	for i := range n {
		b.WriteString("<item><title>Story ")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString("</title><link>https://wire.example/story-")
		b.WriteString(strings.Repeat("1", i+1))
		b.WriteString("</link><pubDate>Tue, 16 Jul 2024 01:15:00 GMT</pubDate><dc:creator>Reporter</dc:creator><category>World</category>\n")
		b.WriteString("<description>&lt;p&gt;Officials said the agreement would hold.&lt;/p&gt;</description>\n<content:encoded><![CDATA[")
		for written := 0; written < size; written += len(para) {
			b.WriteString(para)
		}
		b.WriteString("<img src=\"/i.jpg\" alt=\"x\">]]></content:encoded></item>\n")
	}
	b.WriteString("</channel></rss>\n")
	return b.Bytes()
}
