package alerts

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkObserveFolded measures the engine's decision for a copy of an alerted story,
// which now returns its suppression, with 1,000 alerted stories in the window.
func BenchmarkObserveFolded(b *testing.B) {
	e := NewEngine([]Rule{{Topic: "k"}}, nil)
	for i := range 1000 {
		id := strconv.Itoa(i)
		e.Observe(mAt("s"+id, "https://x/"+id, "wire", "Story number "+id+" about event "+id+" in a place", storySummary+" "+id, t0), uint64(i+1), t0)
		fireAll(b, e, t0)
	}
	m := mAt("copy", "https://paper/copy", "paper", "Story number 500 about event 500 in a place", storySummary+" 500", t0)
	seq := uint64(2000)
	for b.Loop() {
		seq++
		if _, ok := e.Observe(m, seq, t0.Add(time.Minute)); !ok {
			b.Fatal("not folded")
		}
	}
}

// BenchmarkSuppressionLogAdd measures recording one suppression in a full topic log.
func BenchmarkSuppressionLogAdd(b *testing.B) {
	l := NewSuppressionLog(0)
	for i := range DefaultSuppressedKept {
		l.Add(Suppression{Topic: "k", ArticleID: strconv.Itoa(i), StreamSeq: uint64(i), Reason: ReasonFolded})
	}
	seq := uint64(DefaultSuppressedKept)
	for b.Loop() {
		seq++
		l.Add(Suppression{Topic: "k", ArticleID: "a", StreamSeq: seq, Reason: ReasonFolded})
	}
}
