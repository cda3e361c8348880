// Package fulltext extracts the main text of an article page with a readability algorithm
// (codeberg.org/readeck/go-readability, a port of Mozilla's Readability.js). It is pure: bytes
// in, text out; fetching the page is the caller's job (through feeds/fetch).
package fulltext

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	readability "codeberg.org/readeck/go-readability/v2"
)

// MaxTextBytes caps the extracted text kept for one article.
const MaxTextBytes = 256 << 10

// MinWords is the fewest words an extraction must have to count as an article: below it,
// what readability found is a page's chrome, not a story.
const MinWords = 20

// ErrNoText is returned when the page yields no article text.
var ErrNoText = errors.New("fulltext: no article text found")

// Article is what a page yields.
type Article struct {
	Title string
	// Text is the main text, paragraphs separated by blank lines, whitespace collapsed within
	// them, at most MaxTextBytes.
	Text string
}

// Extract returns the main text of an HTML page.
func Extract(page []byte, pageURL string) (Article, error) {
	u, err := url.Parse(pageURL)
	if err != nil {
		return Article{}, fmt.Errorf("extract %s: %w", pageURL, err)
	}
	art, err := readability.FromReader(bytes.NewReader(page), u)
	if err != nil {
		return Article{}, fmt.Errorf("extract %s: %w", pageURL, err)
	}
	if art.Node == nil {
		return Article{}, fmt.Errorf("extract %s: %w", pageURL, ErrNoText)
	}
	var buf bytes.Buffer
	if err := art.RenderText(&buf); err != nil {
		return Article{}, fmt.Errorf("extract %s: %w", pageURL, err)
	}
	text := tidy(buf.String())
	if len(strings.Fields(text)) < MinWords {
		return Article{}, fmt.Errorf("extract %s: %w", pageURL, ErrNoText)
	}
	return Article{Title: strings.TrimSpace(art.Title()), Text: text}, nil
}

// tidy collapses whitespace within paragraphs, keeps one blank line between them and cuts the
// text at MaxTextBytes on a rune boundary.
func tidy(s string) string {
	var paras []string
	for _, p := range strings.Split(strings.ReplaceAll(s, "\r", ""), "\n\n") {
		if p = strings.Join(strings.Fields(p), " "); p != "" {
			paras = append(paras, p)
		}
	}
	out := strings.Join(paras, "\n\n")
	if len(out) > MaxTextBytes {
		cut := MaxTextBytes
		for cut > 0 && !utf8.RuneStart(out[cut]) {
			cut--
		}
		out = out[:cut]
	}
	return out
}
