package stories

import (
	"math"
	"testing"
)

// An article is found among a report's terms by marks in the term statistics: the marks of
// an article compared before must not count, also when the stamp wraps around, and
// comparing an article that is not the one marked last is a programming error.
func TestMarks(t *testing.T) {
	x := newIndex(defaultParams)
	x.add(1, "r1", termsOf("Kursk 1500 soldiers killed", "Ukraine says 1,500 North Korean soldiers were killed in Kursk."), 0)
	x.add(2, "r2", termsOf("Seoul protest", "Thousands marched in Seoul on Saturday."), 0)
	report := x.live[1].members[0].terms

	a := x.weigh(termsOf("1,500 North Korean soldiers killed in Kursk", ""))
	x.mark(&a)
	sim, shared := x.similarity(&a, report)
	if sim <= 0 || shared < 3 {
		t.Fatalf("similarity %.3f with %d shared terms, want a match", sim, shared)
	}

	b := x.weigh(termsOf("Seoul protest grows", ""))
	x.mark(&b)
	if sim, shared := x.similarity(&b, report); sim != 0 || shared != 0 {
		t.Errorf("another article: similarity %.3f, %d shared: the first article's marks counted", sim, shared)
	}

	// 2³² marks after b's, the stamp is b's again: b's marks must be gone by then.
	seoul := x.live[2].members[0].terms
	x.stamp = math.MaxUint32
	var c weighted
	for {
		c = x.weigh(termsOf("Kursk", ""))
		x.mark(&c)
		if x.stamp == b.stamp {
			break
		}
	}
	if sim, shared := x.similarity(&c, seoul); sim != 0 || shared != 0 {
		t.Errorf("after the stamp wrapped: similarity %.3f, %d shared: marks of 2³² articles ago counted", sim, shared)
	}
	a = x.weigh(termsOf("1,500 North Korean soldiers killed in Kursk", ""))
	x.mark(&a)
	if got, n := x.similarity(&a, report); got != sim || n != shared {
		t.Errorf("after the stamp wrapped: similarity %v (%d shared), want %v (%d)", got, n, sim, shared)
	}

	defer func() {
		if recover() == nil {
			t.Error("comparing an article that is not the one marked last did not panic")
		}
	}()
	x.mark(&b)
	x.similarity(&a, report)
}
