package spike

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/projections/stories"
)

// topicState is what the detector knows of one topic. Its fields are its snapshot.
type topicState struct {
	// Start is the event time of the oldest story counted (unix seconds): the baseline only
	// uses windows after it. It does not depend on the order stories arrive in (a feed lists
	// its newest items first, and its backlog is history all the same); stories older than
	// the hourly counts reach (an item dated years back) are not counted and do not move it,
	// so they cannot make the years between look like a quiet past.
	Start int64 `json:"start"`
	// LiveStart is the event time of the oldest story counted from a live match: backfilled
	// matches (a replay) count only before it (see Observation.Backfill).
	LiveStart int64 `json:"live_start,omitempty"`
	// Base is the hour (unix seconds / 3600) of Counts[0]; Counts are stories per hour.
	Base   int64   `json:"base"`
	Counts []int32 `json:"counts"`
	// Stories are those of the last CopyWindow (or rule window, if longer), by time.
	Stories []unit `json:"stories"`
	// Seen maps the article ids of the same period, copies included, to their event time.
	Seen      map[string]int64 `json:"seen"`
	LastFired int64            `json:"last_fired,omitempty"`
	// Pruned is when prune last ran (unix seconds).
	Pruned int64 `json:"pruned,omitempty"`
}

// unit is one story the detector counted.
type unit struct {
	ID     string `json:"id"`
	At     int64  `json:"at"`
	Source string `json:"source"`
	// Sig is the story model's copy signature of the text (stories.Signature); states saved
	// before it have fp instead, which is ignored: such a story has no copies any more.
	Sig    []uint64 `json:"sig,omitempty"`
	URL    string   `json:"url,omitempty"`
	Title  string   `json:"title,omitempty"`
	Terms  []string `json:"terms,omitempty"`
	Copies []Copy   `json:"copies,omitempty"`
}

func newTopicState() *topicState { return &topicState{Seen: map[string]int64{}} }

const hour = int64(time.Hour / time.Second)

// pruneEvery spreads the cost of pruning over checks: what it removes is at least a copy
// window old, so a quarter of an hour more changes nothing a check sees.
const pruneEvery = 15 * 60

func (t *topicState) observe(o Observation) {
	if _, dup := t.Seen[o.ArticleID]; dup {
		return
	}
	at := o.At.Unix()
	if o.Backfill && t.LiveStart != 0 && at >= t.LiveStart {
		return
	}
	t.Seen[o.ArticleID] = at
	sig := stories.SignatureOf(o.Title, o.Summary)
	if sig != nil {
		for i := range t.Stories {
			u := &t.Stories[i]
			if abs(u.At-at) <= int64(CopyWindow/time.Second) && sig.Copies(u.Sig) {
				if len(u.Copies) < maxListed {
					u.Copies = append(u.Copies, Copy{ArticleID: o.ArticleID, URL: o.URL, Source: o.Source, At: o.At.UTC()})
				}
				return
			}
		}
	}
	u := unit{ID: o.ArticleID, At: at, Source: o.Source, Sig: sig, URL: o.URL, Title: o.Title}
	for _, term := range o.Terms {
		if !slices.Contains(u.Terms, term) {
			u.Terms = append(u.Terms, term)
		}
	}
	i, _ := slices.BinarySearchFunc(t.Stories, at, func(u unit, at int64) int { return cmp.Compare(u.At, at) })
	t.Stories = slices.Insert(t.Stories, i, u)
	if t.count(at) {
		if t.Start == 0 || at < t.Start {
			t.Start = at
		}
		if !o.Backfill && (t.LiveStart == 0 || at < t.LiveStart) {
			t.LiveStart = at
		}
	}
}

// maxHours bounds the hourly counts: four weeks of history, a week of window, a day.
const maxHours = int64((History + 8*24*time.Hour) / time.Hour)

// count adds a story to its hour; false when it is older than the counts reach.
func (t *topicState) count(at int64) bool {
	h := floorDiv(at, hour)
	switch {
	case len(t.Counts) == 0:
		t.Base, t.Counts = h, []int32{0}
	case h < t.Base:
		if t.Base+int64(len(t.Counts))-h > maxHours {
			return false // older than any baseline looks
		}
		t.Counts = append(make([]int32, t.Base-h), t.Counts...)
		t.Base = h
	case h-t.Base >= maxHours:
		// A jump forward: what falls out of reach goes.
		drop := min(h-maxHours+1-t.Base, int64(len(t.Counts)))
		t.Counts, t.Base = t.Counts[drop:], t.Base+drop
		if len(t.Counts) == 0 {
			t.Base = h
		}
	}
	for h >= t.Base+int64(len(t.Counts)) {
		t.Counts = append(t.Counts, 0)
	}
	t.Counts[h-t.Base]++
	return true
}

// prune forgets what no check at now or later needs: stories and article ids older than the
// copy window and the rule window, the text of stories older than the rule window, and
// hourly counts older than the baseline's reach.
func (t *topicState) prune(now time.Time, window time.Duration) {
	if now.Unix()-t.Pruned < pruneEvery {
		return
	}
	t.Pruned = now.Unix()
	keep := now.Add(-max(CopyWindow, window)).Unix()
	i := 0
	for i < len(t.Stories) && t.Stories[i].At < keep {
		i++
	}
	t.Stories = slices.Delete(t.Stories, 0, i)
	// Only the window's stories are explained; older ones are kept to recognise copies.
	explained := now.Add(-window).Unix()
	for j := range t.Stories {
		if u := &t.Stories[j]; u.At < explained {
			u.URL, u.Title, u.Terms, u.Copies = "", "", nil, nil
		}
	}
	for id, at := range t.Seen {
		if at < keep {
			delete(t.Seen, id)
		}
	}
	oldest := floorDiv(now.Add(-History-window-24*time.Hour).Unix(), hour)
	if n := oldest - t.Base; n > 0 {
		t.Counts = t.Counts[min(int(n), len(t.Counts)):]
		t.Base = oldest
	}
}

