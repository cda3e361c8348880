package stories

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newswatch/newswatch/topics"
)

// trendNow is when the trending tests ask: eight days after t0, so a background that starts
// at t0 fills the window and a full week of baseline.
var trendNow = t0.Add(8 * 24 * time.Hour)

// Everyday words of a topic's titles, the most common first: function words and the
// subject's own words, which are in stories of every day.
var (
	trendVocabEN = []string{"the", "of", "in", "to", "and", "on", "for", "says", "with", "north", "korea",
		"russia", "troops", "military", "talks", "minister", "border", "after", "over", "new",
		"kremlin", "pyongyang", "moscow", "report", "officials", "deal", "weapons", "sanctions",
		"summit", "envoy"}
	trendVocabRU = []string{"в", "и", "на", "по", "россия", "кндр", "не", "для", "что", "войска",
		"минобороны", "заявил", "переговоры", "граница", "москва", "пхеньян", "после", "как",
		"санкции", "саммит"}
	trendVocabKO = []string{"북한", "러시아", "에", "의", "북한군", "파병", "국방부", "정부", "서울",
		"모스크바", "평양", "협상", "국경", "발표", "관계자", "제재", "정상회담", "는", "군사", "외교"}
)

// trendGen writes the titles of a topic: each article a story of its own, unless a test
// makes copies of it.
type trendGen struct {
	rng   *rand.Rand
	vocab []string
	n     int
}

func newTrendGen(seed uint64, vocab []string) *trendGen {
	return &trendGen{rng: rand.New(rand.NewPCG(seed, 7)), vocab: vocab}
}

// article returns an article whose title is six vocabulary words (the first words most
// often), the given words and two words of its own; its summary is forty words of its own,
// so that no two generated articles are grouped into one story.
func (g *trendGen) article(at time.Time, source string, words ...string) labelled {
	g.n++
	var title []string
	for range 6 {
		title = append(title, g.vocab[int(float64(len(g.vocab))*g.rng.Float64()*g.rng.Float64())])
	}
	title = append(title, words...)
	title = append(title, g.word(), g.word())
	g.rng.Shuffle(len(title), func(i, j int) { title[i], title[j] = title[j], title[i] })
	summary := make([]string, 40)
	for i := range summary {
		summary[i] = g.word()
	}
	return labelled{ID: fmt.Sprintf("g%d", g.n), Source: source, At: at,
		Title: strings.Join(title, " "), Summary: strings.Join(summary, " ")}
}

// word returns a word of eight random letters: a word of one story only.
func (g *trendGen) word() string {
	b := make([]byte, 8)
	for i := range b {
		b[i] = byte('a' + g.rng.IntN(26))
	}
	return string(b)
}

// steady returns perDay stories a day, evenly spaced, in (from, to], from twelve sources.
// Evenly spaced, the window and the baseline hold exact numbers of stories.
func (g *trendGen) steady(from, to time.Time, perDay int) []labelled {
	step := 24 * time.Hour / time.Duration(perDay)
	var out []labelled
	for at := from.Add(step); !at.After(to); at = at.Add(step) {
		out = append(out, g.article(at, fmt.Sprintf("feed-%d", g.rng.IntN(12))))
	}
	return out
}

// burst returns one story per source, four hours apart and ending an hour before now, each
// with the given words in its title.
func (g *trendGen) burst(sources []string, words ...string) []labelled {
	out := make([]labelled, len(sources))
	for i, s := range sources {
		out[i] = g.article(trendNow.Add(-time.Hour-time.Duration(len(sources)-1-i)*4*time.Hour), s, words...)
	}
	return out
}

// trendFeed applies the articles in time order and returns the projection.
func trendFeed(t *testing.T, topic string, arts ...[]labelled) *Projection {
	t.Helper()
	all := slices.Concat(arts...)
	slices.SortStableFunc(all, func(a, b labelled) int { return a.At.Compare(b.At) })
	p := New()
	apply(t, p, topic, all...)
	return p
}

// trendOwnStories fails the test unless each article founded a story of its own: the counts
// the tests expect assume it.
func trendOwnStories(t *testing.T, p *Projection, topic string, arts []labelled) {
	t.Helper()
	seen := map[string]bool{}
	for _, a := range arts {
		id, ok := p.StoryID(topic, a.ID)
		if !ok || id != storyID(topic, a.ID) || seen[id] {
			t.Fatalf("article %s (%q) was grouped with another one", a.ID, a.Title)
		}
		seen[id] = true
	}
}

func trendTerms(ts []Trend) []string {
	out := make([]string, len(ts))
	for i, tr := range ts {
		out[i] = tr.Term
	}
	return out
}

