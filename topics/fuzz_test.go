package topics

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"unicode/utf8"
)

// assertRoundTrip checks that printing q and parsing the result gives the
// same tree and the same text.
func assertRoundTrip(t *testing.T, q *Query) {
	t.Helper()
	s := q.String()
	q2, err := Parse(s)
	if err != nil {
		t.Fatalf("reparse of %q: %v", s, err)
	}
	if !reflect.DeepEqual(q.root, q2.root) {
		t.Fatalf("reparse of %q changed the tree: %q", s, q2.String())
	}
	if s2 := q2.String(); s2 != s {
		t.Fatalf("String not stable: %q then %q", s, s2)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`("North Korea" OR DPRK OR Pyongyang) AND (Russia OR Kremlin OR Moscow) AND (military OR troops OR soldiers)`,
		`title:(a OR "b c") NEAR/3 d* NOT source:bbc-world`,
		`NOT a`, `a and b`, `«Северная Корея» NEAR/5 (Россия OR Москва)`, `북한* 러시아`,
		`url:https://example.com/%D0%BC`, `a NEAR/3 b NEAR/3 c`, `((a)`, `"unterminated`,
		`Café ﬁsh ＡＢＣ Straße`, `title:(summary:a)`, `k*rea`, `NEAR/0`, `12:30`,
		`tag:world AND (korea OR dprk) NOT tag:sport`, `tag:(a OR "b") tag:Bad`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %T is not a *SyntaxError", s, err)
			}
			if se.Col < 1 || se.Col > utf8.RuneCountInString(s)+1 {
				t.Fatalf("Parse(%q): column %d out of range", s, se.Col)
			}
			return
		}
		assertRoundTrip(t, q)
	})
}

func FuzzFold(f *testing.F) {
	for _, s := range []string{"Café", "ﬁ", "ＡＢＣ", "Straße", "ΟΔΟΣ", "Йод ёлка", "북한과", "İstanbul", "ǅ", "ᾳ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := Fold(s)
		if twice := Fold(once); twice != once {
			t.Fatalf("Fold not idempotent on %q: %q then %q", s, once, twice)
		}
		toks := Tokenize(s)
		for _, tok := range toks {
			if Fold(tok) != tok {
				t.Fatalf("token %q of %q is not folded", tok, s)
			}
		}
		if got := appendedTokens(nil, s); !slices.Equal(got, toks) {
			t.Fatalf("AppendTokens(%q) = %q, Tokenize %q", s, got, toks)
		}
	})
}
