package stories

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newswatch/newswatch/internal/storyeval"
)

// scores are the clustering scores of a set (B-cubed and pairwise), shared with the daemon's
// evaluation through the API (cmd/newswatch TestStoryDaemonUCI).
type scores = storyeval.Scores

// clusterSet folds a set's articles (in time order) into a fresh projection and scores it.
func clusterSet(t testing.TB, p params, arts []labelled) scores {
	t.Helper()
	got := group(t, newWith(p), arts, false)
	truth, pred := make([]string, len(arts)), make([]string, len(arts))
	for i, a := range arts {
		truth[i], pred[i] = a.Story, got[a.ID]
	}
	return storyeval.Score(truth, pred)
}

func headlinesOnly(arts []labelled) []labelled {
	out := make([]labelled, len(arts))
	for i, a := range arts {
		a.Summary = ""
		out[i] = a
	}
	return out
}

func byLanguage(arts []labelled) map[string][]labelled {
	out := map[string][]labelled{}
	for _, a := range arts {
		lang, _, _ := strings.Cut(a.Story, "-")
		out[lang] = append(out[lang], a)
	}
	return out
}

// uciEnv names the folder holding uci-news-aggregator_small.csv, the first 5,000 rows of the
// UCI News Aggregator dataset (see testdata/PUBLIC.md: where it comes from, its licence, and
// why it is not committed).
const uciEnv = storyeval.Env

// loadUCI reads the UCI News Aggregator rows (headlines only, labelled with Google News
// story ids) and splits them by story into a tuning and a test half.
func loadUCI(t testing.TB) (tune, test []labelled, ok bool) {
	t.Helper()
	dir := os.Getenv(uciEnv)
	if dir == "" {
		return nil, nil, false
	}
	tr, te, err := storyeval.LoadUCI(dir)
	if err != nil {
		t.Fatal(err)
	}
	conv := func(rows []storyeval.Row) []labelled {
		out := make([]labelled, len(rows))
		for i, r := range rows {
			out[i] = labelled{ID: r.ID, Story: r.Story, Kind: "single", Source: r.Source, At: r.At, Title: r.Title}
		}
		return out
	}
	return conv(tr), conv(te), true
}

// shuffledTimes gives the articles times drawn at random between the first and the last.
func shuffledTimes(arts []labelled, seed uint64) []labelled {
	rng := rand.New(rand.NewPCG(seed, 1))
	start, end := arts[0].At, arts[len(arts)-1].At
	out := make([]labelled, len(arts))
	for i, a := range arts {
		a.At = start.Add(time.Duration(rng.Int64N(int64(end.Sub(start)) + 1)))
		out[i] = a
	}
	return sortByTime(out)
}

