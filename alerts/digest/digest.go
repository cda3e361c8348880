package digest

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/projections/stories"
)

// DefaultTop is how many stories a digest lists.
const DefaultTop = 10

// Digest is the top stories of a topic over a period [Since, Until).
type Digest struct {
	// ID is derived from the topic and the period: a digest sent again after a crash has the
	// same id, and JetStream or the receiver's Idempotency-Key drops the repeat.
	ID    string    `json:"id"`
	Topic string    `json:"topic"`
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Stories are the top stories, most outlets first.
	Stories []Entry `json:"stories"`
	// TotalStories and TotalArticles count every story and article of the period, Outlets
	// the distinct sources among them.
	TotalStories  int `json:"total_stories"`
	TotalArticles int `json:"total_articles"`
	Outlets       int `json:"outlets"`
}

// Entry is one story in a digest, counted over the digest's period.
type Entry struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// FirstSeen is the story's first report; New says whether it falls in the period (an
	// older story that more outlets took up in the period is not new).
	FirstSeen   time.Time         `json:"first_seen"`
	New         bool              `json:"new"`
	FirstReport stories.Article   `json:"first_report"`
	Articles    int               `json:"articles"`
	Outlets     int               `json:"outlets"`
	Sources     []string          `json:"sources"`
	Others      []stories.Article `json:"others,omitempty"` // each other outlet's first article in the period
}

// Empty reports whether the period had no stories: such a digest is skipped unless the
// rule says send_empty.
func (d Digest) Empty() bool { return d.TotalStories == 0 }

// Build returns the digest of a topic's stories over [since, until), listing the top ones
// (top ≤ 0: DefaultTop). An article is in the period when newswatch first saw it in the
// period (its arrival, not its publication time: an article published at 07:58 and polled at
// 08:03 is in the digest of the period that began at 08:00, not lost between two; an old
// item that newswatch sees for the first time, in a new feed's backlog or after a downtime,
// is news to the reader too). A story is in the period when one of its articles is; its
// counts are those of its articles in the period. Stories are ranked by outlets, then
// articles in the period, then the newest first report.
//
// The stories projection keeps a story for stories.DefaultRetention after its last article
// and lists a story's first stories.MaxArticlesListed articles: a period longer than the
// retention (a daemon down for weeks), or a story with more articles, is counted from what
// the projection still holds.
func Build(topic string, list []stories.Story, since, until time.Time, top int) Digest {
	if top <= 0 {
		top = DefaultTop
	}
	d := Digest{Topic: topic, Since: since.UTC(), Until: until.UTC(), Stories: []Entry{}}
	in := func(a stories.Article) bool {
		at := arrival(a)
		return !at.Before(since) && at.Before(until)
	}
	outlets := map[string]bool{}
	var entries []Entry
	for _, s := range list {
		e := Entry{ID: s.ID, Title: s.Title, FirstSeen: s.FirstSeen, FirstReport: s.FirstReport}
		e.New = in(s.FirstReport)
		for _, a := range s.Articles {
			if !in(a) {
				continue
			}
			e.Articles++
			if !slices.Contains(e.Sources, a.Source) {
				e.Sources = append(e.Sources, a.Source)
				if a.ID != s.FirstReport.ID {
					e.Others = append(e.Others, a)
				}
			}
			outlets[a.Source] = true
		}
		if e.Articles == 0 {
			continue
		}
		e.Outlets = len(e.Sources)
		d.TotalArticles += e.Articles
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(b.Outlets, a.Outlets), cmp.Compare(b.Articles, a.Articles),
			b.FirstSeen.Compare(a.FirstSeen), cmp.Compare(a.ID, b.ID))
	})
	d.TotalStories, d.Outlets = len(entries), len(outlets)
	d.ID = digestID(topic, since, until, entries)
	d.Stories = append(d.Stories, entries[:min(top, len(entries))]...)
	return d
}

// arrival is when newswatch first saw an article (its event time for articles folded before
// the stories projection recorded arrivals).
func arrival(a stories.Article) time.Time {
	if a.FirstSeenAt.IsZero() {
		return a.PublishedAt
	}
	return a.FirstSeenAt
}

// digestID is derived from the topic, the period and the first reports of all its stories
// (listed or not, so that top does not change it): the same digest sent again after a crash
// keeps its id, and two stores (staging and production) with different stories in the same
// period do not share one.
func digestID(topic string, since, until time.Time, entries []Entry) string {
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.FirstReport.ID
	}
	slices.Sort(ids)
	h := sha256.New()
	h.Write([]byte(topic + "\x00digest\x00" + strconv.FormatInt(since.Unix(), 10) + "\x00" + strconv.FormatInt(until.Unix(), 10)))
	for _, id := range ids {
		h.Write([]byte("\x00" + id))
	}
	return "digest-" + hex.EncodeToString(h.Sum(nil)[:12])
}

// Summary is the digest in one line, such as "Digest for DPRK–Russia, 24 Nov 08:00 – 25 Nov
// 08:00 UTC: 12 stories from 9 outlets".
func (d Digest) Summary(topicName string) string {
	name := cmp.Or(topicName, d.Topic)
	period := d.Since.Format("2 Jan 15:04") + " – " + d.Until.Format("2 Jan 15:04 MST")
	if d.Empty() {
		return fmt.Sprintf("Digest for %s, %s: no new stories", name, period)
	}
	s := fmt.Sprintf("Digest for %s, %s: %d %s from %d %s", name, period,
		d.TotalStories, plural(d.TotalStories, "story", "stories"), d.Outlets, plural(d.Outlets, "outlet", "outlets"))
	if d.TotalStories > len(d.Stories) {
		s += fmt.Sprintf(" (top %d)", len(d.Stories))
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Alert returns the digest as an alert (PRODUCT §5), fired at now: kind digest, one
// article per story (its first report, the other outlets as copies), the period and totals
// as its digest details; schedule names the rule.
func (d Digest) Alert(topicName, schedule string, now time.Time) notify.Alert {
	a := notify.Alert{
		ID: d.ID, Topic: d.Topic, TopicName: topicName, Kind: notify.KindDigest, FiredAt: now.UTC(),
		Summary: d.Summary(topicName), Articles: make([]notify.Article, 0, len(d.Stories)),
		Digest: &notify.Digest{
			Since: d.Since, Until: d.Until, Schedule: schedule,
			TotalStories: d.TotalStories, TotalArticles: d.TotalArticles, Outlets: d.Outlets,
		},
	}
	for _, e := range d.Stories {
		art := notify.Article{
			ID: e.FirstReport.ID, URL: e.FirstReport.URL, Title: e.Title, Source: e.FirstReport.Source,
			PublishedAt: e.FirstReport.PublishedAt, FirstSeenAt: arrival(e.FirstReport), Story: e.ID,
			Outlets: e.Outlets, StoryArticles: e.Articles,
		}
		for _, o := range e.Others {
			art.Copies = append(art.Copies, notify.Copy{ID: o.ID, URL: o.URL, Source: o.Source, PublishedAt: o.PublishedAt})
		}
		a.Articles = append(a.Articles, art)
	}
	return a
}
