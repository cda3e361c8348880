package topics

import (
	"errors"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// bigQuery returns a query of n distinct terms joined by op (" OR ", " AND ", " ").
func bigQuery(n int, op string) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(op)
		}
		b.WriteString("w" + strconv.FormatInt(int64(i), 36))
	}
	return b.String()
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Parsing and compiling a query is linear in its size: ten times the terms cost about ten times
// the work, measured as bytes allocated (machine speed does not enter). Joining each new term
// by copying the operands so far made a 20k-term query take 5 s and an 80k-term one 92 s.
func TestLargeQueriesAreLinear(t *testing.T) {
	for _, op := range []string{" OR ", " AND ", " "} {
		small, large := bigQuery(10_000, op), bigQuery(MaxQueryTerms, op)
		if len(large) > MaxQueryBytes {
			t.Fatalf("the %d-term query is %d bytes, over the byte limit", MaxQueryTerms, len(large))
		}
		for name, f := range map[string]func(string) error{
			"parse": func(q string) error { _, err := Parse(q); return err },
			"compile": func(q string) error {
				_, err := Compile([]Topic{{ID: "t", Query: q}})
				return err
			},
		} {
			var errSmall, errLarge error
			a := allocated(func() { errSmall = f(small) })
			b := allocated(func() { errLarge = f(large) })
			if errSmall != nil || errLarge != nil {
				t.Fatalf("%s %q: %v, %v", name, op, errSmall, errLarge)
			}
			ratio := float64(b) / float64(a)
			t.Logf("%s with %q: 10k terms %d KB, 100k terms %d KB: ×%.1f", name, op, a>>10, b>>10, ratio)
			if ratio > 20 {
				t.Errorf("%s with %q: 10× the terms allocate ×%.1f the bytes: not linear", name, op, ratio)
			}
		}
	}
}

func TestQuerySizeLimits(t *testing.T) {
	var se *SyntaxError
	_, err := Parse(bigQuery(MaxQueryTerms+1, " OR "))
	if !errors.As(err, &se) || !strings.Contains(se.Msg, "query too large: 100001 terms, at most 100000") {
		t.Errorf("too many terms: %v", err)
	}
	_, err = Parse(strings.Repeat("x", MaxQueryBytes+1))
	if !errors.As(err, &se) || !strings.Contains(se.Msg, "query too long") {
		t.Errorf("too many bytes: %v", err)
	}
	if _, err := Parse(bigQuery(MaxQueryTerms, " OR ")); err != nil {
		t.Errorf("a query at the term limit: %v", err)
	}
}

// BenchmarkParseLarge parses a query at the term limit.
func BenchmarkParseLarge(b *testing.B) {
	q := bigQuery(MaxQueryTerms, " OR ")
	for b.Loop() {
		if _, err := Parse(q); err != nil {
			b.Fatal(err)
		}
	}
}
