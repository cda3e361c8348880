package stories

import (
	"fmt"
	"strings"
	"testing"
)

// TestSweep logs precision and recall on every labelled set for alternatives to the default
// parameters, one changed at a time: the numbers behind the defaults in
// docs/stories-spikes-digests.md. It fails when an alternative does better than the
// defaults on the sets the parameters were chosen on (the least of precision and recall
// over labelled.json and heldout.json): the defaults must stay a local optimum. final.json
// is logged, never used to choose.
//
//	go test -v -run TestSweep ./projections/stories
func TestSweep(t *testing.T) {
	type variant struct {
		name string
		p    params
	}
	d := defaultParams
	with := func(name string, f func(*params)) variant {
		p := d
		f(&p)
		return variant{name, p}
	}
	variants := []variant{{"defaults", d}}
	for _, th := range []float64{0.10, 0.12, 0.16, 0.18, 0.20, 0.24} {
		variants = append(variants, with(fmt.Sprintf("threshold %.2f", th), func(p *params) { p.threshold = th }))
	}
	variants = append(variants, with("classic idf, threshold 0.18", func(p *params) { p.classicIDF, p.threshold = true, 0.18 }))
	for _, hl := range []int64{0, 6, 24, 48} {
		variants = append(variants, with(fmt.Sprintf("half-life %dh", hl), func(p *params) { p.halfLife = hl * 3600 }))
	}
	for _, pr := range []int{1, 2, 10, 20} {
		variants = append(variants, with(fmt.Sprintf("prior %d", pr), func(p *params) { p.prior = pr }))
	}
	for _, tb := range []float64{1, 2} {
		variants = append(variants, with(fmt.Sprintf("title boost %v", tb), func(p *params) { p.titleBoost = tb }))
	}
	variants = append(variants,
		with("members 1", func(p *params) { p.members = 1 }),
		with("members 3", func(p *params) { p.members = 3 }),
		with("every story a candidate", func(p *params) { p.keys, p.maxPosting = 1<<30, 1<<30 }),
		with("keys 4", func(p *params) { p.keys = 4 }),
	)
	worst := make([]float64, len(variants)) // least precision or recall on the tuning sets
	for i := range worst {
		worst[i] = 1
	}
	for _, set := range labelledSets {
		arts := loadLabelled(t, set.file)
		var b strings.Builder
		fmt.Fprintf(&b, "%s:\n", set.file)
		for i, v := range variants {
			prec, rec, _, _ := pairScores(arts, group(t, newWith(v.p), arts, false))
			fmt.Fprintf(&b, "  %-28s precision %.3f recall %.3f\n", v.name, prec, rec)
			if set.file != "testdata/final.json" {
				worst[i] = min(worst[i], prec, rec)
			}
		}
		t.Log(b.String())
	}
	for i, v := range variants {
		if worst[i] > worst[0] {
			t.Errorf("%s does better than the defaults on the tuning sets: %.3f > %.3f", v.name, worst[i], worst[0])
		}
	}
}
