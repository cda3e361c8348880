package normalize

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"plain", "Kremlin hosts DPRK delegation", "Kremlin hosts DPRK delegation"},
		{"plain trimmed", "  \n\tKremlin   hosts\r\nDPRK\u00a0delegation \u3000", "Kremlin hosts DPRK delegation"},
		{"entities", "AT&amp;T &lt;b&gt; &quot;q&quot; &#8217; &#x2014; &eacute; &nbsp;x", "AT&T <b> \"q\" ’ — é x"},
		{"double-encoded decoded once", "Q&amp;amp;A &amp;lt;p&amp;gt;", "Q&amp;A &lt;p&gt;"},
		{"bare ampersand and less-than", "AT&T: 1 < 2 && 3 > 2", "AT&T: 1 < 2 && 3 > 2"},
		{"inline tags join", "Pyong<b>yang</b> and <a href='x'>Mos</a><i>cow</i>", "Pyongyang and Moscow"},
		{"block tags separate", "<p>One</p><p>Two</p><div>Three<br>Four<br/>Five</div><ul><li>a</li><li>b</li></ul>", "One Two Three Four Five a b"},
		{"nested", "<div><p>Outer <span>inner <em>deep<strong>est</strong></em></span></p></div>", "Outer inner deepest"},
		{"table", "<table><tr><td>A</td><td>B</td></tr><tr><th>C</th></tr></table>", "A B C"},
		{"script and style dropped", "<style>p{color:red}</style>Hi<script>var s = '</p>x';</script> there<noscript><img src=x>enable JS</noscript>", "Hi there"},
		{"unclosed script", "News<script>track(", "News"},
		{"comments dropped", "a<!-- hidden <b>x</b> -->b", "ab"},
		{"cdata markers", "<![CDATA[<p>Hello <b>world</b></p>]]>", "Hello world"},
		{"escaped cdata", "&lt;![CDATA[x]]&gt;", "<![CDATA[x]]>"},
		{"image is a break", "before<img src=a.jpg alt=photo>after", "before after"},
		{"whitespace in html", "<p>\n  Officials   said\n\n</p>\n<p>\tmore</p>  ", "Officials said more"},
		{"cyrillic", "<p>Москва и&nbsp;Пхеньян</p> <p>подписали <b>соглашение</b></p>", "Москва и Пхеньян подписали соглашение"},
		{"hangul", "<p>북한군,&nbsp;러시아 <em>파병</em> 확인</p>", "북한군, 러시아 파병 확인"},
		{"c1 controls as windows-1252", "don\u0092t &#150; &#133;", "don’t – …"},
		{"invalid utf-8", "a\xffb <b>c</b>", "a\ufffdb c"},
		{"invalid utf-8 plain", "a\xffb", "a\ufffdb"},
		{"doctype and full document", "<!DOCTYPE html><html><head><title>T</title></head><body><p>B</p></body></html>", "T B"},
		{"lone tag start", "<", "<"},
		{"unterminated tag", "text <a href=", "text"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Text(tc.in); got != tc.want {
				t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestTextRetainsOnlyItsText guards the pipeline's memory: normalized articles wait to be
// stored, and each must hold the bytes of its text, not a buffer sized for the HTML it came
// from. 500 texts of about 100 bytes, each from 20 KB of markup, are kept; the heap they hold
// must be far below the 10 MB their inputs would pin.
func TestTextRetainsOnlyItsText(t *testing.T) {
	const n = 500
	inputs := make([]string, n)
	for i := range inputs {
		inputs[i] = fmt.Sprintf(`<p><a href="https://example.org/%d/%s">Kremlin hosts DPRK delegation %d</a></p>`,
			i, strings.Repeat("x", 20_000), i)
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	kept := make([]string, n)
	for i, in := range inputs {
		kept[i] = Text(in)
	}
	held := int64(heap()) - int64(before)
	for i, s := range kept {
		if want := fmt.Sprintf("Kremlin hosts DPRK delegation %d", i); s != want {
			t.Fatalf("Text(input %d) = %q, want %q", i, s, want)
		}
	}
	if held > 2<<20 {
		t.Errorf("%d texts of ~33 bytes hold %d bytes of heap; want under 2 MiB (a text must not keep its input-sized buffer)", n, held)
	}
	runtime.KeepAlive(inputs)
}

// TestWriteBytesIsRuneByRune checks writeBytes's copying of ASCII runs against writing the
// same bytes a rune at a time, on inputs that mix runs with spaces, C1 controls, multi-byte
// and invalid UTF-8.
func TestWriteBytesIsRuneByRune(t *testing.T) {
	parts := []string{"a", "Word", " ", "\t\n", "\u00a0", "\u0092", "é", "북", "\xff", "\xe2\x80", "x.y,z", "  ", "\u3000", "\r",
		"\x01", "\x7f", "!", "a longer run of words", "\v", "\f"}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 20000 {
		var in strings.Builder
		for range rng.IntN(12) {
			in.WriteString(parts[rng.IntN(len(parts))])
		}
		var want, got textBuf
		want.space, got.space = n%2 == 0, n%2 == 0 // a pending space from an earlier token
		// n%3 == 0: nothing written yet, so no leading space
		if n%3 != 0 {
			want.b, got.b = []byte("prefix"), []byte("prefix")
		}
		for _, r := range in.String() {
			want.writeRune(r)
		}
		got.writeBytes([]byte(in.String()))
		if string(got.b) != string(want.b) || got.space != want.space {
			t.Fatalf("writeBytes(%q) = %q (space %v), rune by rune %q (space %v)", in.String(), got.b, got.space, want.b, want.space)
		}
	}
}
