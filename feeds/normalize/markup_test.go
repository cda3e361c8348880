package normalize

import (
	"os"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/feeds/parse"
)

// tokenOnly is Text without markup: the html tokenizer alone.
func tokenOnly(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return Text(s)
	}
	if strings.Contains(s, "<![CDATA[") {
		s = cdataMarkers.Replace(s)
	}
	t := getTextBuf()
	defer t.release()
	return tokenText(t, s)
}

// markupFragments are shapes markup must read as the tokenizer does, or hand over.
var markupFragments = []string{
	`<p>a</p><p>b</p>`, `a<b>b</b>c`, `<P CLASS=x>a</P >b`, `a < b`, `a <3 b`, `a<`, `a</`, `a</ b>c`,
	`a<>b`, `a</>b`, `<br/>x`, `<br />x`, `<img src=x alt="a>b">c`, `<img alt='a"b'>c`,
	`<a href=x>y</a>z`, `<a title=x"y>z`, `<a =b>c`, `<a b = "c" d>e`, `<a b="c`, `<a b='c>d`, `<a b=`,
	`<a b`, `<a/b>c`, `<p a=/>x`, "<div\n\tclass=\"x\"\r\n>y</div\n>z", `<!-- c -->x`, `<!DOCTYPE html>x`,
	`<?xml?>x`, `<script>a<b</script>c`, `<SCRIPT src=x />c`, `<title>a &amp; b</title>c`,
	`<textarea>a</textarea>`, `<xmp><b></xmp>`, `<plaintext><b>`, `</script>a`, `<style>p{}</style>x`,
	`<scripts>a</scripts>`, `a &amp; b &lt;c&gt; &#8217; &#146; &amp`, `&notit; &notin; &am`,
	"a\x00b<b>\x00</b>", "a\r\nb\rc", `<p>a</p>&nbsp;<p>b</p>`, `<td>a</td><td>b</td>`,
	`<span>a</span><span>b</span>`, `<a href="x">a</a>&amp;<a href="y">b</a>`, "<b>\u00a0a\u2003</b>",
	`<![CDATA[<p>a</p>]]>`, `<p>x<![CDATA[y]]>z</p>`, "\xff<b>\xfe</b>", `<blockquotes>a</blockquotes>b`,
	`<abcdefghijklmnop>a</abcdefghijklmnop>b`, `<H1>a</H1>b<HR>c`,
	`a<!-- wp:paragraph --><p>b</p><!-- /wp:paragraph -->c`, `a<!-->b`, `a<!--->b`, `a<!---->b`, `a<!--x--!>b`,
	`a<!--x--!->b-->c`, `a<!--x--!`, `a<!--x--`, `a<!--x-`, `a<!--`, `a<!-`, `a<!--x->y-->z`, `a<!--x--!y-->z`,
	`a<!--<p>-->b`, `a<!--x---->b`, `a<!---x-->b`, `a</ b="c>d">e`, `a<? b="c>d">e`, `a<!x b="c>d">e`,
}

func checkMarkup(t *testing.T, s string) {
	t.Helper()
	if got, want := Text(s), tokenOnly(s); got != want {
		t.Fatalf("Text(%q)\n= %q\nthe tokenizer gives %q", s, got, want)
	}
}

// TestMarkupIsTokenText: on every fragment above and on every title, summary and content of
// the test corpus, Text gives what the tokenizer alone gives.
func TestMarkupIsTokenText(t *testing.T) {
	for _, s := range markupFragments {
		checkMarkup(t, s)
	}
	fields := 0
	for _, path := range corpusDocs(t) {
		doc, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parse.Parse(doc, "", "https://example.com/feed.xml")
		if err != nil {
			continue
		}
		for _, it := range f.Items {
			for _, s := range []string{it.Title, it.Summary, it.Content} {
				if strings.Contains(s, "<") {
					fields++
				}
				checkMarkup(t, s)
			}
		}
	}
	if fields < 100 {
		t.Fatalf("only %d fields with markup in the corpus: the test compares little", fields)
	}
}

// FuzzMarkup: whatever the fragment, Text gives what the tokenizer alone gives.
func FuzzMarkup(f *testing.F) {
	for _, s := range markupFragments {
		f.Add(s)
	}
	f.Fuzz(checkMarkup)
}
