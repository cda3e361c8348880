package spike

import (
	"fmt"
	"github.com/newswatch/newswatch/alerts/notify"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin for the daylight saving test
)

var t0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) // a Monday

// series generates matches of one topic: a Poisson process whose rate (stories per hour)
// may change with time, each story new (no copies), from sources drawn at random.
type series struct {
	rng     *rand.Rand
	n       int
	sources []string
}

func newSeries(seed uint64, sources int) *series {
	s := &series{rng: rand.New(rand.NewPCG(seed, 7))}
	for i := range sources {
		s.sources = append(s.sources, fmt.Sprintf("feed-%d", i))
	}
	return s
}

func (s *series) story(at time.Time, source string) Observation {
	s.n++
	return Observation{
		Topic: "t", ArticleID: fmt.Sprintf("a%d", s.n), Source: source, At: at,
		Title: fmt.Sprintf("story %d %x", s.n, s.rng.Uint64()), URL: fmt.Sprintf("https://%s.example/%d", source, s.n),
		Terms: []string{"kursk", []string{"troops", "soldiers"}[s.n%2]},
	}
}

// poisson returns the stories of [from, to) at rate(t) per hour (rate at most maxRate).
func (s *series) poisson(from, to time.Time, maxRate float64, rate func(time.Time) float64) []Observation {
	var out []Observation
	for at := from; ; {
		at = at.Add(time.Duration(s.rng.ExpFloat64() / maxRate * float64(time.Hour)))
		if !at.Before(to) {
			return out
		}
		if s.rng.Float64() < rate(at)/maxRate {
			out = append(out, s.story(at, s.sources[s.rng.IntN(len(s.sources))]))
		}
	}
}

// burst returns n stories spread evenly over [from, from+d), from the given sources in turn.
func (s *series) burst(from time.Time, d time.Duration, n int, sources ...string) []Observation {
	var out []Observation
	for i := range n {
		out = append(out, s.story(from.Add(d*time.Duration(i)/time.Duration(n)), sources[i%len(sources)]))
	}
	return out
}

func flat(rate float64) func(time.Time) float64 { return func(time.Time) float64 { return rate } }

// run feeds the observations to the detector in time order and checks every step from
// `from` to `to`, returning the spikes fired.
func run(d *Detector, obs []Observation, from, to time.Time, step time.Duration) []Spike {
	slices.SortStableFunc(obs, func(a, b Observation) int { return a.At.Compare(b.At) })
	var out []Spike
	i := 0
	for now := from; !now.After(to); now = now.Add(step) {
		for ; i < len(obs) && !obs[i].At.After(now); i++ {
			d.Observe(obs[i])
		}
		out = append(out, d.Check(now)...)
	}
	return out
}

