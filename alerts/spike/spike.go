// Package spike detects volume spikes for kind: spike rules: a topic suddenly matching many
// more stories than it usually does at this hour of this day of the week, from several
// sources. It is pure: it is fed matches with their event times and asked, at a time the
// caller chooses, which topics are spiking; its state can be snapshotted and restored, so
// neither a restart nor a replay forgets the baseline or fires twice.
//
// What counts is stories, not articles: an article that is a copy of one counted in the
// last two days (the same article under another query version, or a near-identical title
// and summary, alerts/story) adds nothing, so twenty outlets carrying one wire story are one.
// A spike fires for a topic when, over the rule's window ending now:
//
//   - the count is at least threshold times the baseline, the number of stories expected in
//     such a window at this hour and weekday (see baseline.go);
//   - the count is significant: a count at least this large has probability at most Alpha
//     under the baseline's own variability (quasi-Poisson), so a quiet topic does not fire on
//     noise;
//   - it is spread over at least min_sources sources: no source counts for more than
//     1/min_sources of the least count that would fire, so one feed publishing a burst
//     never makes a spike alone;
//   - the topic has DefaultMinHistory of history, and its cooldown has passed since its last
//     spike.
//
// docs/stories-spikes-digests.md has the reasoning, the parameters and the tests' results.
package spike

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/newswatch/newswatch/alerts/notify"
)

// Defaults for spike rules (PRODUCT §3 keys window, threshold, min_sources, cooldown).
const (
	DefaultWindow     = time.Hour
	DefaultThreshold  = 3.0
	DefaultMinSources = 3
	DefaultCooldown   = 6 * time.Hour
	// Alpha is the largest probability, under the baseline, of a count at least as large as a
	// spike's. With checks every few minutes a month holds thousands of overlapping windows;
	// 1e-5 keeps noise alerts on a steady topic to about one in seven years with checks every
	// five minutes (TestFlatMonths with NEWSWATCH_SPIKE_SEEDS). Smaller would miss 5× surges
	// of topics with a few stories a window; larger would alert on noise more often.
	Alpha = 1e-5
	// MinBaseline is the least baseline of a window: a topic that is usually silent needs
	// several stories from several sources to spike, not one.
	MinBaseline = 0.5
	// DefaultMinHistory is how much history a topic needs before it can spike: three days
	// give the baseline three samples of the same hour.
	DefaultMinHistory = 3 * 24 * time.Hour
	// CopyWindow is how long a story is remembered to recognise its copies.
	CopyWindow = 48 * time.Hour
	// History is how long hourly counts are kept: four weeks, for the weekly samples.
	History = 28 * 24 * time.Hour
	// maxListed caps the stories, sources and terms a spike lists.
	maxListed = 50
	maxTerms  = 10
)

// Rule is a spike rule for one topic. Zero values take the defaults.
type Rule struct {
	Topic, TopicName string
	Window           time.Duration
	Threshold        float64
	MinSources       int
	Cooldown         time.Duration
	// Location is the time zone whose clock the baseline follows ("every morning" is a
	// local morning, also across daylight saving changes); nil is UTC.
	Location *time.Location
	// LearnOnly learns the topic's volume without ever firing: a topic without a spike rule
	// has a baseline as soon as one is added, and Explain shows its volume meanwhile.
	LearnOnly bool
}

// ErrRule reports an invalid rule.
var ErrRule = errors.New("spike: invalid rule")

func (r Rule) withDefaults() Rule {
	r.Window = cmp.Or(r.Window, DefaultWindow)
	r.Threshold = cmp.Or(r.Threshold, DefaultThreshold)
	r.MinSources = cmp.Or(r.MinSources, DefaultMinSources)
	r.Cooldown = cmp.Or(r.Cooldown, DefaultCooldown)
	if r.Location == nil {
		r.Location = time.UTC
	}
	return r
}

func (r Rule) validate() error {
	var errs []error
	if r.Topic == "" {
		errs = append(errs, fmt.Errorf("%w: no topic", ErrRule))
	}
	if r.Window < 0 || r.Window > 7*24*time.Hour {
		errs = append(errs, fmt.Errorf("%w: topic %s: window %v is not between 0 and 168h", ErrRule, r.Topic, r.Window))
	}
	if r.Threshold < 0 || math.IsNaN(r.Threshold) || math.IsInf(r.Threshold, 0) {
		errs = append(errs, fmt.Errorf("%w: topic %s: threshold %v is not a finite number ≥ 0", ErrRule, r.Topic, r.Threshold))
	}
	if r.MinSources < 0 || r.Cooldown < 0 {
		errs = append(errs, fmt.Errorf("%w: topic %s: min_sources and cooldown must not be negative", ErrRule, r.Topic))
	}
	return errors.Join(errs...)
}

// Observation is one match of a topic, as the detector needs it.
type Observation struct {
	Topic     string
	ArticleID string
	Source    string
	// At is the article's event time: its publication time, never later than when it was
	// first seen.
	At time.Time
	// Terms are the query terms that matched, for the spike's explanation.
	Terms []string
	// Title and Summary tell copies of a story apart (alerts/story); URL and Title explain
	// the spike. All optional: without title and summary, only repeats of the same article
	// id are copies.
	Title, Summary, URL string
	// Backfill marks a match derived by a replay. It extends a topic's history backwards,
	// before its oldest live match (a new topic learns its past), but is not counted within
	// the live history: there it is a changed query re-deriving articles already counted.
	Backfill bool
}

