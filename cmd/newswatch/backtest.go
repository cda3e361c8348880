package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/newswatch/newswatch/alerts"
	"github.com/newswatch/newswatch/alerts/digest"
	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/alerts/spike"
	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/projections/stories"
)

// spikeCheckStep is how often a backtest checks for spikes in simulated time (the daemon
// checks after every poll and every minute; five minutes finds the same spikes, a few
// minutes later at most, at a fifth of the cost).
const spikeCheckStep = 5 * time.Minute

// backtest runs the current alert rules of every kind over stored matches in simulated time:
// the clock is each match's matched_at, so match groups, spike windows and digest schedules
// fall due as they would have. It has its own stories projection, spike detector and digest
// schedulers; nothing is published or delivered.
type backtest struct {
	engine    *alerts.Engine
	stories   *stories.Projection
	det       *spike.Detector
	digests   []alerts.DigestRule
	scheds    []*digest.Scheduler
	silences  *alerts.Silences
	lastCheck time.Time
	fired     []notify.Alert
}

func newBacktest(cfg *config.Config) (*backtest, error) {
	rules, spikeRules, digestRules := rulesFrom(cfg), spikeRulesFrom(cfg), digestRulesFrom(cfg)
	if len(rules)+len(digestRules) == 0 && !slices.ContainsFunc(spikeRules, func(r spike.Rule) bool { return !r.LearnOnly }) {
		return nil, errors.New("no alert rules in the config")
	}
	b := &backtest{stories: stories.New(), digests: digestRules}
	b.silences = alerts.NewSilences(configSilences(cfg), time.Now)
	b.engine = alerts.NewEngine(rules, b.silences)
	b.engine.UseStories(b.stories) // folded before the engine sees each match
	var err error
	if b.det, err = spike.NewDetector(spikeRules); err != nil {
		return nil, err
	}
	for _, r := range digestRules {
		s, err := digest.NewScheduler(r.Schedule, time.Time{})
		if err != nil {
			return nil, fmt.Errorf("topic %s: %w", r.Topic, err)
		}
		b.scheds = append(b.scheds, s)
	}
	return b, nil
}

// advance moves the simulated clock to now: match groups, spike checks and digests that fall
// due on the way fire, in time order per kind.
func (b *backtest) advance(now time.Time) {
	b.fireGroups(now)
	if b.lastCheck.IsZero() {
		b.lastCheck = now.Truncate(spikeCheckStep)
	}
	for t := b.lastCheck.Truncate(spikeCheckStep).Add(spikeCheckStep); !t.After(now); t = t.Add(spikeCheckStep) {
		b.checkSpikes(t)
	}
	for i, r := range b.digests {
		s := b.scheds[i]
		if s.Last().IsZero() {
			s.Due(now) // anchors the chain at the scheduled time before the first match
			continue
		}
		// One digest per scheduled time, as a daemon that never stopped would send them.
		for at := s.Next(s.Last()); !at.IsZero() && !at.After(now); at = s.Next(s.Last()) {
			start, end, ok := s.Due(at)
			if !ok {
				break
			}
			if a, ok := r.Alert(b.stories, start, end, end); ok && !b.silences.Silenced(r.Topic, end) {
				b.fired = append(b.fired, a)
			}
			s.Sent(end)
		}
	}
}

// finish advances to end, checks for spikes at end itself, and fires the match groups still
// waiting.
func (b *backtest) finish(end time.Time) {
	b.advance(end)
	if b.lastCheck.Before(end) {
		b.checkSpikes(end)
	}
	b.fireGroups(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
}

func (b *backtest) checkSpikes(at time.Time) {
	for _, s := range b.det.Check(at) {
		if !b.silences.Silenced(s.Topic, s.At) {
			b.fired = append(b.fired, s.Alert())
		}
	}
	b.lastCheck = at
}

// fireGroups fires the match groups due by now.
func (b *backtest) fireGroups(now time.Time) {
	for next := b.engine.NextDue(); !next.IsZero() && !next.After(now); next = b.engine.NextDue() {
		for _, f := range b.engine.Due(next) {
			b.engine.Fired(f.Alert, f.LastSeq)
			b.fired = append(b.fired, f.Alert)
		}
	}
}

// observe folds one stored match in at its matched time.
func (b *backtest) observe(e events.Event) {
	m, err := events.ParseMatch(e.Data)
	if err != nil {
		return
	}
	b.advance(m.MatchedAt)
	_ = b.stories.Apply(e.Data, e.Seq)
	b.det.Observe(spike.ObservationOf(m))
	m.Backfill = false // a backtest asks what the rules would have done with every match
	b.engine.Observe(m, e.Seq, m.MatchedAt)
}

// backtestAlerts runs the current alert rules over stored matches in simulated time and prints
// what they would have fired; nothing is published or delivered.
func backtestAlerts(ctx context.Context, conn *events.Conn, cfg *config.Config, r events.Range,
	progress events.Progress, w io.Writer, asJSON bool) (events.ReplayStats, error) {
	b, err := newBacktest(cfg)
	if err != nil {
		return events.ReplayStats{}, err
	}
	var last time.Time
	st, err := conn.Replay(ctx, events.MatchStream, []string{events.MatchSubjectPrefix + "*"}, r, progress,
		func(e events.Event) (bool, error) {
			b.observe(e)
			last = e.Stored
			return true, nil
		})
	if err != nil {
		return st, err
	}
	// The range ends at --to, or now: digests due by then are sent, groups still waiting fire.
	end := cmp.Or(r.ToTime, time.Now())
	if !last.IsZero() && end.Before(last) {
		end = last
	}
	b.finish(end)

	printBacktest(w, b.fired, asJSON)
	return st, nil
}

func printBacktest(w io.Writer, fired []notify.Alert, asJSON bool) {
	slices.SortStableFunc(fired, func(a, b notify.Alert) int { return a.FiredAt.Compare(b.FiredAt) })
	perDay, perKind := map[string]int{}, map[string]int{}
	for _, a := range fired {
		perDay[a.FiredAt.UTC().Format(time.DateOnly)]++
		perKind[a.Kind]++
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		if fired == nil {
			fired = []notify.Alert{}
		}
		_ = enc.Encode(map[string]any{"total": len(fired), "per_day": perDay, "per_kind": perKind, "alerts": fired})
		return
	}
	days := make([]string, 0, len(perDay))
	for d := range perDay {
		days = append(days, d)
	}
	slices.Sort(days)
	fmt.Fprintf(w, "%d alerts would have fired (%d match, %d spike, %d digest)\n", len(fired),
		perKind[notify.KindMatch], perKind[notify.KindSpike], perKind[notify.KindDigest])
	for _, d := range days {
		fmt.Fprintf(w, "  %s  %d\n", d, perDay[d])
	}
	for _, a := range fired {
		fmt.Fprintf(w, "%s  %s  %-6s  %s\n", a.FiredAt.UTC().Format(time.DateTime), a.Topic, a.Kind, a.Summary)
	}
}
