package normalize

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/newswatch/newswatch/feeds/parse"
)

// BenchmarkParseNormalize parses a realistic 20-item news feed with HTML content and
// normalizes every item, as one poll does; ns/item is the cost per article. Its "gofeed"
// case is the ceiling issue 12 measures ingest against: bare gofeed on the same bytes, in the
// same run.
func BenchmarkParseNormalize(b *testing.B) {
	body, err := os.ReadFile(filepath.Join(testdata, "newswatch/world-news.rss"))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2024, 7, 20, 12, 0, 0, 0, time.UTC)
	perItem := func(b *testing.B, items int) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(items), "ns/item")
	}
	b.Run("gofeed", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		items := 0
		for b.Loop() {
			f, err := gofeed.NewParser().Parse(bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			items += len(f.Items)
		}
		perItem(b, items)
	})
	b.Run("newswatch", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		items := 0
		for b.Loop() {
			f, err := parse.Parse(body, "application/rss+xml", "https://news.example.com/feeds/world.rss")
			if err != nil {
				b.Fatal(err)
			}
			for _, it := range f.Items {
				if _, err := Article("world", f.Language, it, now); err != nil {
					b.Fatal(err)
				}
			}
			items += len(f.Items)
		}
		perItem(b, items)
	})
}

func BenchmarkText(b *testing.B) {
	content := `<figure><img src="/images/1.jpg" alt="Photo"><figcaption>A file photo.</figcaption></figure>
<p>Officials in Seoul said on Tuesday that the shipments had continued through the spring, citing satellite imagery &amp; intercepted communications.</p>
<p>&ldquo;What we are seeing is a steady, industrial-scale flow,&rdquo; said one researcher, who asked not to be named.</p>
<p>Москва и&nbsp;Пхеньян подписали <b>соглашение</b>. 북한군, 러시아 파병 확인.</p>
<script type="text/javascript">trackView(1);</script>`
	// An item body without a script, as most are: markup reads it without the tokenizer.
	body := strings.Repeat(`<p>Officials said on <a href="https://wire.example/x">Tuesday</a> that the agreement between the two <em>governments</em> would hold &amp; talks would resume.</p>`+"\n", 150)
	for _, bc := range []struct{ name, in string }{
		{"html-1KB", strings.Repeat(content, 2)},
		{"html-22KB-no-script", body},
		{"plain-title", "Kremlin hosts DPRK delegation for military talks"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.in)))
			b.ReportAllocs()
			for b.Loop() {
				Text(bc.in)
			}
		})
		// The same input through the tokenizer alone, as Text read every fragment before markup.
		b.Run(bc.name+"/tokenizer", func(b *testing.B) {
			b.SetBytes(int64(len(bc.in)))
			b.ReportAllocs()
			for b.Loop() {
				tokenOnly(bc.in)
			}
		})
	}
}

func BenchmarkCanonicalURL(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"clean", "https://news.example.com/world/2024/07/dprk-shells-russia"},
		{"tracking", "https://News.Example.com:443/world/story?utm_source=rss&id=42&utm_medium=feed&fbclid=abc#comments"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := CanonicalURL(bc.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWriteBytes writes 22 KB of plain English text (an item body's text, as the
// tokenizer hands it over) into a text buffer, and the same text a rune at a time, which is
// what writeBytes must give.
func BenchmarkWriteBytes(b *testing.B) {
	p := []byte(strings.Repeat("Officials said on Tuesday that the agreement between the two governments would hold, after talks in the capital.\n", 200))
	t := new(textBuf)
	b.Run("writeBytes", func(b *testing.B) {
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			t.b, t.space = t.b[:0], false
			t.writeBytes(p)
		}
	})
	s := string(p)
	b.Run("rune-by-rune", func(b *testing.B) {
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			t.b, t.space = t.b[:0], false
			t.writeString(s)
		}
	})
}
