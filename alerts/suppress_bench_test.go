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

// BenchmarkSuppressionsMarshal measures preparing a full topic's suppressions for saving,
// and reports the document's size.
func BenchmarkSuppressionsMarshal(b *testing.B) {
	l := NewSuppressionLog(0)
	for i := range DefaultSuppressedKept {
		id := strconv.Itoa(i)
		l.Add(Suppression{Topic: "dprk-russia", ArticleID: "3f1c0d6a9b2e4c7d8e9f0a1b2c3d" + id, URL: "https://paper.example.net/world/2026/11/25/kursk-troops-" + id,
			Title: "Pyongyang sends thousands of troops to Russia's Kursk region, Seoul says " + id, Source: "paper",
			MatchedAt: t0, StreamSeq: uint64(i), At: t0, Reason: ReasonFolded, FoldedInto: "7a40ee93b39b7765720dd22aa40fc706",
			Story: "story-c56af7191d4b8401a472105f", FoldedBy: FoldedNearCopy, Similarity: 0.953125})
	}
	var size int
	for b.Loop() {
		l.topics["dprk-russia"].dirty = true
		size = len(l.dirtyTopics()["dprk-russia"])
	}
	b.ReportMetric(float64(size), "bytes/doc")
}
