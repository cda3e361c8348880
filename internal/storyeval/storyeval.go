// Package storyeval scores story grouping against labelled stories (B-cubed and pairwise
// precision and recall) and loads the public UCI News Aggregator headlines, split by story
// into a tuning and a test half. The story benchmark of projections/stories and the daemon's
// evaluation through the API (cmd/newswatch) both use it, so that their numbers compare.
package storyeval

import (
	"encoding/csv"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// Scores are the clustering scores of a set: B-cubed (per article: the share of its
// predicted story that is its true story, and the share of its true story that it was put
// with) and pairwise (over every two articles).
type Scores struct {
	N                  int
	BPrec, BRec        float64
	PPrec, PRec        float64
	Stories, Predicted int
	// Singletons is the share of predicted stories with one article; FoldedShare the share
	// of articles whose predicted story was founded by an article of another true story
	// (articles that did not found a story of their own event), in the order given.
	Singletons, FoldedShare float64
}

// F1 is the harmonic mean of a precision and a recall.
func F1(p, r float64) float64 {
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// BF1 is the B-cubed F1.
func (s Scores) BF1() float64 { return F1(s.BPrec, s.BRec) }

// Score compares predicted story ids with the truth, both indexed like the articles (in the
// order the articles came, for FoldedShare).
func Score(truth, pred []string) Scores {
	type key struct{ t, p string }
	inter, byTruth, byPred := map[key]int{}, map[string]int{}, map[string]int{}
	for i := range truth {
		inter[key{truth[i], pred[i]}]++
		byTruth[truth[i]]++
		byPred[pred[i]]++
	}
	s := Scores{N: len(truth), Stories: len(byTruth), Predicted: len(byPred)}
	if s.N == 0 {
		return s
	}
	for i := range truth {
		c := float64(inter[key{truth[i], pred[i]}])
		s.BPrec += c / float64(byPred[pred[i]])
		s.BRec += c / float64(byTruth[truth[i]])
	}
	s.BPrec /= float64(s.N)
	s.BRec /= float64(s.N)
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
	s.PPrec, s.PRec = 1, 1
	if n := pairs(byPred); n > 0 {
		s.PPrec = float64(tp) / float64(n)
	}
	if n := pairs(byTruth); n > 0 {
		s.PRec = float64(tp) / float64(n)
	}
	for _, c := range byPred {
		if c == 1 {
			s.Singletons++
		}
	}
	s.Singletons /= float64(s.Predicted)
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
	s.FoldedShare = float64(folded) / float64(s.N)
	return s
}

func (s Scores) String() string {
	return fmt.Sprintf("%5d articles %4d stories → %4d | B3 P %.3f R %.3f F1 %.3f | pairs P %.3f R %.3f F1 %.3f | folded %.1f%%",
		s.N, s.Stories, s.Predicted, s.BPrec, s.BRec, s.BF1(), s.PPrec, s.PRec, F1(s.PPrec, s.PRec), 100*s.FoldedShare)
}

// Env names the folder holding UCIFile, the first 5,000 rows of the UCI News Aggregator
// dataset (see projections/stories/testdata/PUBLIC.md: where it comes from, its licence, and
// why it is not committed).
const (
	Env     = "NEWSWATCH_STORY_DATA"
	UCIFile = "uci-news-aggregator_small.csv"
)

// Row is one labelled UCI headline.
type Row struct {
	ID     string // "uci" + the row's ID
	Story  string // "en-" + the Google News story id
	Source string // the outlet's host name
	URL    string
	Title  string
	At     time.Time // the crawl time
}

// LoadUCI reads the UCI rows of dir/UCIFile and splits them by a hash (FNV-1a) of the story
// id into a tuning and a test half, each in time order.
func LoadUCI(dir string) (tune, test []Row, err error) {
	f, err := os.Open(filepath.Join(dir, UCIFile))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", Env, err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.LazyQuotes = true
	head, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("uci csv: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, c := range []string{"ID", "TITLE", "URL", "STORY", "HOSTNAME", "TIMESTAMP"} {
		if _, ok := col[c]; !ok {
			return nil, nil, fmt.Errorf("uci csv: no column %s", c)
		}
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("uci csv: %w", err)
		}
		ms, err := strconv.ParseInt(rec[col["TIMESTAMP"]], 10, 64)
		if err != nil {
			return nil, nil, fmt.Errorf("uci csv timestamp: %w", err)
		}
		a := Row{
			ID: "uci" + rec[col["ID"]], Story: "en-" + rec[col["STORY"]], Source: rec[col["HOSTNAME"]],
			URL: rec[col["URL"]], Title: rec[col["TITLE"]], At: time.UnixMilli(ms).UTC(),
		}
		if Tune(a.Story) {
			tune = append(tune, a)
		} else {
			test = append(test, a)
		}
	}
	byTime := func(a, b Row) int { return a.At.Compare(b.At) }
	slices.SortStableFunc(tune, byTime)
	slices.SortStableFunc(test, byTime)
	return tune, test, nil
}

// Tune reports whether a story is in the tuning half.
func Tune(story string) bool {
	h := fnv.New32a()
	h.Write([]byte(story))
	return h.Sum32()%2 == 0
}
