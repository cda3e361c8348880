package stories

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// Pruning finds the stories to forget through heaps rather than by looking at every story:
// after each prune the joinable and the listed stories must be exactly those whose last
// article is recent enough, however late articles came and however often stories grew.
func TestPruneKeepsExactlyTheRecent(t *testing.T) {
	p := New()
	rng := rand.New(rand.NewPCG(3, 1))
	last := map[string]int64{} // story id → its newest article, unix seconds
	horizon := t0
	pruned := int64(0)
	for i := range 3000 {
		at := horizon
		if rng.IntN(5) == 0 { // a late article, up to two and a half days behind
			at = at.Add(-time.Duration(rng.Int64N(60*3600)) * time.Second)
		} else {
			horizon = horizon.Add(20 * time.Minute)
			at = horizon
		}
		// Articles of one event share its three numbers, so stories grow over days.
		j := max(0, i/8-rng.IntN(20))
		a := labelled{
			ID: fmt.Sprintf("a%d", i), Source: fmt.Sprintf("s%d", i%7), At: at,
			Title: fmt.Sprintf("%d %d %d report", 1000+j, 2000+j, 3000+j), Summary: fmt.Sprintf("%d", 5000+i),
		}
		if err := p.Apply(matchEvent(t, "t", a), uint64(i+1)); err != nil {
			t.Fatal(err)
		}
		id, ok := p.StoryID("t", a.ID)
		if !ok {
			t.Fatalf("%s: no story", a.ID)
		}
		last[id] = max(last[id], at.Unix())
		ts := p.topics["t"]
		if len(ts.expiry) != len(ts.stories) || len(ts.index.ending) != len(ts.index.live) {
			t.Fatalf("after %s: %d stories and %d in expiry, %d joinable and %d in ending",
				a.ID, len(ts.stories), len(ts.expiry), len(ts.index.live), len(ts.index.ending))
		}
		if ts.pruned == pruned {
			continue
		}
		pruned = ts.pruned
		var listed, joinable, wantListed, wantJoinable []string
		for k, s := range ts.stories {
			listed = append(listed, s.ID)
			if ts.index.live[k] != nil {
				joinable = append(joinable, s.ID)
			}
		}
		for id, at := range last {
			if at >= pruned-p.retention {
				wantListed = append(wantListed, id)
			}
			if at >= pruned-ts.index.p.window {
				wantJoinable = append(wantJoinable, id)
			}
		}
		for _, l := range [][]string{listed, joinable, wantListed, wantJoinable} {
			slices.Sort(l)
		}
		if !slices.Equal(listed, wantListed) || !slices.Equal(joinable, wantJoinable) {
			t.Fatalf("after %s (pruned at %d): %d listed and %d joinable stories, want %d and %d",
				a.ID, pruned, len(listed), len(joinable), len(wantListed), len(wantJoinable))
		}
	}
	if ts := p.topics["t"]; len(ts.stories) >= len(last) || len(ts.index.live) >= len(ts.stories) {
		t.Errorf("%d stories made, %d listed, %d joinable: nothing was pruned", len(last), len(ts.stories), len(ts.index.live))
	}
}

func TestExpiryOrder(t *testing.T) {
	var h expiry
	rng := rand.New(rand.NewPCG(1, 2))
	var want []expiring
	for k := range 200 {
		at := rng.Int64N(50)
		h.push(at, uint64(k))
		want = append(want, expiring{at, uint64(k)})
	}
	slices.SortFunc(want, func(a, b expiring) int {
		if a.before(b) {
			return -1
		}
		return 1
	})
	if _, ok := h.due(want[0].at); ok {
		t.Fatal("a key due at the cutoff itself was popped")
	}
	var got []expiring
	for {
		k, ok := h.due(25)
		if !ok {
			break
		}
		got = append(got, expiring{want[len(got)].at, k})
	}
	i := slices.IndexFunc(want, func(e expiring) bool { return e.at >= 25 })
	if len(got) != i || len(h) != len(want)-i {
		t.Fatalf("popped %d before 25, %d left; want %d and %d", len(got), len(h), i, len(want)-i)
	}
	for j := range got {
		if got[j].key != want[j].key {
			t.Fatalf("pop %d: key %d, want %d", j, got[j].key, want[j].key)
		}
	}
}
