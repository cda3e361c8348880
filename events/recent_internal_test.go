package events

import (
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go"
)

func recentBatchOf(n int, size int) []*nats.Msg {
	msgs := make([]*nats.Msg, n)
	for i := range msgs {
		msgs[i] = &nats.Msg{Subject: "a", Data: make([]byte, size)}
	}
	return msgs
}

// TestRecentWrites: runs of consecutive sequences are found from any of their sequences, never
// across a gap; the oldest go first past the byte limit; sequences that go back start over.
func TestRecentWrites(t *testing.T) {
	cost := recentCost("a", make([]byte, 10))
	r := newRecentWrites(5 * cost)
	var done atomic.Uint64 // a reader that has done nothing yet
	defer r.join(&done)()
	r.add(10, recentBatchOf(3, 10)) // 10, 11, 12
	r.add(14, recentBatchOf(2, 10)) // 14, 15: 13 is another writer's
	if got := r.from(11, nil, 10); len(got) != 2 || got[0].seq != 11 || got[1].seq != 12 {
		t.Errorf("from(11) = %+v, want 11 and 12 (not past the gap at 13)", got)
	}
	if r.has(13) || !r.has(14) || r.has(16) || r.has(9) {
		t.Error("has: wrong about 9, 13, 14 or 16")
	}
	if got := r.from(10, nil, 2); len(got) != 2 {
		t.Errorf("from(10) with max 2 gave %d", len(got))
	}
	if r.last() != 15 {
		t.Errorf("last = %d, want 15", r.last())
	}
	wake := r.changed()
	r.add(16, recentBatchOf(6, 10)) // 11 entries: the newest 5 stay, 17 to 21
	select {
	case <-wake:
	default:
		t.Error("add did not close the channel changed returned")
	}
	if r.has(16) || !r.has(17) || !r.has(21) || r.bytes != 5*cost {
		t.Errorf("after eviction: has(16) %v, has(17) %v, has(21) %v, %d bytes", r.has(16), r.has(17), r.has(21), r.bytes)
	}
	r.add(5, recentBatchOf(1, 10)) // a stream that started over
	if r.has(17) || !r.has(5) || r.last() != 5 {
		t.Error("sequences that went back did not start the log over")
	}
}

// TestRecentWritesKeepsOnlyWhatReadersNeed: without a reader nothing is recorded; an entry
// goes once every reader has done it, and when the last reader leaves.
func TestRecentWritesKeepsOnlyWhatReadersNeed(t *testing.T) {
	r := newRecentWrites(1 << 20)
	r.add(1, recentBatchOf(3, 10))
	if r.has(1) || r.bytes != 0 {
		t.Fatal("recorded writes with no reader")
	}
	var a, b atomic.Uint64
	leaveA := r.join(&a)
	leaveB := r.join(&b)
	r.add(4, recentBatchOf(4, 10)) // 4..7
	a.Store(6)
	b.Store(4)
	r.release()
	if r.has(4) || !r.has(5) || !r.has(7) {
		t.Errorf("after a at 6, b at 4: has(4) %v, has(5) %v, has(7) %v; want only 5..7", r.has(4), r.has(5), r.has(7))
	}
	leaveB()
	if r.has(5) || r.has(6) || !r.has(7) {
		t.Error("b left: entries a has done stayed, or 7 went")
	}
	if want := recentCost("a", make([]byte, 10)); r.bytes != want {
		t.Errorf("bytes = %d, want one entry's %d", r.bytes, want)
	}
	leaveA()
	if r.has(7) || r.bytes != 0 || r.last() != 0 {
		t.Error("the last reader left and the log kept entries")
	}
	// A large emptied log lets its slice go.
	var c atomic.Uint64
	defer r.join(&c)()
	r.add(100, recentBatchOf(2*recentKeepCap, 0))
	c.Store(100 + 2*recentKeepCap)
	r.release()
	if cap(r.entries) > recentKeepCap {
		t.Errorf("an empty log keeps room for %d entries", cap(r.entries))
	}
}

func TestSubjectMatches(t *testing.T) {
	for _, c := range []struct {
		subject, filter string
		want            bool
	}{
		{"newswatch.articles.f1", "newswatch.articles.*", true},
		{"newswatch.articles.f1.x", "newswatch.articles.*", false},
		{"newswatch.articles", "newswatch.articles.*", false},
		{"newswatch.articleids.abc", "newswatch.articles.*", false},
		{"newswatch.fulltext.f1", "newswatch.>", true},
		{"newswatch", "newswatch.>", false},
		{"newswatch.articles.f1", "newswatch.articles.f1", true},
		{"newswatch.articles.f2", "newswatch.articles.f1", false},
	} {
		if got := subjectMatches(c.subject, c.filter); got != c.want {
			t.Errorf("subjectMatches(%q, %q) = %v, want %v", c.subject, c.filter, got, c.want)
		}
	}
}
