package spike

import (
	"math"
	"time"
)

// The baseline of a window is the number of stories the topic usually has in such a window:
// the weighted mean of the counts in the same window shifted back by whole days and weeks,
// read from hourly counts:
//
//   - the same window 1, 2, 3 and 4 weeks earlier (same hour, same weekday), weight 3 each;
//   - the same window 1 to 6 days earlier (same hour, other weekdays), weight 1 each.
//
// Weekly samples know the day of the week (a topic quiet at weekends), daily samples let a
// young topic learn its daily cycle within days, and together they smooth the noise of
// four samples. Shifts follow the rule's clock, so "the same hour" stays the same local hour
// across a daylight saving change. Only windows after the topic's first story count.
//
// The spread of the samples sets the dispersion: a topic whose counts vary more than a
// Poisson process would (bursty coverage) needs a larger count to be significant. So does
// a baseline learnt from few samples: the mean itself is uncertain, by a variance of
// (variance of one window) / (effective number of samples), which widens the dispersion by
// 1 + 1/n_eff.
const (
	weeklyWeight = 3
	dailyWeight  = 1
	// minSamples is the fewest samples a baseline needs before a spike can fire.
	minSamples = 3
	// maxDispersion bounds the variance-to-mean ratio taken from few samples.
	maxDispersion = 10
)

type baselineEstimate struct {
	mean       float64
	dispersion float64 // variance / mean, at least 1
	samples    int
}

func (t *topicState) baseline(r Rule, now time.Time) baselineEstimate {
	local := now.In(r.Location)
	start := floorDiv(t.Start, hour) * hour
	var sum, sumSq, weights, weights2 float64
	n := 0
	sample := func(days int, w float64) {
		e := local.AddDate(0, 0, -days)
		s := e.Add(-r.Window)
		if s.Unix() < start {
			return
		}
		c := t.counted(s.Unix(), e.Unix())
		sum += w * c
		sumSq += w * c * c
		weights += w
		weights2 += w * w
		n++
	}
	for k := 1; k <= 4; k++ {
		sample(7*k, weeklyWeight)
	}
	for j := 1; j <= 6; j++ {
		sample(j, dailyWeight)
	}
	b := baselineEstimate{dispersion: 1, samples: n}
	if n == 0 {
		return b
	}
	b.mean = sum / weights
	if n >= 4 && b.mean > 0 {
		variance := (sumSq/weights - b.mean*b.mean) * float64(n) / float64(n-1)
		b.dispersion = min(max(variance/b.mean, 1), maxDispersion)
	}
	b.dispersion *= 1 + weights2/(weights*weights) // 1 + 1/n_eff
	return b
}

// needed is the least count that fires against a baseline m with dispersion d: at least
// threshold times the baseline, and with a tail probability of at most Alpha.
func needed(m, d, threshold float64) int {
	k := max(1, int(math.Ceil(threshold*m-1e-9)))
	for tail(k, m, d) > Alpha {
		k++
	}
	return k
}

// tail is the probability of a count of at least k when counts have mean m and
// variance-to-mean ratio d (quasi-Poisson: k/d against a Poisson mean m/d). For d = 1 it is
// the Poisson upper tail P(X ≥ k) = P(k, m), the regularized lower incomplete gamma
// function, which also takes the non-integer k/d.
func tail(k int, m, d float64) float64 {
	if k <= 0 {
		return 1
	}
	return lowerGamma(float64(k)/d, m/d)
}

// lowerGamma is the regularized lower incomplete gamma function P(a, x) = γ(a, x)/Γ(a), by its
// power series where it converges fast (x < a+1) and as 1 − Q(a, x) by the continued
// fraction of Q otherwise.
func lowerGamma(a, x float64) float64 {
	if x <= 0 {
		return 0
	}
	lg, _ := math.Lgamma(a)
	prefix := math.Exp(a*math.Log(x) - x - lg) // x^a e^-x / Γ(a)
	if x < a+1 {
		// γ(a,x) = x^a e^-x Σ x^n / (a (a+1) ... (a+n))
		term, sum := 1/a, 1/a
		for n := 1; n < 1000; n++ {
			term *= x / (a + float64(n))
			sum += term
			if term < sum*1e-15 {
				break
			}
		}
		return min(1, prefix*sum)
	}
	// Q(a,x) = x^a e^-x / Γ(a) · 1/(x+1-a- 1(1-a)/(x+3-a- 2(2-a)/(x+5-a- ...))), evaluated
	// from the front by the modified Lentz method.
	const tiny = 1e-300
	b := x + 1 - a
	c := 1 / tiny
	dd := 1 / b
	h := dd
	for i := 1; i < 1000; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		dd = an*dd + b
		if math.Abs(dd) < tiny {
			dd = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		dd = 1 / dd
		delta := dd * c
		h *= delta
		if math.Abs(delta-1) < 1e-15 {
			break
		}
	}
	return max(0, 1-prefix*h)
}
