package stories

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
)

// labelled is one article of a labelled set: Story names the event it reports (the ground
// truth), Kind how it was written (wire, copy, rewrite, single).
type labelled struct {
	ID      string    `json:"id"`
	Story   string    `json:"story"`
	Kind    string    `json:"kind"`
	Source  string    `json:"source"`
	At      time.Time `json:"at"`
	Title   string    `json:"title"`
	Summary string    `json:"summary"`
}

func loadLabelled(t testing.TB, path string) []labelled {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []labelled
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	slices.SortStableFunc(out, func(a, b labelled) int { return a.At.Compare(b.At) })
	return out
}

// matchEvent returns the match event of a labelled article, as the matcher writes it.
func matchEvent(t testing.TB, topic string, a labelled) []byte {
	t.Helper()
	out, err := events.MatchMessage(events.Match{
		Topic: topic, QueryVersion: "v1", ArticleID: a.ID, URL: "https://" + a.Source + ".example/" + a.ID,
		Title: a.Title, Summary: a.Summary, Source: a.Source, PublishedAt: a.At, FirstSeenAt: a.At.Add(time.Minute),
		MatchedAt: a.At.Add(time.Minute),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Data
}

// group folds the labelled articles, in time order, into a projection and returns each
// article's story id. Through Apply when viaEvents is true, else straight to the fold, which
// is what Apply does after decoding (faster, for the sweeps).
func group(t testing.TB, p *Projection, arts []labelled, viaEvents bool) map[string]string {
	t.Helper()
	for i, a := range arts {
		if viaEvents {
			if err := p.Apply(matchEvent(t, "dprk-russia", a), uint64(i+1)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		p.fold(events.MatchView{Topic: "dprk-russia", ArticleID: a.ID, URL: "https://" + a.Source + ".example/" + a.ID,
			Title: a.Title, Summary: a.Summary, Source: a.Source, PublishedAt: a.At, FirstSeenAt: a.At.Add(time.Minute)})
	}
	got := map[string]string{}
	for _, a := range arts {
		id, ok := p.StoryID("dprk-russia", a.ID)
		if !ok {
			t.Fatalf("%s: no story", a.ID)
		}
		got[a.ID] = id
	}
	return got
}

// pairScores returns the pairwise precision and recall of "same story": over every two
// articles, how many of the pairs put in one story are one story (precision), and how many
// of the pairs that are one story were put in one (recall); and the wrong pairs.
func pairScores(arts []labelled, got map[string]string) (prec, rec float64, falsePos, falseNeg []string) {
	var tp int
	for i := range arts {
		for j := i + 1; j < len(arts); j++ {
			same, pred := arts[i].Story == arts[j].Story, got[arts[i].ID] == got[arts[j].ID]
			switch {
			case same && pred:
				tp++
			case pred:
				falsePos = append(falsePos, arts[i].ID+"~"+arts[j].ID)
			case same:
				falseNeg = append(falseNeg, arts[i].ID+"~"+arts[j].ID)
			}
		}
	}
	prec, rec = 1, 1
	if n := tp + len(falsePos); n > 0 {
		prec = float64(tp) / float64(n)
	}
	if n := tp + len(falseNeg); n > 0 {
		rec = float64(tp) / float64(n)
	}
	return prec, rec, falsePos, falseNeg
}

// labelledSets are the labelled sets and the least precision and recall each must reach,
// alone and inside a busy topic (TestLabelledInBusyTopic).
//
// The parameters were chosen on labelled.json (DPRK–Russia; the goal of issue 8 is measured
// on it) and heldout.json (Red Sea shipping, written after a first choice made on
// labelled.json alone, and then used for a second); final.json (chip export controls) was
// written after they were frozen and never used to choose anything: its numbers are the
// honest estimate of how the parameters carry over. Its floors and the busy floors sit just
// below what was measured, to catch regressions, not to claim the goal.
var labelledSets = []struct {
	file                   string
	minPrecision           float64
	minRecall              float64
	busyPrecision, busyRec float64
}{
	{"testdata/labelled.json", 0.95, 0.95, 0.95, 0.95},
	{"testdata/heldout.json", 0.95, 0.95, 0.95, 0.90},
	{"testdata/final.json", 0.95, 0.90, 0.85, 0.90},
}

// TestLabelled measures pairwise precision and recall of "same story" on the labelled sets
// and fails below the goals. go test -v -run TestLabelled ./projections/stories logs them.
func TestLabelled(t *testing.T) {
	for _, set := range labelledSets {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(set.file, "testdata/"), ".json"), func(t *testing.T) {
			arts := loadLabelled(t, set.file)
			got := group(t, New(), arts, true)
			prec, rec, fp, fn := pairScores(arts, got)
			t.Logf("%s: %s: precision %.3f recall %.3f", set.file, describe(arts), prec, rec)
			byLang := map[string][]labelled{}
			for _, a := range arts {
				lang, _, _ := strings.Cut(a.Story, "-")
				byLang[lang] = append(byLang[lang], a)
			}
			for _, lang := range sortedKeys(byLang) {
				p, r, _, _ := pairScores(byLang[lang], got)
				t.Logf("  %s: %d articles: precision %.3f recall %.3f", lang, len(byLang[lang]), p, r)
			}
			if len(fp) > 0 {
				t.Logf("  put together, not one story: %v", fp)
			}
			if len(fn) > 0 {
				t.Logf("  one story, kept apart: %v", fn)
			}
			if prec < set.minPrecision || rec < set.minRecall {
				t.Errorf("precision %.3f recall %.3f; want at least %.2f and %.2f", prec, rec, set.minPrecision, set.minRecall)
			}
		})
	}
}

func describe(arts []labelled) string {
	stories, kinds := map[string]int{}, map[string]int{}
	for _, a := range arts {
		stories[a.Story]++
		kinds[a.Kind]++
	}
	pairs := 0
	for _, n := range stories {
		pairs += n * (n - 1) / 2
	}
	return fmt.Sprintf("%d articles (%d wire, %d copies, %d rewrites, %d single) in %d stories, %d same-story pairs of %d",
		len(arts), kinds["wire"], kinds["copy"], kinds["rewrite"], kinds["single"], len(stories), pairs, len(arts)*(len(arts)-1)/2)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
