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
	"github.com/newswatch/newswatch/matching"
	"github.com/newswatch/newswatch/topics"
)

// labelled is one article of a labelled set: Story names the event it reports (the ground
// truth), Kind how it was written (wire, copy, rewrite, single). Matched are the query terms
// that matched it (see loadMatched).
type labelled struct {
	ID      string               `json:"id"`
	Story   string               `json:"story"`
	Kind    string               `json:"kind"`
	Source  string               `json:"source"`
	At      time.Time            `json:"at"`
	Title   string               `json:"title"`
	Summary string               `json:"summary"`
	Matched []events.MatchedTerm `json:"-"`
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

// loadMatched loads a labelled set and matches it, as the daemon would, against the query
// of its topic, written as an analyst would in the file next to it (labelled.query for
// labelled.json). It returns the articles the query matches, each with its matched terms,
// and the ones it does not: those are not in the topic.
func loadMatched(t testing.TB, path string) (in, out []labelled) {
	t.Helper()
	return matchAll(t, path, loadLabelled(t, path))
}

// matchAll matches articles against the query of the labelled set at path, as loadMatched.
func matchAll(t testing.TB, path string, arts []labelled) (in, out []labelled) {
	t.Helper()
	q, err := os.ReadFile(strings.TrimSuffix(path, ".json") + ".query")
	if err != nil {
		t.Fatal(err)
	}
	m, err := topics.Compile([]topics.Topic{{ID: "labelled", Query: string(q)}})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, a := range arts {
		hits := m.Match(matching.DocOf(article(a), nil))
		if len(hits) == 0 {
			out = append(out, a)
			continue
		}
		a.Matched = matching.NewMatch(article(a), 1, hits[0], "v1", a.At).Matched
		in = append(in, a)
	}
	return in, out
}

// article is the article event a labelled article stands for.
func article(a labelled) events.Article {
	return events.Article{
		ID: a.ID, FeedID: a.Source, URL: "https://" + a.Source + ".example/" + a.ID, Title: a.Title,
		Summary: a.Summary, PublishedAt: a.At, FirstSeenAt: a.At.Add(time.Minute),
	}
}

// matchEvent returns the match event of a labelled article, as the matcher writes it.
func matchEvent(t testing.TB, topic string, a labelled) []byte {
	t.Helper()
	out, err := events.MatchMessage(matchOf(topic, a))
	if err != nil {
		t.Fatal(err)
	}
	return out.Data
}

// matchOf is the match event of a labelled article in a topic, its matched terms those
// loadMatched derived.
func matchOf(topic string, a labelled) events.Match {
	art := article(a)
	return events.Match{
		Topic: topic, QueryVersion: "v1", ArticleID: a.ID, URL: art.URL, Title: a.Title, Summary: a.Summary,
		Source: a.Source, PublishedAt: art.PublishedAt, FirstSeenAt: art.FirstSeenAt, MatchedAt: art.FirstSeenAt,
		Matched: a.Matched,
	}
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
		m := matchOf("dprk-russia", a)
		p.fold(events.MatchTermsView{Matched: m.Matched, MatchView: events.MatchView{Topic: m.Topic, ArticleID: m.ArticleID,
			URL: m.URL, Title: m.Title, Summary: m.Summary, Source: m.Source, PublishedAt: m.PublishedAt, FirstSeenAt: m.FirstSeenAt}}, uint64(i+1))
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
//
// Each set is matched against its topic's query (the .query file next to it), and the
// articles the query does not match are left out, as the topic would never see them. Leaving
// the query's terms out of story terms costs recall on the two smaller sets: there the
// subject's words still weighed something, and rewrites shared them (see TestLabelled's log
// and docs/stories-spikes-digests.md).
var labelledSets = []struct {
	file                   string
	minPrecision           float64
	minRecall              float64
	busyPrecision, busyRec float64
}{
	{"testdata/labelled.json", 0.95, 0.95, 0.95, 0.95},
	{"testdata/heldout.json", 0.95, 0.83, 0.95, 0.90},
	{"testdata/final.json", 0.95, 0.80, 0.95, 0.78},
}

// beforeParams are the parameters of the rule before matched terms were left out and two
// shared terms became too few: what TestLabelled and TestLabelledInBusyTopic compare with.
var beforeParams = func() params {
	p := defaultParams
	p.keepMatched, p.minShared = true, 0
	return p
}()

// TestLabelled measures pairwise precision and recall of "same story" on the labelled sets
// and fails below the goals. go test -v -run TestLabelled ./projections/stories logs them,
// and those of the rule before for comparison.
func TestLabelled(t *testing.T) {
	for _, set := range labelledSets {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(set.file, "testdata/"), ".json"), func(t *testing.T) {
			arts, out := loadMatched(t, set.file)
			got := group(t, New(), arts, true)
			prec, rec, fp, fn := pairScores(arts, got)
			t.Logf("%s: %s: precision %.3f recall %.3f", set.file, describe(arts), prec, rec)
			if len(out) > 0 {
				t.Logf("  left out, not matched by the query: %d %v", len(out), ids(out))
			}
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
			bp, br, _, _ := pairScores(arts, group(t, newWith(beforeParams), arts, false))
			all := loadLabelled(t, set.file)
			ap, ar, _, _ := pairScores(all, group(t, newWith(beforeParams), all, false))
			t.Logf("  before (matched terms kept, no least shared count): precision %.3f recall %.3f; on all %d articles %.3f %.3f",
				bp, br, len(all), ap, ar)
			if prec < set.minPrecision || rec < set.minRecall {
				t.Errorf("precision %.3f recall %.3f; want at least %.2f and %.2f", prec, rec, set.minPrecision, set.minRecall)
			}
		})
	}
}

func ids(arts []labelled) []string {
	out := make([]string, len(arts))
	for i, a := range arts {
		out[i] = a.ID
	}
	return out
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
