package story

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func folded(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	splitTokens(s, foldTable(), func(tok string) { out = append(out, foldSlow(tok)) })
	return out
}

func TestTokens(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"DPRK–Russia's Café", []string{"dprk", "russia", "s", "cafe"}},
		{"North Korea: 3,000 troops!", []string{"north", "korea", "3", "000", "troops"}},
		{"Ёлка, йод и ў", []string{"елка", "йод", "и", "ў"}},
		{"Путин — Ким Чен Ын", []string{"путин", "ким", "чен", "ын"}},
		{"북한군 3천명 쿠르스크…국정원", []string{"북한군", "3천명", "쿠르스크", "국정원"}},
		{"北朝鮮とロシア", []string{"北", "朝", "鮮", "と", "ロ", "シ", "ア"}},
		{"ﬁnal ＡＢＣ Straße", []string{"final", "abc", "strasse"}},
		{"e\u0301te\u0301 \u0301x", []string{"ete", "x"}}, // decomposed accents; a leading mark is dropped
		{"ΣΟΦΟΣ σοφος", []string{"σοφοσ", "σοφοσ"}},
		{"", nil},
		{" ,.!? ", nil},
	}
	for _, tt := range tests {
		got := folded(t, tt.in)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("tokens(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestFoldingInvariance checks that spellings which fold alike give one fingerprint.
func TestFoldingInvariance(t *testing.T) {
	const summary = " The agency cited satellite imagery and intercepted communications, officials said on Wednesday."
	tests := []struct{ a, b string }{
		{"North Korean troops deployed to Kursk", "NORTH KOREAN TROOPS — DEPLOYED TO KURSK."},
		{"Café résumé naïve Zürich", "Cafe resume naive Zurich"},
		{"Café résumé naïve Zürich", "Cafe\u0301 re\u0301sume\u0301 nai\u0308ve Zu\u0308rich"}, // NFD
		{"Войска КНДР переброшены, сообщает ещё одно ведомство", "войска кндр переброшены сообщает еще одно ведомство"},
		{"북한군 쿠르스크 전선 투입", jamo("북한군 쿠르스크 전선 투입")}, // Hangul as jamo
		{"ＮＯＲＴＨ ＫＯＲＥＡ troops", "north korea troops"},
	}
	for _, tt := range tests {
		if a, b := Of(tt.a, summary), Of(tt.b, summary); a != b {
			t.Errorf("Of(%q) = %016x, Of(%q) = %016x; want equal", tt.a, uint64(a), tt.b, uint64(b))
		}
		if a, b := Of(tt.a, ""), Of(tt.b, ""); a != b {
			t.Errorf("title only: Of(%q) = %016x, Of(%q) = %016x; want equal", tt.a, uint64(a), tt.b, uint64(b))
		}
	}
	// й is a letter of its own, not an accented и.
	if Of("Мой дом", "") == Of("Мои дом", "") {
		t.Error("й folded to и")
	}
}

// jamo returns s with its Hangul syllables decomposed into conjoining jamo.
func jamo(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0xac00 || r > 0xd7a3 {
			b.WriteRune(r)
			continue
		}
		i := r - 0xac00
		b.WriteRune(0x1100 + i/588)
		b.WriteRune(0x1161 + i%588/28)
		if i%28 != 0 {
			b.WriteRune(0x11a7 + i%28)
		}
	}
	return b.String()
}

// TestStable pins fingerprints: they may be stored, so a change to the hashing or the
// folding must be deliberate (and then every stored fingerprint is stale).
func TestStable(t *testing.T) {
	tests := []struct {
		title, summary string
		want           Fingerprint
	}{
		{benchTexts[0].title, benchTexts[0].summary, 0x7154f12fcdc86d0e},
		{benchTexts[1].title, benchTexts[1].summary, 0xbb4d0b437c1a8613},
		{benchTexts[2].title, benchTexts[2].summary, 0xd2788e962016c3c6},
		{"North Korea sends troops to Russia", "", 0x9d1c5c4dbab8ea8e}, // short: a plain hash
	}
	for _, tt := range tests {
		if got := Of(tt.title, tt.summary); got != tt.want {
			t.Errorf("Of(%q) = %#016x, want %#016x", tt.title, uint64(got), uint64(tt.want))
		}
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b Fingerprint
		want int
	}{
		{0, 0, 0},
		{0, ^Fingerprint(0), 64},
		{0b1011, 0b0110, 3},
		{1 << 63, 1, 2},
	}
	for _, tt := range tests {
		if got := tt.a.Distance(tt.b); got != tt.want || tt.b.Distance(tt.a) != got {
			t.Errorf("Distance(%#x, %#x) = %d, want %d (both ways)", uint64(tt.a), uint64(tt.b), got, tt.want)
		}
		if Same(tt.a, tt.b) != (tt.want <= Threshold) {
			t.Errorf("Same(%#x, %#x) = %v at distance %d", uint64(tt.a), uint64(tt.b), Same(tt.a, tt.b), tt.want)
		}
	}
}

func TestLongSummaryBounded(t *testing.T) {
	long := strings.Repeat("North Korean troops moved to the front line in the Kursk region. ", 200)
	extra := long + "A final sentence that lies beyond the bound changes nothing."
	if Of("Title of the story", long) != Of("Title of the story", extra) {
		t.Errorf("text beyond %d tokens changed the fingerprint", maxTokens)
	}
}

// FuzzTokens checks the fast folding against the full rule on every token, and that Of
// is deterministic and does not panic on any input.
func FuzzTokens(f *testing.F) {
	for _, bt := range benchTexts {
		f.Add(bt.title + " " + bt.summary)
	}
	for _, s := range []string{"가\u11a8 ᄀ\u1161", "e\u0301 ﬁ Ⅻ ㈱ ½", "ภาษาไทย", "Ǆemal ǅ", "\xff\xfe"} {
		f.Add(s)
	}
	table := foldTable()
	f.Fuzz(func(t *testing.T, s string) {
		splitTokens(s, table, func(tok string) {
			if tok == "" {
				t.Fatal("empty token")
			}
			if utf8.ValidString(tok) {
				if got, want := hashToken(tok, table), hashString(foldSlow(tok)); got != want {
					t.Fatalf("token %q (%+q): fast fold disagrees with %q", tok, tok, foldSlow(tok))
				}
			}
		})
		if Of(s, s) != Of(s, s) {
			t.Fatal("Of is not deterministic")
		}
	})
}

// TestFastFoldPairs checks the shortcut of hashToken on two-rune tokens: folding rune by
// rune must give what folding the whole token gives, or NFC composition across the
// runes was missed. Every rune that takes the shortcut is paired with a spread of others
// (pairing all of them, 31.6 million pairs, passes too but takes a while).
func TestFastFoldPairs(t *testing.T) {
	table := foldTable()
	var fast []rune
	for r := rune('0'); r < tableEnd; r++ {
		if (table[r].class == classWord || table[r].class == classUnspaced) && !table[r].slow {
			fast = append(fast, r)
		}
	}
	fast = append(fast, 0xac00, 0xac01, 0xd7a3, 0x4e00, 0x9fff) // Hangul syllables, CJK ideographs
	fold := func(r rune) string {
		if r < tableEnd {
			return table[r].fold
		}
		return string(r)
	}
	step := 97
	if testing.Short() {
		step = 997
	}
	for _, a := range fast {
		for j := 0; j < len(fast); j += step {
			b := fast[j]
			if got, want := fold(a)+fold(b), foldSlow(string(a)+string(b)); got != want {
				t.Fatalf("%U %U: rune by rune %q, whole %q", a, b, got, want)
			}
		}
	}
}
