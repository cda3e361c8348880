package fulltext_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/feeds/fulltext"
)

func TestExtractKeepsTheArticleAndDropsTheChrome(t *testing.T) {
	page, err := os.ReadFile("testdata/teaser-article.html")
	if err != nil {
		t.Fatal(err)
	}
	a, err := fulltext.Extract(page, "https://daily.example/world/envoys")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"naval facility outside the city", "artillery shells", "second round of talks is expected in January"} {
		if !strings.Contains(a.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, a.Text)
		}
	}
	for _, junk := range []string{"Celebrity chef", "Cookie settings", "Subscribe now"} {
		if strings.Contains(a.Text, junk) {
			t.Errorf("text keeps page chrome %q:\n%s", junk, a.Text)
		}
	}
	if strings.Count(a.Text, "\n\n") < 3 {
		t.Errorf("paragraphs not kept apart:\n%s", a.Text)
	}
}

func TestExtractNothing(t *testing.T) {
	for name, page := range map[string]string{
		"empty":    "",
		"no text":  "<html><body><nav><a href=/>x</a></nav></body></html>",
		"not html": "\x00\x01\x02",
	} {
		if a, err := fulltext.Extract([]byte(page), "https://x.example/"); err == nil && a.Text != "" {
			t.Errorf("%s: extracted %q", name, a.Text)
		} else if err != nil && !errors.Is(err, fulltext.ErrNoText) && name != "not html" {
			t.Logf("%s: %v", name, err)
		}
	}
}

func TestExtractBoundsTheText(t *testing.T) {
	para := "<p>" + strings.Repeat("Words of an endless article about ports and ships. ", 40) + "</p>"
	page := "<html><body><article>" + strings.Repeat(para, 200) + "</article></body></html>"
	a, err := fulltext.Extract([]byte(page), "https://x.example/long")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Text) > fulltext.MaxTextBytes || len(a.Text) < fulltext.MaxTextBytes/2 {
		t.Errorf("text is %d bytes, want at most %d and not much less", len(a.Text), fulltext.MaxTextBytes)
	}
}

func FuzzExtract(f *testing.F) {
	page, _ := os.ReadFile("testdata/teaser-article.html")
	f.Add(page)
	f.Fuzz(func(t *testing.T, page []byte) {
		a, err := fulltext.Extract(page, "https://x.example/")
		if err == nil && len(a.Text) > fulltext.MaxTextBytes {
			t.Fatalf("text of %d bytes", len(a.Text))
		}
	})
}
