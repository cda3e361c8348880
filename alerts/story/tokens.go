package story

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// FNV-1a, 64 bits: a fixed, portable token hash, so fingerprints are the same in every
// process and every release (they are compared across restarts).
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// Tokens are those of the query language (PRODUCT §4): maximal runs of Unicode letters and
// digits, combining marks kept inside a word, folded: compatibility forms unified (NFKD),
// diacritics removed (Café = cafe, ё = е) except the breve of й and ў, which are letters of
// their own, lower-cased, and recomposed (NFC). Scripts written without spaces between
// words (Han, kana, Thai, Lao, Khmer, Myanmar) give one token per character and its marks,
// so that such text still yields shingles; Hangul is spaced and tokenized by words.
//
// Folding through the normalization tables is slow, so common letters take shortcuts that
// give the same bytes: ASCII, Hangul syllables and CJK ideographs fold to themselves, and
// the letters below U+2000 (Latin, Greek, Cyrillic, ...) use a table built on first use
// from the full rule. Only tokens with other runes, or with separate combining marks, take
// the full rule.

// Rune classes for tokenizing.
const (
	classOther    uint8 = iota // separates tokens
	classWord                  // letter or digit of a spaced script
	classMark                  // combining mark: continues a token, never starts one
	classUnspaced              // letter of a script without spaces: a token of its own
)

// tableEnd bounds the runes described by the fold table.
const tableEnd = 0x2000

type runeInfo struct {
	fold  string // folded form of a letter or digit
	class uint8
	// slow: the rune may combine with the one before it under NFC (a combining mark, a
	// Hangul vowel or final jamo), so the token must be folded as a whole.
	slow bool
}

var foldTable = sync.OnceValue(func() []runeInfo {
	t := make([]runeInfo, tableEnd)
	for r := rune(0); r < tableEnd; r++ {
		c := classify(r)
		t[r] = runeInfo{class: c, slow: c == classMark || !norm.NFC.PropertiesString(string(r)).BoundaryBefore()}
		if c == classWord || c == classUnspaced {
			t[r].fold = foldSlow(string(r))
		}
	}
	return t
})

func classify(r rune) uint8 {
	switch {
	case r < utf8.RuneSelf:
		if isASCIIWord(byte(r)) {
			return classWord
		}
		return classOther
	case unicode.IsMark(r):
		return classMark
	case !unicode.IsLetter(r) && !unicode.IsDigit(r):
		return classOther
	case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai,
		unicode.Lao, unicode.Khmer, unicode.Myanmar):
		return classUnspaced
	}
	return classWord
}

func classOf(r rune, table []runeInfo) uint8 {
	switch {
	case r < tableEnd:
		return table[r].class
	case isHangulSyllable(r):
		return classWord
	case isCJKIdeograph(r):
		return classUnspaced
	}
	return classify(r)
}

func isASCIIWord(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isHangulSyllable(r rune) bool { return 0xac00 <= r && r <= 0xd7a3 }
func isCJKIdeograph(r rune) bool   { return 0x4e00 <= r && r <= 0x9fff }

// eachToken calls fn with the hash of every folded token of s, in order.
func eachToken(s string, fn func(h uint64)) {
	table := foldTable()
	splitTokens(s, table, func(tok string) { fn(hashToken(tok, table)) })
}

// splitTokens calls fn with every token of s, unfolded, in order.
func splitTokens(s string, table []runeInfo, fn func(tok string)) {
	start, single := -1, false // single: the token is one unspaced letter plus its marks
	flush := func(end int) {
		if start >= 0 {
			fn(s[start:end])
			start = -1
		}
	}
	for i := 0; i < len(s); {
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		switch classOf(r, table) {
		case classWord:
			if single {
				flush(i)
			}
			if start < 0 {
				start, single = i, false
			}
		case classUnspaced:
			flush(i)
			start, single = i, true
		case classMark:
			// Part of the token it follows; a mark with no token before it is dropped.
		default:
			flush(i)
		}
		i += n
	}
	flush(len(s))
}

// hashToken returns the FNV-1a hash of the folded token.
func hashToken(tok string, table []runeInfo) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(tok); {
		c := tok[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			h = (h ^ uint64(c)) * fnvPrime
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(tok[i:])
		var folded string
		switch {
		case r < tableEnd && !table[r].slow:
			folded = table[r].fold
		case isHangulSyllable(r), isCJKIdeograph(r):
			folded = tok[i : i+n]
		default:
			return hashString(foldSlow(tok))
		}
		for j := 0; j < len(folded); j++ {
			h = (h ^ uint64(folded[j])) * fnvPrime
		}
		i += n
	}
	return h
}

func hashString(s string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

// foldSlow folds a token by the full rule: NFKD, drop diacritics, lower-case, NFC.
func foldSlow(tok string) string {
	var b strings.Builder
	var prev rune
	for _, r := range norm.NFKD.String(tok) {
		if isDiacritic(r) && !(r == 0x306 && (prev == 'и' || prev == 'у')) {
			continue
		}
		switch r {
		case 'ß', 'ẞ':
			b.WriteByte('s')
			r = 's'
		case 'ς':
			r = 'σ'
		default:
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
		prev = r
	}
	return norm.NFC.String(b.String())
}

// isDiacritic reports whether r is an accent that folding removes: a nonspacing mark of the
// Inherited script (the combining diacritics shared by Latin, Greek, Cyrillic and others),
// except the kana voicing marks, which change the letter.
func isDiacritic(r rune) bool {
	switch {
	case r < 0x300:
		return false
	case r <= 0x36f:
		return true
	case r == 0x3099 || r == 0x309a:
		return false
	}
	return unicode.Is(unicode.Mn, r) && unicode.Is(unicode.Inherited, r)
}
