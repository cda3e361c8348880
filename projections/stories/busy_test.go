package stories

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// background returns n articles of a busy topic around the labelled ones: each names the
// topic's subject (the query terms that matched the labelled articles, as every match of the
// topic does), is written with the words that the labelled set uses across many stories
// (function words, the subject's vocabulary), and reports an event of its own (words no
// other article has). They give the term weights of a topic with thousands of reports in
// the window.
func background(arts []labelled, n int, seed uint64) []labelled {
	rng := rand.New(rand.NewPCG(seed, 0))
	storiesOf := map[string]map[string]bool{}
	for _, a := range arts {
		for _, w := range strings.Fields(strings.ToLower(a.Title + " " + a.Summary)) {
			w = strings.Trim(w, ".,'\"“”—-:;()«»")
			if storiesOf[w] == nil {
				storiesOf[w] = map[string]bool{}
			}
			storiesOf[w][a.Story] = true
		}
	}
	var common []string
	for w, s := range storiesOf {
		if w != "" && len(s) >= 4 {
			common = append(common, w)
		}
	}
	slices.SortFunc(common, func(a, b string) int {
		if len(storiesOf[a]) != len(storiesOf[b]) {
			return len(storiesOf[b]) - len(storiesOf[a])
		}
		return strings.Compare(a, b)
	})
	var subject []string // as written in text: a prefix stands for a word that starts with it
	for _, a := range arts {
		for _, m := range a.Matched {
			subject = append(subject, strings.TrimSuffix(m.Term, "*"))
		}
	}
	slices.Sort(subject)
	subject = slices.Compact(subject)
	start, end := arts[0].At.Add(-24*time.Hour), arts[len(arts)-1].At.Add(24*time.Hour)
	words := func(k int) string {
		var b strings.Builder
		for range k {
			switch r := rng.IntN(10); {
			case r < 6:
				// Zipf-like: the most common words most often.
				b.WriteString(common[int(float64(len(common))*rng.Float64()*rng.Float64())])
			case r < 8:
				b.WriteString(subject[rng.IntN(len(subject))])
			default:
				fmt.Fprintf(&b, "w%x", rng.Uint32()) // a word of this event only
			}
			b.WriteByte(' ')
		}
		return b.String()
	}
	out := make([]labelled, n)
	for i := range out {
		out[i] = labelled{
			ID: fmt.Sprintf("bg-%d", i), Story: fmt.Sprintf("bg-%d", i), Kind: "single",
			Source: fmt.Sprintf("feed-%d", rng.IntN(40)),
			At:     start.Add(time.Duration(rng.Int64N(int64(end.Sub(start))))),
			Title:  words(10), Summary: words(35),
		}
	}
	return out
}

// TestLabelledInBusyTopic measures the labelled set again inside a topic with 3,000 other
// articles in the same days: the term weights of a busy topic are not those of a quiet one.
// Pairs are scored over the labelled articles; a background article that joined a
// labelled story counts as a wrong pair. The log also gives the numbers of the rule before
// (beforeParams).
func TestLabelledInBusyTopic(t *testing.T) {
	for _, set := range labelledSets {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(set.file, "testdata/"), ".json"), func(t *testing.T) {
			t.Parallel()
			arts, _ := loadMatched(t, set.file)
			// Background articles the query does not match are not in the topic.
			bg, _ := matchAll(t, set.file, background(arts, 3000, 1))
			prec, rec, intruders, fp, fn := inBusyTopic(t, defaultParams, arts, bg)
			t.Logf("%s among %d background articles: precision %.3f recall %.3f, %d background articles joined labelled stories",
				set.file, len(bg), prec, rec, intruders)
			if len(fp)+len(fn) > 0 {
				t.Logf("  wrong: %v %v", fp, fn)
			}
			bp, br, bi, _, _ := inBusyTopic(t, beforeParams, arts, bg)
			t.Logf("  before (matched terms kept, no least shared count): precision %.3f recall %.3f, %d joined", bp, br, bi)
			if prec < set.busyPrecision || rec < set.busyRec || intruders > 0 {
				t.Errorf("precision %.3f recall %.3f intruders %d", prec, rec, intruders)
			}
		})
	}
}

// inBusyTopic groups the labelled articles among the background ones with parameters p and
// scores the labelled pairs; intruders are the background articles in labelled stories.
func inBusyTopic(t testing.TB, p params, arts, bg []labelled) (prec, rec float64, intruders int, fp, fn []string) {
	t.Helper()
	all := append(slices.Clone(arts), bg...)
	slices.SortStableFunc(all, func(a, b labelled) int { return a.At.Compare(b.At) })
	got := group(t, newWith(p), all, false)
	prec, rec, fp, fn = pairScores(arts, got)
	ids := map[string]bool{}
	for _, a := range arts {
		ids[got[a.ID]] = true
	}
	for _, b := range bg {
		if ids[got[b.ID]] {
			intruders++
		}
	}
	return prec, rec, intruders, fp, fn
}
