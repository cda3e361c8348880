package stories

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/topics"
)

// Terms are what two reports of one event share whatever their wording: names, places,
// numbers and the stems of the words around them. They are derived from the query
// language's tokens (PRODUCT §4: runs of letters and digits, folded) without word lists:
//
//   - Thousands separators are removed first, so "3,000", "3 000" and "3000" are one
//     number, not "3" and the "000" of every other large number.
//   - A token is split where letters meet digits ("3천명" is "3" and "천명", "170mm" is
//     "170" and "mm"), and every run of digits is a term.
//   - A run of letters keeps its first stemLen runes, a crude stemmer that works in any
//     alphabet: "Korea" and "Korean", "Курск" and "Курской", "troop" and "troops" meet.
//     Hangul is written in syllable blocks worth two or three letters each, and particles
//     attach to the word ("북한군이", "북한의"), so Hangul runs keep hangulStemLen syllables.
//   - Russian declines a noun by its ending, and a short word's ending is inside the prefix:
//     "Сеул", "Сеуле", "Сеулом"; "удар", "удары", "ударов". The stem of a Cyrillic word of
//     at most stemLen+1 runes loses the vowels (and й, ь) it ends with, down to three runes:
//     all of those meet, and so do "Кореи" and "Корея". A longer word keeps its prefix:
//     trimmed, "разведка" and "развитие" would meet. English was measured with its plural "s" and final vowels
//     stripped the same way: on the UCI tuning half it gains recall and loses as much
//     precision (docs/stories-spikes-digests.md), so Latin runs are left as they are.
//   - Scripts written without spaces (Han, kana, Thai, ...) give one term per two
//     consecutive characters, since a token there can be a whole clause.
//   - Runs of letters shorter than two runes are dropped: the "s" of "Russia's".
const (
	stemLen       = 5
	hangulStemLen = 2
)

// A term is a 64-bit hash of its text whose lowest bit is replaced by a flag, set when the
// term occurs in the title. Hashes are fixed and portable (FNV-1a finished with SplitMix64),
// so terms are the same in every process and release and can be stored in snapshots.
type term uint64

const (
	titleBit term = 1
	// numberBit (part of the key) is set in the terms of numbers of two digits or more:
	// casualty figures, troop numbers, amounts. Reports of one event give the same ones.
	numberBit term = 2
)

func (t term) key() term    { return t &^ titleBit }
func (t term) title() bool  { return t&titleBit != 0 }
func (t term) number() bool { return t&numberBit != 0 }

func makeTerm(h uint64, title bool) term {
	t := term(h) &^ titleBit
	if title {
		t |= titleBit
	}
	return t
}

// termSet is an article's distinct terms, sorted by key.
type termSet []term

// termsOf returns the distinct terms of a title and summary.
func termsOf(title, summary string) termSet { return storyTerms(title, summary, nil) }

// storyTerms returns the distinct terms of a title and summary, less those of the query
// terms that matched the article: the topic's subject. Every article of a topic names its
// subject, so sharing it says nothing about reporting one event; in a busy topic its weight
// falls to 0 by itself, but in a young or small one every shared word looks rare and short
// items would join on the subject alone. A matched word or phrase drops the terms its own
// tokens give; a matched prefix (storm*) drops its stem and the terms of every token of the
// article that starts with it, since a short prefix (коре*, ship*) stems differently from
// the words it matched (Кореи, shipping).
func storyTerms(title, summary string, matched []events.MatchedTerm) termSet {
	z := tokenizer{buf: make([]byte, 0, max(len(title), len(summary))), ends: make([]int, 0, 64)}
	var drop termSet
	var prefixes []string
	for _, m := range matched {
		word, isPrefix := strings.CutSuffix(m.Term, "*")
		toks, ends := z.tokens(word)
		for j := range ends {
			drop = appendTerms(drop, token(toks, ends, j), false)
		}
		if isPrefix && len(ends) == 1 {
			prefixes = append(prefixes, toks)
		}
	}
	out := make(termSet, 0, 64)
	for i, text := range [2]string{title, summary} {
		toks, ends := z.tokens(text)
		for j := range ends {
			tok := token(toks, ends, j)
			n := len(out)
			out = appendTerms(out, tok, i == 0)
			if len(prefixes) > 0 && slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(tok, p) }) {
				drop = append(drop, out[n:]...)
			}
		}
	}
	// Sorted, the two forms of a key are adjacent, the title form last: keep the last, so a
	// term in the title and the summary counts as a title term.
	slices.Sort(out)
	for i := range drop {
		drop[i] = drop[i].key()
	}
	slices.Sort(drop)
	n := 0
	for i, t := range out {
		if i+1 < len(out) && out[i+1].key() == t.key() {
			continue
		}
		if _, found := slices.BinarySearch(drop, t.key()); found {
			continue
		}
		out[n] = t
		n++
	}
	return out[:n]
}