func detector(t testing.TB, rules ...Rule) *Detector {
	t.Helper()
	if len(rules) == 0 {
		rules = []Rule{{Topic: "t", TopicName: "Topic"}}
	}
	d, err := NewDetector(rules)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func when(spikes []Spike) []string {
	var out []string
	for _, s := range spikes {
		out = append(out, fmt.Sprintf("%s (%d vs %.1f)", s.At.Format(time.RFC3339), s.Count, s.Baseline))
	}
	return out
}

// A 5× surge from several sources within one window fires, once, with its explanation, for
// topics whose usual volume is at least about three stories a window (below, significance
// needs a larger multiple: TestQuietTopicSurge, TestTailAndNeeded).
func TestSurgeFires(t *testing.T) {
	for _, rate := range []float64{4, 10, 30} {
		t.Run(fmt.Sprintf("%v per hour", rate), func(t *testing.T) {
			s := newSeries(1, 8)
			surge := t0.Add(15*24*time.Hour + 9*time.Hour)
			end := surge.Add(12 * time.Hour)
			obs := s.poisson(t0, end, rate, flat(rate))
			// 4× the usual on top of the usual: 5× in the hour, from four sources.
			obs = append(obs, s.burst(surge, time.Hour, int(4*rate), "wire", "herald", "courier", "times")...)
			spikes := run(detector(t), obs, t0, end, 5*time.Minute)
			if len(spikes) != 1 {
				t.Fatalf("%d spikes: %v", len(spikes), when(spikes))
			}
			sp := spikes[0]
			if sp.At.Before(surge) || sp.At.After(surge.Add(time.Hour)) {
				t.Errorf("fired at %v, surge at %v", sp.At, surge)
			}
			if sp.Ratio < 3 || sp.Baseline < 0.5*rate || sp.Baseline > 1.5*rate || sp.PValue > Alpha {
				t.Errorf("explanation: count %d baseline %.2f ratio %.2f p %.2g", sp.Count, sp.Baseline, sp.Ratio, sp.PValue)
			}
			if len(sp.Sources) < 4 || len(sp.Terms) != 3 || len(sp.Stories) == 0 || sp.Stories[0].URL == "" {
				t.Errorf("explanation: %+v", sp)
			}
			t.Logf("fired %v after the surge began: %s", sp.At.Sub(surge), sp.Summary())
		})
	}
}

// A usually quiet topic (a story every five hours) fires when eight stories from four
// sources come within an hour.
func TestQuietTopicSurge(t *testing.T) {
	s := newSeries(2, 8)
	surge := t0.Add(20*24*time.Hour + 15*time.Hour)
	end := surge.Add(2 * time.Hour)
	obs := append(s.poisson(t0, end, 0.2, flat(0.2)), s.burst(surge, time.Hour, 8, "a", "b", "c", "d")...)
	spikes := run(detector(t), obs, t0, end, 5*time.Minute)
	if len(spikes) != 1 || spikes[0].Baseline != MinBaseline {
		t.Fatalf("spikes %v", when(spikes))
	}
	t.Log(spikes[0].Summary())
}

// A steady topic, Poisson noise around a constant rate, never fires over simulated months,
// at any rate from a story every five hours to fifteen an hour.
//
// NEWSWATCH_SPIKE_SEEDS=20 measures the rate of noise spikes over many more months (the
// numbers in docs/stories-spikes-digests.md), NEWSWATCH_SPIKE_STEP=5m with checks more often;
// it then only logs, since noise does exceed any threshold now and then.
func TestFlatMonths(t *testing.T) {
	seeds, measure, step := 1, false, 10*time.Minute
	if n, err := strconv.Atoi(os.Getenv("NEWSWATCH_SPIKE_SEEDS")); err == nil && n > 0 {
		seeds, measure = n, true
	}
	if d, err := time.ParseDuration(os.Getenv("NEWSWATCH_SPIKE_STEP")); err == nil && d > 0 {
		step = d
	}
	const days = 45
	total, months := 0, 0.0
	for _, rate := range []float64{0.2, 1, 2, 4, 8, 15} {
		n := 0
		for seed := range uint64(seeds) {
			s := newSeries(seed, 8)
			end := t0.Add(days * 24 * time.Hour)
			spikes := run(detector(t), s.poisson(t0, end, rate, flat(rate)), t0, end, step)
			n += len(spikes)
			if len(spikes) > 0 && !measure {
				t.Errorf("rate %v seed %d: %d spikes: %v", rate, seed, len(spikes), when(spikes))
			}
		}
		t.Logf("%v stories/h: %d spikes in %.1f topic-months", rate, n, float64(seeds*days)/30)
		total += n
		months += float64(seeds*days) / 30
	}
	t.Logf("%d spikes over %.0f simulated topic-months of steady topics", total, months)
}

// A topic busy every morning (seven to ten) and quiet otherwise learns its day: after its
// first days it does not fire every morning. Neither does one quiet at weekends on Monday.
func TestDailyAndWeeklyCycle(t *testing.T) {
	morning := func(at time.Time) float64 {
		if h := at.Hour(); h >= 7 && h < 10 {
			return 12
		}
		return 0.5
	}
	weekdays := func(at time.Time) float64 {
		if wd := at.Weekday(); wd == time.Saturday || wd == time.Sunday {
			return 0.3
		}
		return morning(at)
	}
	for name, rate := range map[string]func(time.Time) float64{"mornings": morning, "weekday mornings": weekdays} {
		t.Run(name, func(t *testing.T) {
			s := newSeries(3, 8)
			end := t0.Add(42 * 24 * time.Hour)
			spikes := run(detector(t), s.poisson(t0, end, 12, rate), t0, end, 5*time.Minute)
			if len(spikes) > 0 {
				t.Errorf("%d spikes: %v", len(spikes), when(spikes))
			}
		})
	}
}

// Mornings are local mornings: across the change to summer time the busy hours move by an
// hour in UTC, and a rule on Berlin's clock does not mistake them for a surge.
func TestDaylightSaving(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	morning := func(at time.Time) float64 {
		if h := at.In(berlin).Hour(); h >= 7 && h < 9 {
			return 15
		}
		return 0.3
	}
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) // summer time begins on 29 March
	end := start.Add(42 * 24 * time.Hour)
	s := newSeries(4, 8)
	obs := s.poisson(start, end, 15, morning)
	spikes := run(detector(t, Rule{Topic: "t", Location: berlin}), slices.Clone(obs), start, end, 5*time.Minute)
	if len(spikes) > 0 {
		t.Errorf("Berlin clock: %d spikes: %v", len(spikes), when(spikes))
	}
	utc := run(detector(t), obs, start, end, 5*time.Minute)
	t.Logf("the same series on a UTC clock: %d spikes %v", len(utc), when(utc))
}