// Detector holds the spike state of every topic with a spike rule. It is not safe for
// concurrent use.
type Detector struct {
	rules  map[string]Rule
	topics map[string]*topicState
}

// NewDetector returns a detector for the rules, one per topic.
func NewDetector(rules []Rule) (*Detector, error) {
	d := &Detector{topics: map[string]*topicState{}}
	if err := d.SetRules(rules); err != nil {
		return nil, err
	}
	return d, nil
}

// SetRules replaces the rules, keeping the state of the topics that still have one. Two
// rules for one topic are an error.
func (d *Detector) SetRules(rules []Rule) error {
	next := make(map[string]Rule, len(rules))
	var errs []error
	for _, r := range rules {
		if err := r.validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := next[r.Topic]; dup {
			errs = append(errs, fmt.Errorf("%w: topic %s has two spike rules", ErrRule, r.Topic))
			continue
		}
		next[r.Topic] = r.withDefaults()
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	d.rules = next
	for id := range d.topics {
		if _, ok := next[id]; !ok {
			delete(d.topics, id)
		}
	}
	return nil
}

// Observe folds one match in. Matches of topics without a spike rule, and matches without
// a time, are ignored.
func (d *Detector) Observe(o Observation) {
	if _, ok := d.rules[o.Topic]; !ok || o.At.IsZero() {
		return
	}
	t := d.topics[o.Topic]
	if t == nil {
		t = newTopicState()
		d.topics[o.Topic] = t
	}
	t.observe(o)
}

// Spike is a topic's volume spike, with what explains it.
type Spike struct {
	// ID is derived from the topic and the newest story of the window, so the same spike
	// found again after a restart has the same id.
	ID        string    `json:"id"`
	Topic     string    `json:"topic"`
	TopicName string    `json:"topic_name,omitempty"`
	At        time.Time `json:"at"`
	// Spike holds the numbers of the alert's explanation: the window (WindowStart, WindowEnd];
	// Count, the stories counted in it, each source's share capped (see the package
	// documentation), with Articles counting them with their copies; Baseline, the stories
	// expected in the window (at least MinBaseline), and Ratio = Count/Baseline; PValue, the
	// probability under the baseline of a count at least Count; Needed, the least count that
	// would have fired; the sources (copies included) and matched terms by stories.
	notify.Spike
	// Stories lists the window's stories, newest first.
	Stories []Story `json:"stories"`
}

// SourceCount is how many of a spike's stories (copies included) a source carried.
type SourceCount = notify.SourceCount

// TermCount is how many of a spike's stories matched a query term.
type TermCount = notify.TermCount

// Story is one story behind a spike: its first article in the detector's memory, and the
// copies of it seen in the window.
type Story struct {
	ArticleID string    `json:"article_id"`
	URL       string    `json:"url,omitempty"`
	Title     string    `json:"title,omitempty"`
	Source    string    `json:"source"`
	At        time.Time `json:"at"`
	Terms     []string  `json:"terms,omitempty"`
	Copies    []Copy    `json:"copies,omitempty"`
}

// Copy is another article of a story.
type Copy struct {
	ArticleID string    `json:"article_id"`
	URL       string    `json:"url,omitempty"`
	Source    string    `json:"source"`
	At        time.Time `json:"at"`
}

// Check returns the spikes of every topic at now, sorted by topic, and starts their
// cooldowns. Call it after observing, as often as alerts should be timely (every minute,
// or after every match).
func (d *Detector) Check(now time.Time) []Spike {
	ids := make([]string, 0, len(d.topics))
	for id := range d.topics {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []Spike
	for _, id := range ids {
		t, r := d.topics[id], d.rules[id]
		t.prune(now, r.Window)
		if r.LearnOnly {
			continue
		}
		if s, ok := t.evaluate(r, now, false); ok {
			t.LastFired = now.Unix()
			out = append(out, s)
		}
	}
	return out
}

// Fired records a spike of a topic published at at (read back from the alert stream after a
// restart): its cooldown runs from there, whatever the snapshot restored says.
func (d *Detector) Fired(topic string, at time.Time) {
	if _, ok := d.rules[topic]; !ok || at.IsZero() {
		return
	}
	t := d.topics[topic]
	if t == nil {
		t = newTopicState()
		d.topics[topic] = t
	}
	t.LastFired = max(t.LastFired, at.Unix())
}

// Explain returns what Check would say of a topic at now, whether or not it would fire and
// without starting a cooldown: for dashboards and tests.
func (d *Detector) Explain(topic string, now time.Time) (s Spike, fires bool) {
	t, r := d.topics[topic], d.rules[topic]
	if t == nil {
		w := r.withDefaults().Window
		return Spike{Topic: topic, TopicName: r.TopicName, At: now.UTC(),
			Spike: notify.Spike{WindowStart: now.Add(-w).UTC(), WindowEnd: now.UTC()}}, false
	}
	return t.evaluate(r, now, true)
}

func spikeID(topic, articleID string) string {
	sum := sha256.Sum256([]byte(topic + "\x00spike\x00" + articleID))
	return "spike-" + hex.EncodeToString(sum[:12])
}
