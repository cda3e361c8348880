package fulltext_test

import (
	"os"
	"testing"

	"github.com/newswatch/newswatch/feeds/fulltext"
)

// BenchmarkExtract extracts the text of a small news article page.
func BenchmarkExtract(b *testing.B) {
	page, err := os.ReadFile("testdata/teaser-article.html")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		if _, err := fulltext.Extract(page, "https://daily.example/world/envoys"); err != nil {
			b.Fatal(err)
		}
	}
}