// One source publishing a burst is not a surge, however large, and neither are twenty
// outlets carrying copies of one wire story; several sources together are.
func TestSurgeNeedsSources(t *testing.T) {
	surge := t0.Add(28*24*time.Hour + 14*time.Hour)
	end := surge.Add(3 * time.Hour)
	background := func(s *series) []Observation { return s.poisson(t0, end, 4, flat(4)) }

	s := newSeries(5, 8)
	obs := append(background(s), s.burst(surge, time.Hour, 60, "liveblog")...)
	if spikes := run(detector(t), obs, t0, end, 5*time.Minute); len(spikes) > 0 {
		t.Errorf("one source: %v", when(spikes))
	}

	s = newSeries(5, 8)
	obs = background(s)
	for i := range 20 {
		o := s.story(surge.Add(time.Duration(i)*time.Minute), fmt.Sprintf("outlet-%d", i))
		o.Title, o.Summary = "Pyongyang sends troops to Kursk", "North Korean soldiers have arrived in Kursk, officials said on Monday, citing intelligence."
		obs = append(obs, o)
	}
	if spikes := run(detector(t), obs, t0, end, 5*time.Minute); len(spikes) > 0 {
		t.Errorf("copies of one story: %v", when(spikes))
	}

	s = newSeries(5, 8)
	obs = append(background(s), s.burst(surge, time.Hour, 60, "liveblog", "wire", "herald")...)
	if spikes := run(detector(t), obs, t0, end, 5*time.Minute); len(spikes) != 1 {
		t.Errorf("three sources: %v", when(spikes))
	}
}

// After a spike the topic stays quiet for its cooldown: a second surge within it does not
// fire, one after it does.
func TestCooldown(t *testing.T) {
	s := newSeries(6, 8)
	first := t0.Add(28*24*time.Hour + 8*time.Hour)
	end := first.Add(12 * time.Hour)
	obs := s.poisson(t0, end, 3, flat(3))
	for _, at := range []time.Time{first, first.Add(3 * time.Hour), first.Add(7 * time.Hour)} {
		obs = append(obs, s.burst(at, 30*time.Minute, 25, "a", "b", "c", "d", "e")...)
	}
	spikes := run(detector(t), obs, t0, end, 5*time.Minute)
	if len(spikes) != 2 || spikes[1].At.Sub(spikes[0].At) < DefaultCooldown {
		t.Errorf("spikes %v, want two at least %v apart", when(spikes), DefaultCooldown)
	}
	short := run(detector(t, Rule{Topic: "t", Cooldown: time.Hour}), obs, t0, end, 5*time.Minute)
	if len(short) < 3 {
		t.Errorf("cooldown 1h: spikes %v, want one for each surge", when(short))
	}
	for i := 1; i < len(short); i++ {
		if short[i].At.Sub(short[i-1].At) < time.Hour {
			t.Errorf("cooldown 1h: spikes %v", when(short))
		}
	}
}

