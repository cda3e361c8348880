package stories

import "math"

// weights returns the term weights under the current statistics (see weights.weight). They
// are computed for every term of every compared report, so the logarithms come from a
// table: with an integer prior, log(N+prior−df+½) − log(df+½) is a difference of two entries.
func (x *index) weights() weights {
	n := x.docs + x.p.prior
	for len(x.logHalf) <= n {
		x.logHalf = append(x.logHalf, math.Log(float64(len(x.logHalf))+0.5))
	}
	f := weights{logHalf: x.logHalf[:n+1], n: n, reports: n, titleBoost: x.p.titleBoost}
	if x.p.classicIDF {
		f.n = 0 // every term takes rare's way
		f.classic = true
	}
	return f
}

// weights weigh terms by their document frequency in n reports.
type weights struct {
	logHalf    []float64 // logHalf[k] = log(k+½), for k ≤ n
	n          int       // the reports (with the prior), or 0 for classic weights
	reports    int
	titleBoost float64
	classic    bool
}

// weight is how much sharing a term says about two texts reporting one event: its
// probabilistic inverse document frequency (Robertson–Spärck Jones), log((N−df+½)/(df+½))
// for N reports of which df contain the term, and 0 for terms in half the reports or more.
// A topic's own subject and the function words of every language weigh nothing, without any
// word list, in a quiet topic and in a busy one alike; the classic log(N/df) still gives
// them some weight in a quiet topic, which makes the similarity of two reports depend on
// how busy their topic is (measured in TestLabelledInBusyTopic and TestSweep).
func (f weights) weight(df int32, title bool) float64 {
	w := f.idf(df)
	if title {
		w = float64(w * f.titleBoost) // float64(): no fused multiply-add, the same on every CPU
	}
	return w
}

func (f weights) idf(df int32) float64 {
	if d := int(df); d < f.n {
		return max(0, f.logHalf[f.n-d]-f.logHalf[d])
	}
	return f.rare(df)
}

// rare is idf's other cases: terms in all the reports, and classic weights (tests only).
// Out of line, so that idf's common case is inlined in the loops that weigh every term.
//
//go:noinline
func (f weights) rare(df int32) float64 {
	if f.classic {
		return math.Log(float64(f.reports) / float64(df+1))
	}
	return 0
}