// counted returns the stories counted in a window [s, e) from the hourly counts, taking the
// part of each hour that the window covers.
func (t *topicState) counted(s, e int64) float64 {
	var n float64
	for h := floorDiv(s, hour); h*hour < e; h++ {
		i := h - t.Base
		if i < 0 || i >= int64(len(t.Counts)) {
			continue
		}
		overlap := min(e, (h+1)*hour) - max(s, h*hour)
		n += float64(t.Counts[i]) * float64(overlap) / float64(hour)
	}
	return n
}

// evaluate says whether the topic's window ending at now fires, and explains it when it
// does or when always is set.
func (t *topicState) evaluate(r Rule, now time.Time, always bool) (Spike, bool) {
	r = r.withDefaults()
	end, start := now.Unix(), now.Add(-r.Window).Unix()
	s := Spike{Topic: r.Topic, TopicName: r.TopicName, At: now.UTC(),
		Spike: notify.Spike{WindowStart: time.Unix(start, 0).UTC(), WindowEnd: time.Unix(end, 0).UTC()}}
	from, _ := slices.BinarySearchFunc(t.Stories, start+1, func(u unit, at int64) int { return cmp.Compare(u.At, at) })
	to, _ := slices.BinarySearchFunc(t.Stories, end+1, func(u unit, at int64) int { return cmp.Compare(u.At, at) })
	in := t.Stories[from:to]
	if len(in) == 0 && !always {
		return s, false
	}
	if len(in) < r.MinSources && !always {
		return s, false // cannot come from enough sources
	}
	b := t.baseline(r, now)
	s.Baseline = max(b.mean, MinBaseline)
	s.Needed = needed(s.Baseline, b.dispersion, r.Threshold)
	// No source counts for more than its share of the least count that fires.
	capped := (s.Needed + r.MinSources - 1) / r.MinSources
	perSource := map[string]int{}
	for _, u := range in {
		perSource[u.Source]++
	}
	for _, n := range perSource {
		s.Count += min(n, capped)
	}
	s.Ratio = float64(s.Count) / s.Baseline
	fires := b.samples >= minSamples && now.Unix()-t.Start >= int64(DefaultMinHistory/time.Second) &&
		len(perSource) >= r.MinSources && s.Count >= s.Needed &&
		(t.LastFired == 0 || now.Unix()-t.LastFired >= int64(r.Cooldown/time.Second))
	if (fires || always) && len(in) > 0 {
		s.PValue = tail(s.Count, s.Baseline, b.dispersion)
		explain(&s, in)
	}
	return s, fires
}

// explain fills in the stories, sources, terms and id of a spike from its window's stories.
func explain(s *Spike, in []unit) {
	sources, terms := map[string]int{}, map[string]int{}
	newest := in[len(in)-1]
	for _, u := range slices.Backward(in) {
		s.Articles += 1 + len(u.Copies)
		sources[u.Source]++
		for _, c := range u.Copies {
			sources[c.Source]++
		}
		for _, term := range u.Terms {
			terms[term]++
		}
		if len(s.Stories) < maxListed {
			s.Stories = append(s.Stories, Story{
				ArticleID: u.ID, URL: u.URL, Title: u.Title, Source: u.Source, At: time.Unix(u.At, 0).UTC(),
				Terms: slices.Clone(u.Terms), Copies: slices.Clone(u.Copies),
			})
		}
	}
	s.ID = spikeID(s.Topic, newest.ID)
	for src, n := range sources {
		s.Sources = append(s.Sources, SourceCount{Source: src, Count: n})
	}
	slices.SortFunc(s.Sources, func(a, b SourceCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Source, b.Source))
	})
	s.Sources = s.Sources[:min(len(s.Sources), maxListed)]
	for term, n := range terms {
		s.Terms = append(s.Terms, TermCount{Term: term, Count: n})
	}
	slices.SortFunc(s.Terms, func(a, b TermCount) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Term, b.Term)) })
	s.Terms = s.Terms[:min(len(s.Terms), maxTerms)]
}

// Snapshot returns the detector's state. Rules are not part of it: they come from the
// configuration.
func (d *Detector) Snapshot() ([]byte, error) {
	return json.Marshal(snapshot{Version: snapshotVersion, Topics: d.topics})
}

// Restore replaces the detector's state with a snapshot; topics without a rule are dropped.
func (d *Detector) Restore(data []byte) error {
	var s snapshot
	if len(data) > 0 {
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("restore spike state: %w", err)
		}
		if s.Version != snapshotVersion {
			return fmt.Errorf("restore spike state: %w %d", ErrSnapshotVersion, s.Version)
		}
	}
	topics := map[string]*topicState{}
	for id, t := range s.Topics {
		if _, ok := d.rules[id]; !ok || t == nil {
			continue
		}
		if t.Seen == nil {
			t.Seen = map[string]int64{}
		}
		topics[id] = t
	}
	d.topics = topics
	return nil
}

const snapshotVersion = 1

// ErrSnapshotVersion is returned by Restore for a snapshot this build cannot read.
var ErrSnapshotVersion = errors.New("spike: unknown snapshot version")

type snapshot struct {
	Version int                    `json:"version"`
	Topics  map[string]*topicState `json:"topics"`
}

func abs(x int64) int64 { return max(x, -x) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