// A young topic cannot spike: it has no baseline yet.
func TestNoSpikeWithoutHistory(t *testing.T) {
	s := newSeries(7, 8)
	obs := s.burst(t0.Add(2*time.Hour), time.Hour, 40, "a", "b", "c", "d")
	if spikes := run(detector(t), obs, t0, t0.Add(2*24*time.Hour), 5*time.Minute); len(spikes) > 0 {
		t.Errorf("spikes %v", when(spikes))
	}
}

// A detector restored from a snapshot taken mid-series fires exactly as one that never
// stopped, and does not fire again for a spike it fired before the snapshot.
func TestSnapshotRestore(t *testing.T) {
	s := newSeries(8, 8)
	surge := t0.Add(28*24*time.Hour + 10*time.Hour)
	end := surge.Add(20 * time.Hour)
	obs := s.poisson(t0, end, 3, flat(3))
	obs = append(obs, s.burst(surge, time.Hour, 20, "a", "b", "c", "d")...)
	obs = append(obs, s.burst(surge.Add(12*time.Hour), time.Hour, 20, "a", "b", "c", "d")...)
	slices.SortStableFunc(obs, func(a, b Observation) int { return a.At.Compare(b.At) })
	want := run(detector(t), slices.Clone(obs), t0, end, 5*time.Minute)
	if len(want) != 2 {
		t.Fatalf("want two spikes, got %v", when(want))
	}
	for _, cut := range []time.Time{surge.Add(-time.Hour), surge.Add(30 * time.Minute), surge.Add(3 * time.Hour)} {
		i := slices.IndexFunc(obs, func(o Observation) bool { return o.At.After(cut) })
		first := detector(t)
		got := run(first, slices.Clone(obs[:i]), t0, cut, 5*time.Minute)
		snap, err := first.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		second := detector(t)
		if err := second.Restore(snap); err != nil {
			t.Fatal(err)
		}
		got = append(got, run(second, slices.Clone(obs[i:]), cut.Add(5*time.Minute), end, 5*time.Minute)...)
		if !slices.EqualFunc(got, want, func(a, b Spike) bool { return a.ID == b.ID && a.At.Equal(b.At) }) {
			t.Errorf("restart at %v: spikes %v, want %v", cut, when(got), when(want))
		}
	}
}

func TestRules(t *testing.T) {
	if _, err := NewDetector([]Rule{{Topic: "t"}, {Topic: "t"}}); err == nil {
		t.Error("two rules for one topic")
	}
	if _, err := NewDetector([]Rule{{Topic: "t", Threshold: math.NaN()}}); err == nil {
		t.Error("NaN threshold")
	}
	d := detector(t)
	d.Observe(Observation{Topic: "other", ArticleID: "x", At: t0})
	if len(d.topics) != 0 {
		t.Error("kept a topic without a rule")
	}
	d.Observe(Observation{Topic: "t", ArticleID: "x", At: t0})
	if err := d.SetRules(nil); err != nil || len(d.topics) != 0 {
		t.Errorf("state kept for a removed rule: %v", err)
	}
}

// tail is the Poisson upper tail; needed is the least count that fires.
func TestTailAndNeeded(t *testing.T) {
	poissonTail := func(k int, m float64) float64 {
		cdf, p := 0.0, math.Exp(-m)
		for i := range k {
			cdf += p
			p *= m / float64(i+1)
		}
		return 1 - cdf
	}
	for _, m := range []float64{0.5, 1, 2.5, 7, 30} {
		for _, k := range []int{1, 2, 5, 10, 20, 40} {
			want := poissonTail(k, m)
			if got := tail(k, m, 1); math.Abs(got-want) > 1e-9+1e-6*want {
				t.Errorf("tail(%d, %v) = %g, want %g", k, m, got, want)
			}
		}
	}
	if got := tail(300, 200, 1); got > 1e-9 || got <= 0 {
		t.Errorf("tail(300, 200) = %g", got)
	}
	for _, c := range []struct {
		m, d float64
		want int
	}{
		// The least counts that fire against a Poisson baseline: a 5× surge is enough from
		// about three stories per window up; a quiet topic needs seven.
		{0.5, 1, 7}, {1, 1, 9}, {2, 1, 11}, {3, 1, 14}, {4, 1, 16}, {10, 1, 30}, {100, 1, 300},
		// A bursty topic (variance three times the mean) needs more.
		{10, 3, 43},
	} {
		if got := needed(c.m, c.d, DefaultThreshold); got != c.want {
			t.Errorf("needed(%v, %v) = %d, want %d", c.m, c.d, got, c.want)
		}
	}
}