// tokenizer folds texts into one reused buffer: an allocation per text, not per token.
type tokenizer struct {
	buf  []byte
	ends []int
}

// tokens returns the folded tokens of a text (thousands separators removed) in one string,
// and the end of each in it.
func (z *tokenizer) tokens(text string) (string, []int) {
	z.buf, z.ends = topics.AppendTokens(z.buf[:0], z.ends[:0], joinNumbers(text))
	return string(z.buf), z.ends
}

// token returns token j of what tokenizer.tokens returned.
func token(toks string, ends []int, j int) string {
	if j == 0 {
		return toks[:ends[0]]
	}
	return toks[ends[j-1]:ends[j]]
}

// appendTerms appends the terms of one folded token.
func appendTerms(dst termSet, tok string, title bool) termSet {
	for start := 0; start < len(tok); {
		r, _ := utf8.DecodeRuneInString(tok[start:])
		digits := unicode.IsDigit(r)
		end := start
		for end < len(tok) {
			r, n := utf8.DecodeRuneInString(tok[end:])
			if unicode.IsDigit(r) != digits {
				break
			}
			end += n
		}
		run := tok[start:end]
		start = end
		switch {
		case digits:
			h := hashOf('#', run) &^ uint64(numberBit)
			if len(run) >= 2 {
				h |= uint64(numberBit)
			}
			dst = append(dst, makeTerm(h, title))
		case unspaced(r):
			dst = appendBigrams(dst, run, title)
		default:
			n := stemLen
			if r >= utf8.RuneSelf && unicode.Is(unicode.Hangul, r) {
				n = hangulStemLen
			}
			if stem, ok := prefix(run, n); ok {
				if r >= utf8.RuneSelf && unicode.Is(unicode.Cyrillic, r) && utf8.RuneCountInString(run) <= stemLen+1 {
					stem = trimEnding(stem) // a short word: its ending is within the prefix
				}
				dst = append(dst, makeTerm(hashOf('w', stem)&^uint64(numberBit), title))
			}
		}
	}
	return dst
}

// appendBigrams appends one term per two consecutive characters of a run of an unspaced
// script, or the character itself when the run is one character.
func appendBigrams(dst termSet, run string, title bool) termSet {
	if _, n := utf8.DecodeRuneInString(run); n == len(run) {
		return append(dst, makeTerm(hashOf('u', run)&^uint64(numberBit), title))
	}
	for i := 0; i < len(run); {
		_, a := utf8.DecodeRuneInString(run[i:])
		if i+a >= len(run) {
			break
		}
		_, b := utf8.DecodeRuneInString(run[i+a:])
		dst = append(dst, makeTerm(hashOf('u', run[i:i+a+b])&^uint64(numberBit), title))
		i += a
	}
	return dst
}

// prefix returns the first n runes of s; ok is false when s has fewer than two runes.
func prefix(s string, n int) (string, bool) {
	count := 0
	for i := range s {
		if count == n {
			return s[:i], true
		}
		count++
	}
	return s, count >= 2
}

func unspaced(r rune) bool {
	if r < utf8.RuneSelf { // the tables are searched, and most letters are ASCII
		return false
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai,
		unicode.Lao, unicode.Khmer, unicode.Myanmar)
}

// hashOf is FNV-1a over a kind byte and the text, finished with the SplitMix64 mixer so
// that every bit depends on every byte.
func hashOf(kind byte, s string) uint64 {
	h := uint64(14695981039346656037)
	h = (h ^ uint64(kind)) * 1099511628211
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// joinNumbers removes thousands separators: a separator between digits that is followed by
// exactly three digits.
func joinNumbers(s string) string {
	var b []byte
	last := 0
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isSeparator(r) || i == 0 || !isASCIIDigit(s[i-1]) || !threeDigits(s[i+n:]) {
			i += n
			continue
		}
		b = append(b, s[last:i]...)
		i += n
		last = i
	}
	if b == nil {
		return s
	}
	return string(append(b, s[last:]...))
}

func isSeparator(r rune) bool {
	switch r {
	case ',', '.', ' ', '\'', '\u00a0', '\u202f', '\u2009':
		return true
	}
	return false
}

func isASCIIDigit(c byte) bool { return '0' <= c && c <= '9' }

// threeDigits reports whether s starts with exactly three digits.
func threeDigits(s string) bool {
	return len(s) >= 3 && isASCIIDigit(s[0]) && isASCIIDigit(s[1]) && isASCIIDigit(s[2]) &&
		(len(s) == 3 || !isASCIIDigit(s[3]))
}

// trimEnding removes the vowels (and й, ь) that end a Cyrillic stem, down to three runes.
func trimEnding(stem string) string {
	for utf8.RuneCountInString(stem) > 3 {
		r, n := utf8.DecodeLastRuneInString(stem)
		if !strings.ContainsRune("аеёиоуыэюяйь", r) {
			break
		}
		stem = stem[:len(stem)-n]
	}
	return stem
}