// shuffledOrder puts the articles in a random order, keeping their times.
func shuffledOrder(arts []labelled, seed uint64) []labelled {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := slices.Clone(arts)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// byOutlet orders articles by source, then time.
func byOutlet(arts []labelled) []labelled {
	out := slices.Clone(arts)
	slices.SortStableFunc(out, func(a, b labelled) int { return strings.Compare(a.Source, b.Source) })
	return out
}

func sortByTime(arts []labelled) []labelled {
	slices.SortStableFunc(arts, func(a, b labelled) int { return a.At.Compare(b.At) })
	return arts
}

// evalSet is one set of the story benchmark.
type evalSet struct {
	name, split string // split: "tune" (parameters were chosen on it) or "test" (never)
	arts        []labelled
}

// evalSets returns the benchmark's sets: the project's labelled sets with summaries and
// headline-only, the same-subject set, and the public UCI set when present.
func evalSets(t testing.TB) []evalSet {
	t.Helper()
	var out []evalSet
	for _, f := range []struct{ file, split string }{
		{"labelled", "tune"}, {"heldout", "tune"}, {"final", "test"}, {"samesubject", "test"},
	} {
		path := "testdata/" + f.file + ".json"
		all := loadLabelled(t, path)
		with, _ := matchAll(t, path, all)
		out = append(out, evalSet{f.file + "/summaries", f.split, with})
		short, _ := matchAll(t, path, headlinesOnly(all))
		out = append(out, evalSet{f.file + "/headlines", f.split, short})
	}
	if tune, test, ok := loadUCI(t); ok {
		out = append(out, evalSet{"uci/headlines", "tune", tune}, evalSet{"uci/headlines", "test", test})
		// The rows' times are crawl times: each story's rows were crawled together, so in
		// time order a story's headlines come one after another. Spread over the 29 hours at
		// random, the stream is harder than real news (a story's reports come within
		// hours); logged to show how much the order helps, not a goal.
		out = append(out, evalSet{"uci/shuffled", "tune", shuffledTimes(tune, 7)}, evalSet{"uci/shuffled", "test", shuffledTimes(test, 7)})
		// In the daemon (cmd/newswatch TestStoryDaemonUCI) each outlet is a feed: the
		// articles come feed by feed, with their real times. Here the outlets come one after
		// another in the order of their names, each outlet's headlines in time order.
		out = append(out, evalSet{"uci/byoutlet", "tune", byOutlet(tune)}, evalSet{"uci/byoutlet", "test", byOutlet(test)})
		// The worst order a daemon could see: the real times, in a random order.
		out = append(out, evalSet{"uci/anyorder", "tune", shuffledOrder(tune, 7)}, evalSet{"uci/anyorder", "test", shuffledOrder(test, 7)})
	} else {
		t.Logf("the public UCI News Aggregator set is not measured: set %s to the folder holding uci-news-aggregator_small.csv (testdata/PUBLIC.md)", uciEnv)
	}
	return out
}

// storyFloors are the least scores the test splits must keep (regressions fail); the goals
// of issue 14 are in docs/stories-spikes-digests.md next to where each set stands.
var storyFloors = map[string]struct{ bPrec, bRec, maxFolded float64 }{
	"final/summaries":       {0.95, 0.85, 1},
	"final/headlines":       {0.95, 0.60, 1},
	"samesubject/summaries": {0, 0, 0.01},
	"samesubject/headlines": {0, 0, 0.01},
	"uci/headlines":         {0.94, 0.74, 1},
}

// TestStoryBenchmark prints B-cubed and pairwise precision, recall and F1 of story
// membership per set, split and language, and fails when a test split falls below its floor.
// go test -run TestStoryBenchmark -v ./projections/stories
func TestStoryBenchmark(t *testing.T) {
	for _, set := range evalSets(t) {
		s := clusterSet(t, defaultParams, set.arts)
		t.Logf("%-22s %-4s all %s", set.name, set.split, s)
		langs := byLanguage(set.arts)
		if len(langs) > 1 {
			for _, lang := range sortedKeys(langs) {
				t.Logf("%-22s %-4s %-3s %s", set.name, set.split, lang, clusterSet(t, defaultParams, langs[lang]))
			}
		}
		floor, ok := storyFloors[set.name]
		if !ok || set.split != "test" {
			continue
		}
		if s.BPrec < floor.bPrec || s.BRec < floor.bRec || s.FoldedShare > floor.maxFolded {
			t.Errorf("%s: B3 precision %.3f recall %.3f folded %.3f; floor %.2f %.2f, at most %.2f folded",
				set.name, s.BPrec, s.BRec, s.FoldedShare, floor.bPrec, floor.bRec, floor.maxFolded)
		}
	}
}

// TestHeadlineSweep logs B-cubed precision and recall of headlines alone on the tuning sets
// (labelled and heldout without summaries, and the UCI tuning half when present) for
// alternatives to the parameters of headline comparison, one changed at a time: the numbers
// behind the defaults in docs/stories-spikes-digests.md. It fails when the defaults miss the
// goal of issue 14 on the UCI tuning half (precision 0.90, recall 0.70), lose precision on
// the project's headline sets (0.95), or get a young-topic case wrong.
//
//	NEWSWATCH_STORY_DATA=… go test -v -run TestHeadlineSweep ./projections/stories
func TestHeadlineSweep(t *testing.T) {
	d := defaultParams
	variants := []variant{
		{"defaults", d},
		withParams("no centroid (members, threshold 0.14)", func(p *params) { p.shortThreshold = 0 }),
		withParams("no centroid, members 12 (before)", func(p *params) { p.shortThreshold, p.members = 0, 12 }),
	}
	for _, th := range []float64{0.08, 0.10, 0.12} {
		variants = append(variants, withParams(fmt.Sprintf("short threshold %.2f", th), func(p *params) { p.shortThreshold = th }))
	}
	for _, s := range []float64{0, 0.15, 0.20} {
		variants = append(variants, withParams(fmt.Sprintf("single %.2f", s), func(p *params) { p.single = s }))
	}
	for _, u := range []float64{0, 1} {
		variants = append(variants, withParams(fmt.Sprintf("unknown share %.1f", u), func(p *params) { p.unknownShare = u }))
	}
	for _, h := range []int64{6, 24} {
		variants = append(variants, withParams(fmt.Sprintf("half-life %dh", h), func(p *params) { p.halfLife = h * 3600 }))
	}
	for _, m := range []int{12, 24, 96} {
		variants = append(variants, withParams(fmt.Sprintf("members %d", m), func(p *params) { p.members = m }))
	}
	var sets []evalSet
	for _, set := range evalSets(t) {
		if set.split == "tune" && (strings.HasSuffix(set.name, "/headlines") || set.name == "uci/byoutlet" || set.name == "uci/anyorder") {
			sets = append(sets, set)
		}
	}
	var b strings.Builder
	for _, v := range variants {
		fmt.Fprintf(&b, "%-40s", v.name)
		for _, set := range sets {
			s := clusterSet(t, v.p, set.arts)
			fmt.Fprintf(&b, "  %s %.3f/%.3f", strings.TrimSuffix(set.name, "/headlines"), s.BPrec, s.BRec)
			if v.name != "defaults" {
				continue
			}
			if set.name == "uci/headlines" && (s.BPrec < 0.90 || s.BRec < 0.70) {
				t.Errorf("%s: B3 precision %.3f recall %.3f, the goal is 0.90 and 0.70", set.name, s.BPrec, s.BRec)
			}
			if !strings.HasPrefix(set.name, "uci/") && s.BPrec < 0.95 {
				t.Errorf("%s: B3 precision %.3f, want 0.95", set.name, s.BPrec)
			}
		}
		fmt.Fprintf(&b, "  young topic: %d wrong\n", len(youngTopicErrors(t, v.p)))
	}
	t.Logf("B3 precision/recall, headlines alone, tuning sets:\n%s", b.String())
	if errs := youngTopicErrors(t, d); len(errs) > 0 {
		t.Errorf("the defaults get young-topic cases wrong: %v", errs)
	}
}

// TestArrivalOrder measures how much B-cubed precision and recall on the UCI tuning half
// depend on the order articles arrive in, with their real times: outlet by outlet with the
// outlets in a random order (the daemon's case: it polls its feeds concurrently, and each
// feed's articles reach the stream together), and in a uniformly random order (harder than
// any daemon). It logs the mean, least and greatest over arrivalOrders orders for the
// defaults and for alternatives to the choices made to steady them, and fails when the
// defaults' precision falls below 0.91 on average or 0.90 in any outlet order, or below 0.90
// on average or 0.87 in any random order.
//
//	NEWSWATCH_STORY_DATA=… go test -v -run TestArrivalOrder ./projections/stories
func TestArrivalOrder(t *testing.T) {
	tune, _, ok := loadUCI(t)
	if !ok {
		t.Skipf("set %s to the folder holding uci-news-aggregator_small.csv (testdata/PUBLIC.md)", uciEnv)
	}
	variants := []variant{
		{"defaults", defaultParams},
		withParams("fewMembers 0", func(p *params) { p.fewMembers = 0 }),
		withParams("dfCap 0 (every member)", func(p *params) { p.dfCap = 0 }),
		withParams("both (before)", func(p *params) { p.fewMembers, p.dfCap = 0, 0 }),
	}
	for _, f := range []float64{0.03, 0.08} {
		variants = append(variants, withParams(fmt.Sprintf("fewMembers %.2f", f), func(p *params) { p.fewMembers = f }))
	}
	for _, c := range []int{4, 8} {
		variants = append(variants, withParams(fmt.Sprintf("dfCap %d", c), func(p *params) { p.dfCap = c }))
	}
	orders := []struct {
		name              string
		order             func(uint64) []labelled
		minMean, minLeast float64
	}{
		{"outlets in random order", func(seed uint64) []labelled { return outletsInOrder(tune, seed) }, 0.91, 0.90},
		{"random order", func(seed uint64) []labelled { return shuffledOrder(tune, seed*11) }, 0.90, 0.87},
	}
	var b strings.Builder
	for _, v := range variants {
		fmt.Fprintf(&b, "%-24s", v.name)
		for _, o := range orders {
			var sumP, sumR float64
			minP, maxP, minR, maxR := 1.0, 0.0, 1.0, 0.0
			for seed := uint64(1); seed <= arrivalOrders; seed++ {
				s := clusterSet(t, v.p, o.order(seed))
				sumP, sumR = sumP+s.BPrec, sumR+s.BRec
				minP, maxP = min(minP, s.BPrec), max(maxP, s.BPrec)
				minR, maxR = min(minR, s.BRec), max(maxR, s.BRec)
			}
			meanP, meanR := sumP/arrivalOrders, sumR/arrivalOrders
			fmt.Fprintf(&b, " | %s: P %.3f (%.3f–%.3f) R %.3f (%.3f–%.3f)", o.name, meanP, minP, maxP, meanR, minR, maxR)
			if v.name == "defaults" && (meanP < o.minMean || minP < o.minLeast) {
				t.Errorf("defaults, %s: B3 precision %.3f on average, %.3f at least over %d orders; want %.2f and %.2f",
					o.name, meanP, minP, arrivalOrders, o.minMean, o.minLeast)
			}
		}
		b.WriteString("\n")
	}
	t.Logf("UCI tuning half, B3 over %d arrival orders (real times):\n%s", arrivalOrders, b.String())
}

// arrivalOrders is how many orders of each kind TestArrivalOrder draws.
const arrivalOrders = 12

// outletsInOrder orders articles outlet by outlet, the outlets in a random order, each
// outlet's articles in time order.
func outletsInOrder(arts []labelled, seed uint64) []labelled {
	by := map[string][]labelled{}
	var names []string
	for _, a := range arts {
		if by[a.Source] == nil {
			names = append(names, a.Source)
		}
		by[a.Source] = append(by[a.Source], a)
	}
	slices.Sort(names)
	rng := rand.New(rand.NewPCG(seed, 2))
	rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	out := make([]labelled, 0, len(arts))
	for _, n := range names {
		out = append(out, by[n]...)
	}
	return out
}