// trendWeekAgo is where the backgrounds start: the window and the baseline before trendNow.
var trendWeekAgo = trendNow.Add(-8 * 24 * time.Hour)

// A steady week of 30 stories a day, then a day with five more stories naming Kursk from
// four sources: "kursk" is the top trend, with the counts of exactly those stories, and no
// everyday word trends. In the other cases nothing may trend: the whole topic doubles with
// the same words; a word goes from 30% to 50% of the stories on a busy day; a quiet topic's
// week is too short to know that "the" is an everyday word; the five Kursk stories come
// from one source; on a quiet day (4 stories), Kursk is in two stories only; a rare word is
// in one story carried by twenty outlets. Each case fails without the rule it is named for.
func TestTrending(t *testing.T) {
	kurskSources := []string{"globalwire", "courier", "daily-herald", "globalwire", "the-times"}
	cases := []struct {
		name string
		arts func(g *trendGen) ([]labelled, []labelled) // background, events
		// syndicated: the events are copies of one story; else every article is a story.
		syndicated bool
		// significant are the counts (k1, n1, k0, n0) of the term the case holds back: G²
		// alone would let it trend.
		significant [4]int
		check       func(t *testing.T, got []Trend) // default: nothing trends
	}{
		{
			name: "burst from several sources",
			arts: func(g *trendGen) ([]labelled, []labelled) {
				return g.steady(trendWeekAgo, trendNow, 30), g.burst(kurskSources, "Kursk")
			},
			check: func(t *testing.T, got []Trend) {
				// 35 stories in the window, 210 in the baseline, none of them with "kursk":
				// G² = 2(30 ln 30 + 245 ln 245 − 35 ln 35 − 240 ln 240).
				score := 2 * (30*math.Log(30) + 245*math.Log(245) - 35*math.Log(35) - 240*math.Log(240))
				want := Trend{Term: "kursk", Stories: 5, Sources: 4, BaselineStories: 0, Expected: 0, Ratio: 6, Score: round2(score)}
				if len(got) == 0 || got[0] != want {
					t.Fatalf("got %+v, want first %+v", got, want)
				}
				for _, tr := range got {
					if slices.Contains(trendVocabEN, tr.Term) {
						t.Errorf("an everyday word trends: %+v", tr)
					}
				}
			},
		},
		{
			name: "whole topic doubles",
			arts: func(g *trendGen) ([]labelled, []labelled) {
				return g.steady(trendWeekAgo, trendNow.Add(-24*time.Hour), 30), g.steady(trendNow.Add(-24*time.Hour), trendNow, 60)
			},
		},
		{
			// Significant by G² (13.0), but 50% of the titles against 30% is not twice as
			// common: an everyday word that is a little more common does not trend.
			name: "everyday word a little more common",
			arts: func(g *trendGen) ([]labelled, []labelled) {
				bg, day := g.steady(trendWeekAgo, trendNow.Add(-24*time.Hour), 30), g.steady(trendNow.Add(-24*time.Hour), trendNow, 120)
				for i := range bg {
					if i%10 < 3 {
						bg[i].Title = "Ceasefire " + bg[i].Title
					}
				}
				for i := range day {
					if i%2 == 0 {
						day[i].Title = "Ceasefire " + day[i].Title
					}
				}
				return bg, day
			},
			significant: [4]int{60, 120, 63, 210},
		},
		{
			// A week of fourteen stories, three of them with "the", then six with "the": the
			// numbers say "the" doubled (ratio 3.06, G² 13.0), but fourteen stories are too
			// few to know that "the" is an everyday word.
			name: "quiet topic",
			arts: func(g *trendGen) ([]labelled, []labelled) {
				g.vocab = trendVocabEN[1:]
				bg := g.steady(trendWeekAgo, trendNow.Add(-24*time.Hour), 2)
				for _, i := range []int{0, 5, 10} {
					bg[i].Title = "The " + bg[i].Title
				}
				return bg, g.burst([]string{"a", "b", "c", "a", "b", "c"}, "The")
			},
			significant: [4]int{6, 6, 3, 14},
		},
		{
			name: "one source",
			arts: func(g *trendGen) ([]labelled, []labelled) {
				return g.steady(trendWeekAgo, trendNow, 30), g.burst(slices.Repeat([]string{"liveblog"}, 5), "Kursk")
			},
			significant: [4]int{5, 35, 0, 210},
		},
		{
			name: "two stories on a quiet day",
			arts: func(g *trendGen) ([]labelled, []labelled) {
				bg := slices.Concat(g.steady(trendWeekAgo, trendNow.Add(-24*time.Hour), 40), g.steady(trendNow.Add(-24*time.Hour), trendNow, 4))
				return bg, g.burst([]string{"courier", "the-times"}, "Kursk")
			},
			significant: [4]int{2, 6, 0, 280},
		},
		{
			name: "one story, twenty copies",
			arts: func(g *trendGen) ([]labelled, []labelled) {
				wire := g.article(trendNow.Add(-5*time.Hour), "globalwire", "Zaporizhzhia")
				copies := []labelled{wire}
				for i := range 19 {
					c := wire
					c.ID, c.Source, c.At = fmt.Sprintf("copy-%d", i), fmt.Sprintf("outlet-%d", i), wire.At.Add(time.Duration(i+1)*5*time.Minute)
					copies = append(copies, c)
				}
				return g.steady(trendWeekAgo, trendNow, 30), copies
			},
			syndicated: true,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bg, events := c.arts(newTrendGen(1, trendVocabEN))
			p := trendFeed(t, "dprk-russia", bg, events)
			if c.syndicated {
				if n := len(p.Stories("dprk-russia", 0)); n != len(bg)+1 {
					t.Fatalf("%d stories, want the background's %d and one", n, len(bg))
				}
			} else {
				trendOwnStories(t, p, "dprk-russia", slices.Concat(bg, events))
			}
			if k := c.significant; k[1] > 0 && g2(k[0], k[1], k[2], k[3]) < trendMinScore {
				t.Fatalf("G² of %v is not significant: the case tests nothing", k)
			}
			got := p.Trending("dprk-russia", trendNow, 0)
			t.Logf("%s: %+v", c.name, got)
			if c.check != nil {
				c.check(t, got)
			} else if len(got) > 0 {
				t.Errorf("trends: %+v, want none", got)
			}
		})
	}
}

