package parse

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"
)

// TestNoImageScan: no article has an image, so parsing must not pay for gofeed's fallback
// that HTML-parses each item's content to find one. Parsing an RSS document whose items carry
// HTML content allocates clearly less than gofeed's default parser, which runs the scan.
func TestNoImageScan(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>t</title><link>https://example.org/</link>`)
	for i := range 20 {
		fmt.Fprintf(&b, `<item><title>Story %d</title><link>https://example.org/a/%d</link><description>Summary %d</description><content:encoded><![CDATA[%s]]></content:encoded></item>`,
			i, i, i, strings.Repeat(`<p>Text with <a href="https://example.org/x">a link</a> and <em>emphasis</em>.</p><ul><li>one</li><li>two</li></ul>`, 100))
	}
	b.WriteString(`</channel></rss>`)
	doc := []byte(b.String())
	allocated := func(parse func() error) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 3 {
			if err := parse(); err != nil {
				t.Fatal(err)
			}
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	ours := allocated(func() error {
		f, err := Parse(doc, "application/rss+xml", feedURL)
		if err == nil && len(f.Items) != 20 {
			err = fmt.Errorf("parsed %d items, want 20", len(f.Items))
		}
		return err
	})
	scan := allocated(func() error {
		_, err := gofeed.NewParser().Parse(bytes.NewReader(doc))
		return err
	})
	if ours*10 > scan*8 {
		t.Errorf("Parse allocated %d bytes, gofeed with its image scan %d: want under 80%% of it (is the content image scan back?)", ours, scan)
	}
}