// Copies fold into the story they copy, and the spike's alert lists the stories behind it
// with their copies, its explanation as the summary line.
func TestExplanationAndAlert(t *testing.T) {
	s := newSeries(9, 8)
	surge := t0.Add(10*24*time.Hour + 12*time.Hour)
	obs := s.poisson(t0, surge, 1, flat(1))
	burst := s.burst(surge, 40*time.Minute, 12, "wire", "herald", "courier", "times")
	for i, o := range burst[:3] {
		c := s.story(o.At.Add(time.Minute), fmt.Sprintf("copier-%d", i))
		c.Title = o.Title
		obs = append(obs, c)
	}
	obs = append(obs, burst...)
	d := detector(t)
	spikes := run(d, obs, t0, surge.Add(time.Hour), 5*time.Minute)
	if len(spikes) != 1 {
		t.Fatalf("spikes %v", when(spikes))
	}
	sp := spikes[0]
	copies := 0
	for _, st := range sp.Stories {
		copies += len(st.Copies)
	}
	if copies != 3 || sp.Articles != len(sp.Stories)+3 {
		t.Errorf("%d copies, %d articles for %d stories", copies, sp.Articles, len(sp.Stories))
	}
	a := sp.Alert()
	if a.Kind != "spike" || a.ID != sp.ID || a.Topic != "t" || a.TopicName != "Topic" || !a.FiredAt.Equal(sp.At) ||
		len(a.Articles) != len(sp.Stories) || a.Summary != sp.Summary() {
		t.Errorf("alert %+v", a)
	}
	if x := a.Spike; x == nil || x.Count != sp.Count || x.Articles != sp.Articles || x.Baseline != sp.Baseline ||
		x.Needed != sp.Needed || !x.WindowEnd.Equal(sp.WindowEnd) || len(x.Sources) != len(sp.Sources) ||
		len(x.Terms) == 0 || x.Terms[0].Term != "kursk" || x.Sources[0] != (notify.SourceCount{Source: sp.Sources[0].Source, Count: sp.Sources[0].Count}) {
		t.Errorf("alert's spike explanation %+v, spike %+v", a.Spike, sp)
	}
	if want := fmt.Sprintf("Volume spike: %d stories in 1h from %d sources (usually %.1f, %.1f×); top terms: kursk, ", sp.Count, len(sp.Sources), sp.Baseline, sp.Ratio); len(a.Summary) < len(want) || a.Summary[:len(want)] != want {
		t.Errorf("summary %q", a.Summary)
	}
	if again, fires := d.Explain("t", sp.At); fires || again.ID != sp.ID || again.Count != sp.Count {
		t.Errorf("Explain after firing: fires %v, %+v", fires, again)
	}
}

// Hourly counts stay bounded whatever the dates: a story dated years ahead or back neither
// allocates the years between nor makes them look like a quiet past.
func TestAbsurdDates(t *testing.T) {
	d := detector(t)
	s := newSeries(10, 4)
	d.Observe(s.story(t0, "a"))
	d.Observe(s.story(t0.AddDate(-20, 0, 0), "b"))
	d.Observe(s.story(t0.AddDate(10, 0, 0), "c"))
	d.Observe(s.story(t0.Add(time.Hour), "d"))
	ts := d.topics["t"]
	if int64(len(ts.Counts)) > maxHours || ts.Start != t0.Unix() {
		t.Errorf("%d hourly counts, start %v", len(ts.Counts), time.Unix(ts.Start, 0))
	}
}