// A topic with less than a day of history before the window has no trends, though its
// numbers alone would give some: fifteen Kursk stories against 40 stories in the 16 hours
// before the window pass every other test, as the same day with two days before it does.
func TestTrendingYoungTopic(t *testing.T) {
	if g2(15, 75, 0, 40) < trendMinScore {
		t.Fatal("the young topic's counts are not significant: the test tests nothing")
	}
	for _, c := range []struct {
		history time.Duration
		want    []string
	}{
		{40 * time.Hour, []string{}},
		{72 * time.Hour, []string{"kursk"}},
	} {
		t.Run(c.history.String(), func(t *testing.T) {
			g := newTrendGen(2, trendVocabEN)
			sources := make([]string, 15)
			for i := range sources {
				sources[i] = fmt.Sprintf("outlet-%d", i%5)
			}
			burst := g.burst(sources[:6], "Kursk")
			for i, s := range sources[6:] {
				burst = append(burst, g.article(trendNow.Add(-time.Duration(i+1)*90*time.Minute-time.Minute), s, "Kursk"))
			}
			bg := g.steady(trendNow.Add(-c.history), trendNow, 60)
			p := trendFeed(t, "young", bg, burst)
			trendOwnStories(t, p, "young", slices.Concat(bg, burst))
			got := p.Trending("young", trendNow, 0)
			if !slices.Equal(trendTerms(got), c.want) {
				t.Errorf("got %+v, want %v", got, c.want)
			}
		})
	}
}

// Terms are the query language's tokens in any script: a Cyrillic and a Hangul name trend
// like a Latin one, while the numbers and Korean dates in the same titles do not.
func TestTrendingScripts(t *testing.T) {
	for _, c := range []struct {
		name  string
		vocab []string
		words []string
		want  string
	}{
		{"russian", trendVocabRU, []string{"Курске", "2026"}, "курске"},
		{"korean", trendVocabKO, []string{"쿠르스크", "17일"}, "쿠르스크"},
		{"latin with accents", trendVocabEN, []string{"Zürich", "3,000"}, "zurich"},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := newTrendGen(3, c.vocab)
			bg, burst := g.steady(trendWeekAgo, trendNow, 30), g.burst([]string{"tass", "yonhap", "ria", "kbs"}, c.words...)
			p := trendFeed(t, "t", bg, burst)
			trendOwnStories(t, p, "t", slices.Concat(bg, burst))
			got := p.Trending("t", trendNow, 0)
			if !slices.Equal(trendTerms(got), []string{c.want}) {
				t.Errorf("got %+v, want only %q", got, c.want)
			}
		})
	}
}

