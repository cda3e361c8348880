package story

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// text is one article of a labelled pair; Story names the event it reports.
type text struct {
	Story   string `json:"story"`
	Title   string `json:"title"`
	Summary string `json:"summary"`
}

// pair is two articles labelled as the same story or not.
type pair struct {
	Name string `json:"name"`
	Lang string `json:"lang"`
	Same bool   `json:"same"`
	A    text   `json:"a"`
	B    text   `json:"b"`
}

func loadPairs(t testing.TB) []pair {
	t.Helper()
	data, err := os.ReadFile("testdata/pairs.json")
	if err != nil {
		t.Fatal(err)
	}
	var ps []pair
	if err := json.Unmarshal(data, &ps); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Same != (p.A.Story == p.B.Story) {
			t.Fatalf("pair %s: label same=%v but stories %q and %q", p.Name, p.Same, p.A.Story, p.B.Story)
		}
	}
	return ps
}

// allPairs labels every two distinct texts of the set by their story: a larger test of
// precision, since most of them are different stories on the same subject.
func allPairs(ps []pair) []pair {
	var texts []text
	for _, p := range ps {
		for _, x := range []text{p.A, p.B} {
			if !slices.Contains(texts, x) {
				texts = append(texts, x)
			}
		}
	}
	var out []pair
	for i := range texts {
		for j := i + 1; j < len(texts); j++ {
			a, b := texts[i], texts[j]
			out = append(out, pair{Name: a.Story + "~" + b.Story, Same: a.Story == b.Story, A: a, B: b})
		}
	}
	return out
}

// score is the confusion matrix of "same story" decisions at one threshold.
type score struct{ tp, fp, fn, tn int }

