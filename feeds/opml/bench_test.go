package opml_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/feeds/opml"
)

func bigOPML(n int) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><opml version="2.0"><head><title>Big</title></head><body>`)
	for i := range n {
		if i%50 == 0 {
			if i > 0 {
				b.WriteString(`</outline>`)
			}
			fmt.Fprintf(&b, `<outline text="Folder %d">`, i/50)
		}
		fmt.Fprintf(&b, `<outline type="rss" text="News site number %d" title="News site number %d" xmlUrl="https://site%d.example/feed.xml" htmlUrl="https://site%d.example/"/>`, i, i, i, i)
	}
	b.WriteString(`</outline></body></opml>`)
	return b.String()
}

// BenchmarkImport parses and plans an OPML file of 10,000 feeds in 200 folders.
func BenchmarkImport(b *testing.B) {
	doc := bigOPML(10000)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		d, err := opml.Parse(strings.NewReader(doc), opml.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		planned, _ := opml.Plan(d, nothingKnown())
		if len(planned) != 10000 {
			b.Fatalf("%d planned", len(planned))
		}
	}
}