// Order is by score, then by term; the limit cuts that order, and limit ≤ 0 means ten. Two
// terms always in the same stories have the same numbers and are ordered by term.
func TestTrendingOrderAndLimit(t *testing.T) {
	g := newTrendGen(4, trendVocabEN)
	six := g.burst([]string{"a", "b", "c", "a", "b", "c"}, "Sudzha", "Kursk")
	four := g.burst([]string{"d", "e", "d", "e"}, "Belgorod")
	for i := range four {
		four[i].At = four[i].At.Add(-2 * time.Hour) // not at the same times as the six
	}
	bg := g.steady(trendWeekAgo, trendNow, 30)
	p := trendFeed(t, "t", bg, six, four)
	trendOwnStories(t, p, "t", slices.Concat(bg, six, four))
	for _, c := range []struct {
		limit int
		want  []string
	}{
		{0, []string{"kursk", "sudzha", "belgorod"}},
		{-1, []string{"kursk", "sudzha", "belgorod"}},
		{2, []string{"kursk", "sudzha"}},
		{1, []string{"kursk"}},
	} {
		got := p.Trending("t", trendNow, c.limit)
		if !slices.Equal(trendTerms(got), c.want) {
			t.Errorf("limit %d: got %+v, want %v", c.limit, got, c.want)
		}
	}
	first := p.Trending("t", trendNow, 0)
	if first[0].Score != first[1].Score || first[1].Score <= first[2].Score {
		t.Errorf("scores: %+v", first)
	}
	for range 5 {
		if again := p.Trending("t", trendNow, 0); !slices.Equal(again, first) {
			t.Fatalf("not deterministic: %+v then %+v", first, again)
		}
	}
}

// An unknown topic, like one with too little history, has an empty list, never null.
func TestTrendingUnknownTopic(t *testing.T) {
	p := New()
	apply(t, p, "known", labelled{ID: "a", Source: "s", At: t0, Title: "Kursk"})
	for _, topic := range []string{"unknown", "known"} {
		got := p.Trending(topic, trendNow, 5)
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != "[]" {
			t.Errorf("%s: %s, want []", topic, b)
		}
	}
}

// The JSON of an entry, as the topic summary shows it.
func TestTrendJSON(t *testing.T) {
	b, err := json.Marshal(Trend{Term: "kursk", Stories: 5, Sources: 4, BaselineStories: 1, Expected: 0.83, Ratio: 3.28, Score: 12.5})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"term":"kursk","stories":5,"sources":4,"baseline_stories":1,"expected":0.83,"ratio":3.28,"score":12.5}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestTrendTerm(t *testing.T) {
	for tok, want := range map[string]bool{
		"kursk": true, "курск": true, "쿠르스크": true, "mh17": true, "북한": true,
		"2026": false, "s": false, "в": false, "에": false, "17일": false, "6월": false, "f16": false, "": false,
	} {
		if got := isTrendTerm(tok); got != want {
			t.Errorf("isTrendTerm(%q) = %v", tok, got)
		}
	}
}

// g2 against the textbook form 2 Σ O ln(O/E) over the four cells.
func TestG2(t *testing.T) {
	for _, c := range [][4]int{{5, 35, 0, 210}, {3, 100, 0, 700}, {20, 60, 30, 210}, {10, 50, 70, 350}, {0, 10, 5, 70}, {7, 7, 0, 30}} {
		k1, n1, k0, n0 := c[0], c[1], c[2], c[3]
		n := float64(n1 + n0)
		var want float64
		for _, cell := range []struct{ o, row, col int }{
			{k1, n1, k1 + k0}, {n1 - k1, n1, n1 + n0 - k1 - k0}, {k0, n0, k1 + k0}, {n0 - k0, n0, n1 + n0 - k1 - k0},
		} {
			if cell.o > 0 {
				want += 2 * float64(cell.o) * math.Log(float64(cell.o)/(float64(cell.row)*float64(cell.col)/n))
			}
		}
		if got := g2(k1, n1, k0, n0); math.Abs(got-want) > 1e-9*max(1, want) {
			t.Errorf("g2%v = %v, want %v", c, got, want)
		}
	}
}

