package feeds

import (
	"context"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// scheduling is what a running Poller needs to schedule a feed added after Run started.
type scheduling struct {
	cron            *cron.Cron
	runCtx, pollCtx context.Context
}

// newRunner parses a feed's schedule and gives it its jitter.
func (p *Poller) newRunner(f Feed) (*feedRunner, error) {
	sched, err := cron.ParseStandard(f.Schedule)
	if err != nil {
		return nil, fmt.Errorf("feed %s: schedule %q: %w", f.ID, f.Schedule, err)
	}
	r := &feedRunner{state: feedState{Feed: f}, schedule: sched, jitter: jitterFor(f.ID, sched, p.maxJitter, p.now())}
	r.paused.Store(f.Paused)
	r.timer = time.AfterFunc(time.Hour, func() { p.due.push(r) })
	r.timer.Stop()
	return r, nil
}

// schedule adds a feed's cron entry and polls it once now (after its jitter). The caller holds
// p.mu and p.sched is set.
func (p *Poller) schedule(r *feedRunner) {
	s := p.sched
	start := func() { p.fire(s.runCtx, r) }
	r.entry = s.cron.Schedule(r.schedule, cron.FuncJob(start))
	start()
}

// runner returns the feed's runner.
func (p *Poller) runner(id string) (*feedRunner, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.feeds[id]
	return r, ok
}

// Feeds returns the feeds the poller polls, in order, with their paused flags.
func (p *Poller) Feeds() []Feed {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Feed, 0, len(p.order))
	for _, id := range p.order {
		r := p.feeds[id]
		f := r.state.Feed
		f.Paused = r.paused.Load()
		out = append(out, f)
	}
	return out
}

// SetFeeds replaces the set of polled feeds while the poller runs: feeds that are gone stop
// being scheduled (a poll in flight finishes), new feeds start with the state of their last poll
// event and are polled at once, a feed whose URL or schedule changed starts afresh the same way,
// and a change of only the paused flag keeps everything else. Nothing changes when a schedule
// does not parse.
func (p *Poller) SetFeeds(ctx context.Context, list []Feed) error {
	fresh := map[string]*feedRunner{}
	seen := map[string]bool{}
	p.mu.Lock()
	current := p.feeds
	p.mu.Unlock()
	for _, f := range list {
		if seen[f.ID] {
			return fmt.Errorf("feed %s: listed twice", f.ID)
		}
		seen[f.ID] = true
		if r, ok := current[f.ID]; ok && r.state.URL == f.URL && r.state.Schedule == f.Schedule {
			continue
		}
		r, err := p.newRunner(f)
		if err != nil {
			return err
		}
		if err := p.restoreRunner(ctx, r); err != nil {
			return err
		}
		fresh[f.ID] = r
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	next := make(map[string]*feedRunner, len(list))
	order := make([]string, 0, len(list))
	for _, f := range list {
		r, ok := fresh[f.ID]
		if !ok {
			r, ok = p.feeds[f.ID]
		}
		if !ok { // removed and re-added by a concurrent call: take it as new
			var err error
			if r, err = p.newRunner(f); err != nil {
				return err
			}
			fresh[f.ID] = r
		}
		r.paused.Store(f.Paused)
		next[f.ID] = r
		order = append(order, f.ID)
	}
	for id, old := range p.feeds {
		if next[id] == old {
			continue
		}
		if p.sched != nil {
			p.sched.cron.Remove(old.entry)
		}
		if old.timer.Stop() {
			p.endScheduled(old) // its poll was still waiting out its jitter
		}
		if nr, kept := next[id]; !kept {
			p.m.forget(id)
		} else {
			nr.pushedUntil.Store(old.pushedUntil.Load()) // the subscription follows the feed
		}
	}
	for id, r := range fresh {
		p.m.init(id)
		if p.sched != nil {
			p.schedule(r)
		}
	}
	p.feeds, p.order = next, order
	return nil
}

// forget drops a removed feed from the health table, so its per-feed series (exported only
// while it needs attention) and its count in newswatch_feeds go with it.
func (m *metrics) forget(feedID string) { m.health.remove(feedID) }

// CheckFeeds reports the first feed whose schedule does not parse or whose id repeats, as
// SetFeeds would, without changing anything.
func CheckFeeds(list []Feed) error {
	seen := make(map[string]bool, len(list))
	for _, f := range list {
		if seen[f.ID] {
			return fmt.Errorf("feed %s: listed twice", f.ID)
		}
		seen[f.ID] = true
		if _, err := cron.ParseStandard(f.Schedule); err != nil {
			return fmt.Errorf("feed %s: schedule %q: %w", f.ID, f.Schedule, err)
		}
	}
	return nil
}
