package topics

import (
	"iter"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Fold returns s folded for matching: compatibility forms are unified (fullwidth
// letters, ligatures such as "ﬁ"), letters are lower-cased, diacritics are
// removed, and the result is recomposed (NFC) so that Hangul syllables survive.
// Queries and article text are folded by the same function, so matching is
// symmetric. See docs/query-language.md for the exact rule.
func Fold(s string) string {
	if isASCII(s) {
		return asciiLower(s)
	}
	var f folder
	return string(f.appendFold(nil, s))
}

// Tokenize splits s into tokens (maximal runs of letters and digits, with
// combining marks kept inside a word) and returns them folded.
func Tokenize(s string) []string {
	var out []string
	var f folder
	var buf []byte
	for raw := range RawTokens(s) {
		buf = f.appendToken(buf[:0], raw)
		if len(buf) > 0 {
			out = append(out, string(buf))
		}
	}
	return out
}

// AppendTokens appends the tokens of s, folded, to dst, and the end of each (its offset in
// dst) to ends: Tokenize's tokens in one buffer, for a caller that reads many texts and
// would otherwise allocate every token.
func AppendTokens(dst []byte, ends []int, s string) ([]byte, []int) {
	var f folder
	for raw := range RawTokens(s) {
		n := len(dst)
		dst = f.appendToken(dst, raw)
		if len(dst) > n {
			ends = append(ends, len(dst))
		}
	}
	return dst, ends
}

// RawTokens yields the tokens of s in order as written, unfolded: the spans Tokenize folds.
// A caller that folds each distinct spelling once (topics.Fold) gets Tokenize's tokens for
// less work on text with many repeated words.
func RawTokens(s string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := 0; i < len(s); {
			start, end := nextToken(s, i)
			if start < 0 {
				return
			}
			if !yield(s[start:end]) {
				return
			}
			i = end
		}
	}
}

// asciiWord marks the ASCII bytes that belong to tokens.
var asciiWord = func() (t [utf8.RuneSelf]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	return t
}()

// nextToken returns the byte span of the first token at or after s[i:], or
// start = -1 when there is none. A token starts with a letter or digit and
// continues over letters, digits and combining marks.
func nextToken(s string, i int) (start, end int) {
	start = -1
	for i < len(s) {
		c := s[i]
		var in bool
		n := 1
		if c < utf8.RuneSelf {
			in = asciiWord[c]
		} else {
			var r rune
			r, n = utf8.DecodeRuneInString(s[i:])
			in = isWordRune(r) || (start >= 0 && unicode.IsMark(r))
		}
		switch {
		case in && start < 0:
			start = i
		case !in && start >= 0:
			return start, i
		}
		i += n
	}
	if start < 0 {
		return -1, -1
	}
	return start, len(s)
}

// isWordRune reports whether a non-ASCII rune is a letter or a digit, without the Unicode
// tables for the basic Cyrillic alphabet and the Hangul syllables, most of the non-ASCII
// letters of most texts.
func isWordRune(r rune) bool {
	if 'А' <= r && r <= 'я' || 0xAC00 <= r && r <= 0xD7A3 {
		return true
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// folder holds reusable buffers for folding non-ASCII text.
type folder struct {
	nfkd, low []byte
}

// appendToken appends the folded form of one raw token to dst.
func (f *folder) appendToken(dst []byte, tok string) []byte {
	if isASCII(tok) {
		for i := 0; i < len(tok); i++ {
			c := tok[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
		}
		return dst
	}
	return f.appendFold(dst, tok)
}

// appendFold appends Fold(s) to dst: NFKD, drop diacritics, lower-case, NFC.
func (f *folder) appendFold(dst []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	f.nfkd = norm.NFKD.AppendString(f.nfkd[:0], s)
	low := f.low[:0]
	var prev rune
	for i := 0; i < len(f.nfkd); {
		r, n := utf8.DecodeRune(f.nfkd[i:])
		i += n
		if isDiacritic(r) && !keepsBreve(prev, r) {
			continue
		}
		switch r {
		case 'ß', 'ẞ':
			low = append(low, "ss"...)
			prev = 's'
			continue
		case 'ς':
			r = 'σ'
		default:
			r = unicode.ToLower(r)
		}
		low = utf8.AppendRune(low, r)
		prev = r
	}
	f.low = low
	if norm.NFC.QuickSpan(low) == len(low) {
		return append(dst, low...)
	}
	return norm.NFC.Append(dst, low...)
}

// isDiacritic reports whether r is a removable accent: a nonspacing mark shared
// by many scripts (Unicode script "Inherited": the combining diacritical marks
// of Latin, Greek and Cyrillic, Arabic harakat) or a Hebrew point. The kana
// voicing marks are kept, as are the marks of scripts such as Devanagari or
// Thai, where they are part of the spelling.
func isDiacritic(r rune) bool {
	switch {
	case r < 0x300:
		return false
	case r <= 0x36f:
		return true
	case r == 0x3099 || r == 0x309a:
		return false
	case 0x591 <= r && r <= 0x5c7:
		return unicode.Is(unicode.Mn, r)
	}
	return unicode.Is(unicode.Mn, r) && unicode.Is(unicode.Inherited, r)
}

// keepsBreve reports whether r is the breve of Cyrillic й or ў, which are
// letters of their own rather than accented и and у.
func keepsBreve(prev, r rune) bool {
	return r == 0x306 && (prev == 'и' || prev == 'у')
}
