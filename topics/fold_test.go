package topics

import (
	"slices"
	"testing"
)

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Russia", "russia"},
		{"Café", "cafe"},
		{"Cafe\u0301", "cafe"}, // decomposed accent
		{"ﬁsh", "fish"},        // ligature
		{"ＲＵＳＳＩＡ", "russia"},   // fullwidth
		{"Straße", "strasse"},
		{"ΟΔΟΣ", "οδοσ"},
		{"οδός", "οδοσ"}, // final sigma
		{"İstanbul", "istanbul"},
		{"Россия", "россия"},
		{"Ёлка", "елка"},            // ё is е
		{"Йод", "йод"},              // й keeps its breve
		{"И\u0306од", "йод"},        // decomposed й
		{"Ўзбек", "ўзбек"},          // so does ў
		{"Їжак", "іжак"},            // other Cyrillic diacritics go
		{"북한과", "북한과"},              // Hangul survives decomposition
		{"\u1107\u116e\u11a8", "북"}, // conjoining jamo recompose
		{"ｶﾞ", "ガ"},                 // halfwidth kana; the voicing mark is kept
		{"कि", "कि"},                // Devanagari vowel sign kept
		{"مُحَمَّد", "محمد"},        // Arabic harakat removed
		{"\xf1é", "\ufffde"},
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTokenize(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"DPRK–Russia", []string{"dprk", "russia"}},
		{"Russia's", []string{"russia", "s"}},
		{"Russia’s troops", []string{"russia", "s", "troops"}},
		{"north and south", []string{"north", "and", "south"}},
		{"COVID-19, 3.5%", []string{"covid", "19", "3", "5"}},
		{"e-mail@host.com", []string{"e", "mail", "host", "com"}},
		{"Cafe\u0301 au lait", []string{"cafe", "au", "lait"}}, // the mark does not split
		{"\u0301start", []string{"start"}},                     // a leading mark is not a word
		{"북한과 러시아", []string{"북한과", "러시아"}},
		{"Москва, Россия.", []string{"москва", "россия"}},
		{"हिन्दी भाषा", []string{"हिन्दी", "भाषा"}},
		{"  ", nil},
		{"", nil},
	}
	for _, tt := range tests {
		if got := Tokenize(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("Tokenize(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := appendedTokens([]byte("x"), tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("AppendTokens(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// appendedTokens returns the tokens AppendTokens appends to a buffer holding prefix.
func appendedTokens(prefix []byte, s string) []string {
	buf, ends := AppendTokens(prefix, []int{len(prefix)}, s)
	var out []string
	for i := 1; i < len(ends); i++ {
		out = append(out, string(buf[ends[i-1]:ends[i]]))
	}
	return out
}
