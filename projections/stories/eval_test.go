package stories

import (
	"encoding/csv"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scores are the clustering scores of a set: B-cubed (per article: the share of its
// predicted story that is its true story, and the share of its true story that it was put
// with) and pairwise (over every two articles).
type scores struct {
	n                       int
	bPrec, bRec             float64
	pPrec, pRec             float64
	stories, predicted      int
	singletons, foldedShare float64
}

func f1(p, r float64) float64 {
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// score compares predicted story ids with the truth, both indexed like the articles.
func score(truth, pred []string) scores {
	type key struct{ t, p string }
	inter, byTruth, byPred := map[key]int{}, map[string]int{}, map[string]int{}
	for i := range truth {
		inter[key{truth[i], pred[i]}]++
		byTruth[truth[i]]++
		byPred[pred[i]]++
	}
	s := scores{n: len(truth), stories: len(byTruth), predicted: len(byPred)}
	if s.n == 0 {
		return s
	}
	for i := range truth {
		c := float64(inter[key{truth[i], pred[i]}])
		s.bPrec += c / float64(byPred[pred[i]])
		s.bRec += c / float64(byTruth[truth[i]])
	}
	s.bPrec /= float64(s.n)
	s.bRec /= float64(s.n)
	pairs := func(m map[string]int) (n int) {
		for _, c := range m {
			n += c * (c - 1) / 2
		}
		return n
	}
	var tp int
	for _, c := range inter {
		tp += c * (c - 1) / 2
	}
	s.pPrec, s.pRec = 1, 1
	if n := pairs(byPred); n > 0 {
		s.pPrec = float64(tp) / float64(n)
	}
	if n := pairs(byTruth); n > 0 {
		s.pRec = float64(tp) / float64(n)
	}
	for _, c := range byPred {
		if c == 1 {
			s.singletons++
		}
	}
	s.singletons /= float64(s.predicted)
	// folded: articles whose predicted story holds an article of another true story that
	// came first, i.e. articles that did not found a story of their own event.
	founders := map[string]string{} // predicted story → true story of its first article
	folded := 0
	for i := range truth {
		f, ok := founders[pred[i]]
		if !ok {
			founders[pred[i]] = truth[i]
			continue
		}
		if f != truth[i] {
			folded++
		}
	}
	s.foldedShare = float64(folded) / float64(s.n)
	return s
}

func (s scores) String() string {
	return fmt.Sprintf("%5d articles %4d stories → %4d | B3 P %.3f R %.3f F1 %.3f | pairs P %.3f R %.3f F1 %.3f | folded %.1f%%",
		s.n, s.stories, s.predicted, s.bPrec, s.bRec, f1(s.bPrec, s.bRec), s.pPrec, s.pRec, f1(s.pPrec, s.pRec), 100*s.foldedShare)
}

// clusterSet folds a set's articles (in time order) into a fresh projection and scores it.
func clusterSet(t testing.TB, p params, arts []labelled) scores {
	t.Helper()
	got := group(t, newWith(p), arts, false)
	truth, pred := make([]string, len(arts)), make([]string, len(arts))
	for i, a := range arts {
		truth[i], pred[i] = a.Story, got[a.ID]
	}
	return score(truth, pred)
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
const uciEnv = "NEWSWATCH_STORY_DATA"

// loadUCI reads the UCI News Aggregator rows (headlines only, labelled with Google News
// story ids) and splits them by story into a tuning and a test half.
func loadUCI(t testing.TB) (tune, test []labelled, ok bool) {
	t.Helper()
	dir := os.Getenv(uciEnv)
	if dir == "" {
		return nil, nil, false
	}
	f, err := os.Open(filepath.Join(dir, "uci-news-aggregator_small.csv"))
	if err != nil {
		t.Fatalf("%s: %v", uciEnv, err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.LazyQuotes = true
	head, err := r.Read()
	if err != nil {
		t.Fatalf("uci csv: %v", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("uci csv: %v", err)
		}
		ms, err := strconv.ParseInt(rec[col["TIMESTAMP"]], 10, 64)
		if err != nil {
			t.Fatalf("uci csv timestamp: %v", err)
		}
		a := labelled{
			ID: "uci" + rec[col["ID"]], Story: "en-" + rec[col["STORY"]], Kind: "single",
			Source: rec[col["HOSTNAME"]], At: time.UnixMilli(ms).UTC(), Title: rec[col["TITLE"]],
		}
		h := fnv.New32a()
		h.Write([]byte(a.Story))
		if h.Sum32()%2 == 0 {
			tune = append(tune, a)
		} else {
			test = append(test, a)
		}
	}
	return sortByTime(tune), sortByTime(test), true
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
	"uci/headlines":         {0.92, 0.72, 1},
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
		if s.bPrec < floor.bPrec || s.bRec < floor.bRec || s.foldedShare > floor.maxFolded {
			t.Errorf("%s: B3 precision %.3f recall %.3f folded %.3f; floor %.2f %.2f, at most %.2f folded",
				set.name, s.bPrec, s.bRec, s.foldedShare, floor.bPrec, floor.bRec, floor.maxFolded)
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
	variants := []variant{
		{"defaults", d},
		with("no centroid (members, threshold 0.14)", func(p *params) { p.shortThreshold = 0 }),
		with("no centroid, members 12 (before)", func(p *params) { p.shortThreshold, p.members = 0, 12 }),
	}
	for _, th := range []float64{0.08, 0.10, 0.12} {
		variants = append(variants, with(fmt.Sprintf("short threshold %.2f", th), func(p *params) { p.shortThreshold = th }))
	}
	for _, s := range []float64{0, 0.15, 0.20} {
		variants = append(variants, with(fmt.Sprintf("single %.2f", s), func(p *params) { p.single = s }))
	}
	for _, u := range []float64{0, 1} {
		variants = append(variants, with(fmt.Sprintf("unknown share %.1f", u), func(p *params) { p.unknownShare = u }))
	}
	for _, m := range []int{12, 24, 96} {
		variants = append(variants, with(fmt.Sprintf("members %d", m), func(p *params) { p.members = m }))
	}
	var sets []evalSet
	for _, set := range evalSets(t) {
		if set.split == "tune" && strings.HasSuffix(set.name, "/headlines") {
			sets = append(sets, set)
		}
	}
	var b strings.Builder
	for _, v := range variants {
		fmt.Fprintf(&b, "%-40s", v.name)
		for _, set := range sets {
			s := clusterSet(t, v.p, set.arts)
			fmt.Fprintf(&b, "  %s %.3f/%.3f", strings.TrimSuffix(set.name, "/headlines"), s.bPrec, s.bRec)
			if v.name != "defaults" {
				continue
			}
			if set.name == "uci/headlines" && (s.bPrec < 0.90 || s.bRec < 0.70) {
				t.Errorf("%s: B3 precision %.3f recall %.3f, the goal is 0.90 and 0.70", set.name, s.bPrec, s.bRec)
			}
			if set.name != "uci/headlines" && s.bPrec < 0.95 {
				t.Errorf("%s: B3 precision %.3f, want 0.95", set.name, s.bPrec)
			}
		}
		fmt.Fprintf(&b, "  young topic: %d wrong\n", len(youngTopicErrors(t, v.p)))
	}
	t.Logf("B3 precision/recall, headlines alone, tuning sets:\n%s", b.String())
	if errs := youngTopicErrors(t, d); len(errs) > 0 {
		t.Errorf("the defaults get young-topic cases wrong: %v", errs)
	}
}
