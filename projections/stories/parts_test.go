package stories

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSnapshotParts saves two topics' stories in parts after every few events, as the
// projector does (only the parts changed since the last save), and restores a projection
// from the parts saved so far: it must be the projection that folded the events, byte for
// byte, and go on folding as it would. A save after one event rewrites the meta part and
// the part of the story it joined, not every part; parts of pruned stories go.
func TestSnapshotParts(t *testing.T) {
	dprk, _ := loadMatched(t, "testdata/labelled.json")
	heldout, _ := loadMatched(t, "testdata/heldout.json")
	type ev struct {
		topic string
		a     labelled
	}
	var evs []ev
	for _, a := range dprk {
		evs = append(evs, ev{"dprk-russia", a})
	}
	for _, a := range heldout {
		a.At = dprk[0].At.Add(a.At.Sub(heldout[0].At)) // the same days
		evs = append(evs, ev{"red-sea", a})
	}
	slices.SortStableFunc(evs, func(a, b ev) int { return a.a.At.Compare(b.a.At) })
	// Ten days later: the older stories are pruned, and their parts go.
	late := dprk[0]
	late.ID, late.At = "late", evs[len(evs)-1].a.At.Add(10*24*time.Hour)
	evs = append(evs, ev{"dprk-russia", late})

	p := New()
	saved := map[string][]byte{}
	var savedSeq uint64
	save := func(seq uint64) (changed int) {
		names, parts, err := p.SnapshotParts(savedSeq)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.IsSorted(names) || names[0] != metaPart {
			t.Fatalf("part names %v: not sorted, or no meta part", names)
		}
		for name := range saved {
			if !slices.Contains(names, name) {
				delete(saved, name)
			}
		}
		for name, b := range parts {
			if !slices.Contains(names, name) {
				t.Fatalf("part %s given but not named", name)
			}
			saved[name] = b
		}
		for _, name := range names {
			if saved[name] == nil {
				t.Fatalf("after the save at %d, part %s was never given", seq, name)
			}
		}
		savedSeq = seq
		return len(parts)
	}
	check := func(seq uint64) *Projection {
		t.Helper()
		q := New()
		if err := q.RestoreParts(saved); err != nil {
			t.Fatal(err)
		}
		want, _ := p.Snapshot()
		got, _ := q.Snapshot()
		if !bytes.Equal(got, want) {
			t.Fatalf("restored from the parts saved at %d: the state differs", seq)
		}
		return q
	}
	var restored *Projection
	var restoredAt, rewritten, saves int
	for i, e := range evs {
		seq := uint64(i + 1)
		if err := p.Apply(matchEvent(t, e.topic, e.a), seq); err != nil {
			t.Fatal(err)
		}
		if restored != nil {
			if err := restored.Apply(matchEvent(t, e.topic, e.a), seq); err != nil {
				t.Fatal(err)
			}
		}
		n := save(seq)
		if i >= 30 && i < len(evs)-1 {
			rewritten += n
			saves++
		}
		if i%7 != 0 && i != len(evs)-1 {
			continue
		}
		check(seq)
		if i == 49 {
			restored, restoredAt = check(seq), i
		}
	}
	// Each save after one event: the meta part and the story's, and the parts of the stories
	// an hourly pruning left the index.
	if avg := float64(rewritten) / float64(saves); avg > 2.5 {
		t.Errorf("a save after one event rewrote %.1f parts on average, want the meta part and one or two", avg)
	}
	var dprkParts []string
	for name := range saved {
		if strings.HasSuffix(name, ".dprk-russia") {
			dprkParts = append(dprkParts, name)
		}
	}
	if len(dprkParts) != 1 {
		t.Errorf("after the late article the topic has parts %v, want its own alone", dprkParts)
	}
	// A projection restored half-way that folded the rest is the same too.
	want, _ := p.Snapshot()
	got, _ := restored.Snapshot()
	if restoredAt == 0 || !bytes.Equal(got, want) {
		t.Errorf("restored after event %d and folded the rest: the state differs", restoredAt+1)
	}
	if err := New().RestoreParts(map[string][]byte{"t.1.x": []byte(`{"version":4,"topic":"x"}`)}); err == nil {
		t.Error("parts without a meta part restored")
	}
}

// TestSnapshotPartsMoves covers the two changes that rewrite a part no new article joined:
// a story whose first article is now an earlier one moves to another part, leaving one
// behind; a story pruned after the retention leaves the part of a story still kept.
func TestSnapshotPartsMoves(t *testing.T) {
	start := time.Date(2026, 6, 1, 1, 0, 0, 0, time.UTC) // an hour into a part
	a := labelled{ID: "a", Source: "wire", At: start, Title: "Dockworkers strike closes the port of Antwerp",
		Summary: "Cranes stood idle as unions walked out over pensions."}
	b := labelled{ID: "b", Source: "wire", At: start.Add(time.Minute), Title: "Glacier collapse floods alpine valley villages",
		Summary: "Rescuers evacuated hamlets below the melting ice."}
	copyOf := func(x labelled, id string, at time.Time) labelled {
		x.ID, x.At, x.Source = id, at, "paper-"+id
		return x
	}
	c := labelled{ID: "c", Source: "wire", At: start.Add(12 * time.Hour), Title: "Orchestra premieres symphony written by robots",
		Summary: "Critics were divided over the machine-made score."}
	for name, evs := range map[string][]labelled{
		// a's copy, published seven hours earlier, makes a's first article an earlier one.
		"moved": {a, b, copyOf(a, "a0", start.Add(-7*time.Hour))},
		// With stories kept 10 hours after their last article, b's copy nine hours on keeps
		// it, and a is pruned when c comes, twelve hours on.
		"pruned": {a, b, copyOf(b, "b1", start.Add(9*time.Hour)), c},
	} {
		p := New()
		p.retention = 10 * 3600
		saved := map[string][]byte{}
		for i, e := range evs {
			seq := uint64(i + 1)
			if err := p.Apply(matchEvent(t, "t", e), seq); err != nil {
				t.Fatal(err)
			}
			names, parts, err := p.SnapshotParts(seq - 1)
			if err != nil {
				t.Fatal(err)
			}
			for n := range saved {
				if !slices.Contains(names, n) {
					delete(saved, n)
				}
			}
			for n, b := range parts {
				saved[n] = b
			}
			q := New()
			q.retention = p.retention
			if err := q.RestoreParts(saved); err != nil {
				t.Fatalf("%s, after %s: %v", name, e.ID, err)
			}
			want, _ := p.Snapshot()
			got, _ := q.Snapshot()
			if !bytes.Equal(got, want) {
				t.Fatalf("%s, after %s: restored from the parts, the state differs", name, e.ID)
			}
		}
		if ids := storyIDs(p, "t"); name == "pruned" && (ids["a"] != "" || ids["b"] == "" || ids["b1"] != ids["b"]) {
			t.Errorf("%s: a is kept, or b's rewrites are not b's story: %v", name, ids)
		}
	}
}

// storyIDs returns the story id of each article of a topic.
func storyIDs(p *Projection, topic string) map[string]string {
	out := map[string]string{}
	for _, s := range p.Stories(topic, 0) {
		for _, a := range s.Articles {
			out[a.ID] = s.ID
		}
	}
	return out
}