// A first start learns from the feeds' backlogs whatever order their items arrive in: feeds
// list their newest items first, so the surge at the top of a feed is observed before the
// weeks of history below it.
func TestBacklogNewestFirst(t *testing.T) {
	s := newSeries(12, 8)
	surge := t0.Add(14 * 24 * time.Hour)
	obs := s.poisson(t0, surge, 4, flat(4))
	obs = append(obs, s.burst(surge, 40*time.Minute, 40, "w1", "w2", "w3", "w4")...)
	slices.Reverse(obs)
	d := detector(t)
	for _, o := range obs {
		d.Observe(o)
	}
	if got := d.Check(surge.Add(40 * time.Minute)); len(got) != 1 {
		t.Fatalf("spikes after a newest-first backlog: %v", when(got))
	}
	if start := d.topics["t"].Start; start != obs[len(obs)-1].At.Unix() {
		t.Errorf("history starts at %v, want the oldest story %v", time.Unix(start, 0), obs[len(obs)-1].At)
	}
}

// Backfilled matches teach a new topic its past, but a changed query re-deriving the articles
// of a topic's live history does not count them twice.
func TestBackfill(t *testing.T) {
	s := newSeries(13, 8)
	now := t0.Add(14 * 24 * time.Hour)
	past := s.poisson(t0, now.Add(-time.Hour), 4, flat(4))
	recent := s.poisson(now.Add(-time.Hour), now, 4, flat(4))
	total := func(d *Detector) int {
		n := 0
		for _, c := range d.topics["t"].Counts {
			n += int(c)
		}
		return n
	}
	// A new topic: the live matches of the last hour, then the backfill of two weeks.
	fresh := detector(t)
	for _, o := range recent {
		fresh.Observe(o)
	}
	for _, o := range past {
		o.Backfill = true
		fresh.Observe(o)
	}
	if n := total(fresh); n != len(past)+len(recent) || fresh.topics["t"].Start != past[0].At.Unix() {
		t.Errorf("a new topic's backfill: %d counted of %d, start %v", n, len(past)+len(recent), time.Unix(fresh.topics["t"].Start, 0))
	}
	// A topic watched for two weeks; time passes (the detector forgets article ids and texts
	// older than 48 h); its query changes and the same articles are re-derived.
	watched := detector(t)
	for _, o := range append(slices.Clone(past), recent...) {
		watched.Observe(o)
	}
	watched.Check(now.Add(time.Hour))
	before := total(watched)
	for _, o := range past {
		o.Backfill = true
		watched.Observe(o)
	}
	if after := total(watched); after != before {
		t.Errorf("re-derived history counted: %d stories, was %d", after, before)
	}
}

// A LearnOnly topic learns its volume but never fires; once a rule replaces it, the history
// learnt meanwhile lets it fire on the next surge at once.
func TestLearnOnly(t *testing.T) {
	s := newSeries(14, 8)
	surge := t0.Add(14 * 24 * time.Hour)
	obs := append(s.poisson(t0, surge, 4, flat(4)), s.burst(surge, 40*time.Minute, 40, "w1", "w2", "w3", "w4")...)
	d := detector(t, Rule{Topic: "t", LearnOnly: true})
	if got := run(d, obs, t0, surge.Add(time.Hour), 5*time.Minute); len(got) != 0 {
		t.Fatalf("a LearnOnly topic fired: %v", when(got))
	}
	if v, _ := d.Explain("t", surge.Add(40*time.Minute)); v.Count < v.Needed || v.Baseline < 3 {
		t.Errorf("Explain of a learnt topic: %+v", v.Spike)
	}
	if err := d.SetRules([]Rule{{Topic: "t"}}); err != nil {
		t.Fatal(err)
	}
	later := surge.Add(12 * time.Hour)
	for _, o := range s.burst(later, 40*time.Minute, 40, "w1", "w2", "w3", "w4") {
		d.Observe(o)
	}
	if got := d.Check(later.Add(40 * time.Minute)); len(got) != 1 {
		t.Errorf("the rule that replaced LearnOnly: spikes %v", when(got))
	}
}