// Trending copies what it reads under the lock: run with -race, it reads while Apply adds
// copies to listed stories (which moves their articles in place) and founds new ones.
func TestTrendingWhileApplying(t *testing.T) {
	g := newTrendGen(5, trendVocabEN)
	p := trendFeed(t, "t", g.steady(trendWeekAgo, trendNow.Add(-24*time.Hour), 30))
	var more []labelled
	for _, a := range g.burst([]string{"a", "b", "c", "d", "e"}, "Kursk") {
		more = append(more, a)
		for i := range 10 {
			c := a
			// Copies published earlier than the first one are inserted before it.
			c.ID, c.Source, c.At = fmt.Sprintf("%s-copy-%d", a.ID, i), fmt.Sprintf("outlet-%d", i), a.At.Add(-time.Duration(i+1)*time.Minute)
			more = append(more, c)
		}
	}
	msgs := make([][]byte, len(more))
	for i, a := range more {
		msgs[i] = matchEvent(t, "t", a)
	}
	var wg sync.WaitGroup
	var done atomic.Bool
	wg.Go(func() {
		defer done.Store(true)
		for i, m := range msgs {
			if err := p.Apply(m, uint64(i+1)); err != nil {
				t.Error(err)
			}
		}
	})
	for range 4 {
		wg.Go(func() {
			for !done.Load() {
				p.Trending("t", trendNow, 0)
			}
		})
	}
	wg.Wait()
	if got := p.Trending("t", trendNow, 0); len(got) == 0 || got[0].Term != "kursk" || got[0].Stories != 5 {
		t.Errorf("after the copies: %+v", got)
	}
}

// BenchmarkTrending asks for the trends of a topic holding over 10,000 stories in its eight
// days (an article every 50 s, a quarter of them copies of recent ones), with titles in
// Latin and in Cyrillic letters, a fifth of the words capitalized (which must be folded).
func BenchmarkTrending(b *testing.B) {
	for _, script := range []string{"latin", "cyrillic"} {
		b.Run(script, func(b *testing.B) {
			c := newCorpus(1, 50*time.Second)
			for i := range c.vocab {
				first := "w"
				if script == "cyrillic" {
					first = "с"
				}
				if i%5 == 0 {
					first = strings.ToUpper(first)
				}
				c.vocab[i] = fmt.Sprintf("%s%dж", first, i)
			}
			p := New()
			for i := range 8 * 24 * 3600 / 50 {
				if err := p.Apply(c.next(b), uint64(i+1)); err != nil {
					b.Fatal(err)
				}
			}
			now := c.t0.Add(time.Duration(c.n) * c.step)
			stories := len(p.Stories("busy", 0))
			b.ReportAllocs()
			for b.Loop() {
				p.Trending("busy", now, 10)
			}
			b.ReportMetric(float64(stories), "stories")
		})
	}
}

// The terms of a title are the query language's tokens that may trend.
func FuzzTitleTerms(f *testing.F) {
	for _, title := range []string{
		"", "   ", "North Korea's troops: 3,000 in Kursk (AP)", "F-16s & MH17 -- 2026/06/17", "x_y-z",
		"Войска КНДР в Курской области", "북한군, 쿠르스크 투입… 17일 발표", "e\u0301cole \u0301abc Zu\u0308rich",
		"ﬁnance Ｋｕｒｓｋ ½ Straße ΣΟΦΟΣ", "bad \xff\xfe bytes", "中文标题 日本語のタイトル",
	} {
		f.Add(title)
	}
	f.Fuzz(func(t *testing.T, title string) {
		c := &trendCounts{ids: map[string]int32{}, raw: map[string]int32{}}
		var got []string
		for _, id := range c.termIDs(nil, title) {
			got = append(got, c.terms[id])
		}
		var want []string
		for _, tok := range topics.Tokenize(title) {
			if isTrendTerm(tok) {
				want = append(want, tok)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: got %q, want %q", title, got, want)
		}
	})
}

// The same over the labelled titles in three languages, and over random strings of letters
// of several scripts, digits, marks and punctuation.
func TestTitleTerms(t *testing.T) {
	var titles []string
	for _, set := range labelledSets {
		for _, a := range loadLabelled(t, set.file) {
			titles = append(titles, a.Title)
		}
	}
	rng := rand.New(rand.NewPCG(6, 0))
	chars := []rune("aZ9 .,'-_кЖёйЙ북한\u1100\u0301\u0308\u0306ﬁＫ½ß·…٣")
	for range 2000 {
		r := make([]rune, rng.IntN(20))
		for i := range r {
			r[i] = chars[rng.IntN(len(chars))]
		}
		titles = append(titles, string(r))
	}
	c := &trendCounts{ids: map[string]int32{}, raw: map[string]int32{}}
	for _, title := range titles {
		var got []string
		for _, id := range c.termIDs(nil, title) {
			got = append(got, c.terms[id])
		}
		var want []string
		for _, tok := range topics.Tokenize(title) {
			if isTrendTerm(tok) {
				want = append(want, tok)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: got %q, want %q", title, got, want)
		}
	}
}
