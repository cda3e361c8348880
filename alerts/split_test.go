package alerts

import (
	"fmt"
	"testing"
)

// TestLargeGroupSplitsIntoDistinctAlerts: a group of more than maxArticlesPerAlert articles
// fires in parts with ids and source sequences of their own (the same id would make
// JetStream drop the later parts as duplicates; the group's last sequence on the first part
// would make a restarted engine skip the rest).
func TestLargeGroupSplitsIntoDistinctAlerts(t *testing.T) {
	e := NewEngine([]Rule{{Topic: "k"}}, nil)
	const n = 2*maxArticlesPerAlert + 20
	for i := range n {
		id := fmt.Sprintf("a%d", i)
		e.Observe(m(id, "https://x.example/"+id, fmt.Sprintf("s%d", i), fmt.Sprintf("Story %d %s zeta%d omega%d", i, id, i*7, i*13), ""), uint64(i+1), t0)
	}
	ids := map[string]bool{}
	var last uint64
	seen := 0
	for range 3 {
		for _, f := range fireAll(t, e, t0) {
			if ids[f.Alert.ID] {
				t.Fatalf("alert id %s fired twice", f.Alert.ID)
			}
			ids[f.Alert.ID] = true
			if f.LastSeq <= last {
				t.Fatalf("last seq %d after %d", f.LastSeq, last)
			}
			last = f.LastSeq
			seen += len(f.Alert.Articles)
			if want := uint64(seen); f.LastSeq != want {
				t.Errorf("part ending with article %d covers up to seq %d", seen, f.LastSeq)
			}
		}
	}
	if seen != n || len(ids) != 3 {
		t.Fatalf("%d articles in %d alerts; want %d in 3", seen, len(ids), n)
	}
	if e.Resume() != uint64(n) {
		t.Errorf("resume %d after all fired, want %d", e.Resume(), n)
	}
}