func (s score) precision() float64 { return ratio(s.tp, s.tp+s.fp) }
func (s score) recall() float64    { return ratio(s.tp, s.tp+s.fn) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func evaluate(ps []pair, dist []int, threshold int) score {
	var s score
	for i, p := range ps {
		switch same := dist[i] <= threshold; {
		case same && p.Same:
			s.tp++
		case same:
			s.fp++
		case p.Same:
			s.fn++
		default:
			s.tn++
		}
	}
	return s
}

func distances(ps []pair, p params) []int {
	d := make([]int, len(ps))
	for i, x := range ps {
		d[i] = of(x.A.Title, x.A.Summary, p).Distance(of(x.B.Title, x.B.Summary, p))
	}
	return d
}

// gap returns the largest distance between copies and the smallest between different
// stories.
func gap(ps []pair, dist []int) (maxSame, minDiff int) {
	maxSame, minDiff = -1, 65
	for i, p := range ps {
		if p.Same {
			maxSame = max(maxSame, dist[i])
		} else {
			minDiff = min(minDiff, dist[i])
		}
	}
	return maxSame, minDiff
}

// TestPairs measures Of and Same on the labelled pairs of testdata/pairs.json and requires
// precision and recall of at least 0.95, per language and overall.
func TestPairs(t *testing.T) {
	ps := loadPairs(t)
	if len(ps) < 20 {
		t.Fatalf("only %d labelled pairs", len(ps))
	}
	dist := distances(ps, defaults)
	for i, p := range ps {
		verdict := "ok"
		if (dist[i] <= Threshold) != p.Same {
			verdict = "WRONG"
		}
		t.Logf("%-34s same=%-5v distance=%2d %s", p.Name, p.Same, dist[i], verdict)
	}
	for _, lang := range []string{"en", "ru", "ko", ""} {
		var sub []pair
		var sd []int
		for i, p := range ps {
			if lang == "" || p.Lang == lang {
				sub, sd = append(sub, p), append(sd, dist[i])
			}
		}
		s := evaluate(sub, sd, Threshold)
		maxSame, minDiff := gap(sub, sd)
		name := cmpOr(lang, "all")
		t.Logf("%-3s %2d pairs: precision %.3f recall %.3f (tp %d fp %d fn %d tn %d); copies within %d bits, different stories from %d",
			name, len(sub), s.precision(), s.recall(), s.tp, s.fp, s.fn, s.tn, maxSame, minDiff)
		if s.precision() < 0.95 || s.recall() < 0.95 {
			t.Errorf("%s: precision %.3f, recall %.3f at threshold %d; want both >= 0.95", name, s.precision(), s.recall(), Threshold)
		}
	}

	all := allPairs(ps)
	ad := distances(all, defaults)
	s := evaluate(all, ad, Threshold)
	maxSame, minDiff := gap(all, ad)
	t.Logf("every two texts of the set (%d pairs): precision %.3f recall %.3f (tp %d fp %d fn %d); copies within %d bits, different stories from %d",
		len(all), s.precision(), s.recall(), s.tp, s.fp, s.fn, maxSame, minDiff)
	if s.precision() < 0.95 || s.recall() < 0.95 {
		t.Errorf("all pairs: precision %.3f, recall %.3f; want both >= 0.95", s.precision(), s.recall())
	}
}

// TestThresholdInGap checks the claim of Threshold's doc comment: on the labelled pairs and
// on every two texts of the set, copies are within Threshold and different stories beyond,
// with a margin of at least 2 bits on each side.
func TestThresholdInGap(t *testing.T) {
	ps := loadPairs(t)
	for _, set := range []struct {
		name string
		ps   []pair
	}{{"labelled pairs", ps}, {"all pairs", allPairs(ps)}} {
		maxSame, minDiff := gap(set.ps, distances(set.ps, defaults))
		t.Logf("%s: copies within %d bits, different stories from %d; Threshold %d", set.name, maxSame, minDiff, Threshold)
		if maxSame > Threshold-2 || minDiff <= Threshold+2 {
			t.Errorf("%s: copies within %d, different stories from %d: Threshold %d does not sit in the gap with a margin of 2",
				set.name, maxSame, minDiff, Threshold)
		}
	}
}

// featureSet is a text's features under one set of params, kept so that fingerprints can
// be recomputed under many hash seeds without tokenizing again.
type featureSet struct {
	keys    []uint64
	weights []int32
	n       int
	seq     uint64
}

func extract(x text, p params) featureSet {
	var fs featureSet
	fs.n, fs.seq = features(x.Title, x.Summary, p, func(k uint64, w int32) {
		fs.keys, fs.weights = append(fs.keys, k), append(fs.weights, w)
	})
	return fs
}

// fingerprint is of() on the stored features.
func (fs featureSet) fingerprint(p params) Fingerprint {
	if fs.n < p.minTokens {
		return Fingerprint(mix(fs.seq))
	}
	var sh simhash
	for i, k := range fs.keys {
		sh.add(mix(k^p.seed), fs.weights[i])
	}
	return sh.sum()
}

// seedStats measures ps under p with many hash seeds: the mean precision and recall at each
// threshold, and the mean distance of each pair. A SimHash distance is a random variable
// whose expectation depends only on the features (64·angle/π between the weighted feature
// vectors); one hash function is one draw, and only the mean says how well the features
// and the threshold separate copies from different stories.
func seedStats(ps []pair, p params, seeds int) (prec, rec [65]float64, meanDist []float64) {
	index := make(map[text]int)
	var sets []featureSet
	ids := make([][2]int, len(ps))
	for i, x := range ps {
		for j, t := range []text{x.A, x.B} {
			k, ok := index[t]
			if !ok {
				k = len(sets)
				index[t] = k
				sets = append(sets, extract(t, p))
			}
			ids[i][j] = k
		}
	}
	meanDist = make([]float64, len(ps))
	fps := make([]Fingerprint, len(sets))
	for s := range seeds {
		q := p
		q.seed = mix(uint64(s) + 1)
		for k, fs := range sets {
			fps[k] = fs.fingerprint(q)
		}
		var same, diff [65]int // how many pairs at each distance
		for i, x := range ps {
			d := fps[ids[i][0]].Distance(fps[ids[i][1]])
			meanDist[i] += float64(d) / float64(seeds)
			if x.Same {
				same[d]++
			} else {
				diff[d]++
			}
		}
		var sc score
		for _, n := range same {
			sc.fn += n
		}
		for _, n := range diff {
			sc.tn += n
		}
		for th := range 65 { // sc: the pairs within th are judged the same
			sc.tp, sc.fn = sc.tp+same[th], sc.fn-same[th]
			sc.fp, sc.tn = sc.fp+diff[th], sc.tn-diff[th]
			prec[th] += sc.precision() / float64(seeds)
			rec[th] += sc.recall() / float64(seeds)
		}
	}
	return prec, rec, meanDist
}

func f1(p, r float64) float64 { return 2 * p * r / (p + r) }

// bestThreshold returns the threshold with the highest F1 of mean precision and recall.
func bestThreshold(prec, rec [65]float64) (th int, f float64) {
	for i := range prec {
		if g := f1(prec[i], rec[i]); g > f {
			th, f = i, g
		}
	}
	return th, f
}

const robustnessSeeds = 200

// TestHashRobustness checks that Threshold does not owe its results to the one hash
// function Of uses: over many hash seeds, on every two texts of the set, mean precision and
// recall at Threshold stay at least 0.95, and Threshold is within one bit of the threshold
// with the best mean F1.
func TestHashRobustness(t *testing.T) {
	labelled := loadPairs(t)
	_, _, mean := seedStats(labelled, defaults, robustnessSeeds)
	for i, p := range labelled {
		t.Logf("%-34s same=%-5v mean distance over %d hashes %5.1f", p.Name, p.Same, robustnessSeeds, mean[i])
	}
	prec, rec, _ := seedStats(allPairs(labelled), defaults, robustnessSeeds)
	for th := 8; th <= 20; th++ {
		t.Logf("threshold %2d: mean precision %.3f recall %.3f F1 %.3f", th, prec[th], rec[th], f1(prec[th], rec[th]))
	}
	best, _ := bestThreshold(prec, rec)
	t.Logf("best mean F1 at threshold %d; Threshold is %d", best, Threshold)
	if prec[Threshold] < 0.95 || rec[Threshold] < 0.95 {
		t.Errorf("mean precision %.3f, recall %.3f at Threshold %d; want both >= 0.95", prec[Threshold], rec[Threshold], Threshold)
	}
	if best < Threshold-1 || best > Threshold+1 {
		t.Errorf("the best mean F1 is at threshold %d, not within 1 of Threshold %d", best, Threshold)
	}
}

// TestSweep measures the alternatives to the chosen features (single words as well as
// pairs, other title weights, no minimum length) the same way, and fails if one of them
// does clearly better than the defaults: then the defaults should change.
func TestSweep(t *testing.T) {
	ps := allPairs(loadPairs(t))
	dp, dr, _ := seedStats(ps, defaults, robustnessSeeds)
	_, defF1 := bestThreshold(dp, dr)
	for _, uni := range []bool{false, true} {
		for _, tw := range []int32{1, 2, 3, 4} {
			for _, mt := range []int{0, MinTokens} {
				p := defaults
				p.unigrams, p.titleWeight, p.minTokens = uni, tw, mt
				prec, rec, _ := seedStats(ps, p, robustnessSeeds)
				th, f := bestThreshold(prec, rec)
				mark := ""
				if p == defaults {
					mark = "  <- defaults"
				}
				t.Logf("unigrams=%-5v title×%d minTokens=%d: best threshold %2d, mean precision %.3f recall %.3f F1 %.4f%s",
					uni, tw, mt, th, prec[th], rec[th], f, mark)
				if f > defF1+0.005 {
					t.Errorf("this variant beats the defaults (F1 %.4f > %.4f)", f, defF1)
				}
			}
		}
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
