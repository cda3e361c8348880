package story

import (
	"strings"
	"testing"
)

// oneWordChanged returns title-only pairs made from every headline of the labelled set:
// the headline, and the headline with its middle word replaced. They are different
// stories ("North Korea sends troops to Russia" / "... sends missiles to ..."), and the
// shorter the headline, the more of its shingles one word changes.
func oneWordChanged(t *testing.T) []pair {
	t.Helper()
	seen := make(map[string]bool)
	var out []pair
	for _, p := range loadPairs(t) {
		for _, x := range []text{p.A, p.B} {
			words := strings.Fields(x.Title)
			if seen[x.Title] || len(words) < 3 {
				continue
			}
			seen[x.Title] = true
			changed := append([]string(nil), words...)
			changed[len(words)/2] = "Zanzibar"
			out = append(out, pair{
				Name: x.Title,
				A:    text{Story: x.Story, Title: x.Title},
				B:    text{Story: x.Story + "-changed", Title: strings.Join(changed, " ")},
			})
		}
	}
	return out
}

// TestShortTitlesDoNotCollide checks the MinTokens rule: a headline without a summary is
// never the same story as the headline with one word changed, while it still is the same
// as itself in other case and punctuation.
func TestShortTitlesDoNotCollide(t *testing.T) {
	ps := oneWordChanged(t)
	for _, p := range ps {
		if a, b := Of(p.A.Title, ""), Of(p.B.Title, ""); Same(a, b) {
			t.Errorf("%q and %q: distance %d, judged the same story", p.A.Title, p.B.Title, a.Distance(b))
		}
		if a, b := Of(p.A.Title, ""), Of(strings.ToUpper(p.A.Title)+"!", ""); a != b {
			t.Errorf("%q: changing case and punctuation changed the fingerprint", p.A.Title)
		}
	}
	// Why the rule: with SimHash alone, how often one changed word passes for the same story.
	pure := defaults
	pure.minTokens = 0
	_, _, mean := seedStats(ps, pure, robustnessSeeds)
	byLen := make(map[int][]float64)
	for i, p := range ps {
		n, _ := features(p.A.Title, "", pure, func(uint64, int32) {})
		byLen[n] = append(byLen[n], mean[i])
	}
	for n := range 30 {
		if ds := byLen[n]; len(ds) > 0 {
			var sum float64
			for _, d := range ds {
				sum += d
			}
			t.Logf("SimHash alone, title-only headlines of %2d tokens with one word changed: mean distance %4.1f (%d headlines)", n, sum/float64(len(ds)), len(ds))
		}
	}
}
