package feeds

import (
	"context"
	"time"

	"github.com/robfig/cron/v3"
)

// OwnsFunc says whether this instance polls a feed in a scheduled slot; with several
// instances (cluster mode) exactly one of them gets true per slot. Nil polls every slot.
type OwnsFunc func(ctx context.Context, feed string, slot time.Time) bool

// slotOf is the scheduled slot a poll starting at now belongs to, the same on every
// instance: the latest time of the schedule not after now; for "@every d" schedules, which
// cron counts from each process's start, now truncated to a multiple of d.
func slotOf(s cron.Schedule, now time.Time) time.Time {
	if d, ok := s.(cron.ConstantDelaySchedule); ok {
		return now.Truncate(d.Delay)
	}
	for back := time.Minute; back <= 800*24*time.Hour; back *= 2 {
		t := s.Next(now.Add(-back))
		if t.IsZero() || t.After(now) {
			continue
		}
		for n := s.Next(t); !n.IsZero() && !n.After(now); n = s.Next(n) {
			t = n
		}
		return t
	}
	return now.Truncate(time.Minute)
}

// mayPoll asks the ownership predicate about the feed's slot. A feed that comes from another
// instance first takes over that instance's state from its last poll event (validators,
// failures, Retry-After), so backoff and politeness follow the feed, not the instance.
func (p *Poller) mayPoll(ctx context.Context, r *feedRunner, slot time.Time) bool {
	if p.owns == nil {
		return true
	}
	if !p.owns(ctx, r.state.ID, slot) {
		// Another instance polls it: this one neither counts it in newswatch_feeds nor exports
		// its per-feed series, which would otherwise go stale here while the feed is healthy.
		r.owned = false
		p.m.health.remove(r.state.ID)
		return false
	}
	if !r.owned {
		p.m.health.add(r.state.ID)
		last, err := p.store.LastPoll(ctx, r.state.ID)
		if err != nil {
			p.log.Warn("feed taken over without its last poll; polling unconditionally", "feed", r.state.ID, "error", err)
		}
		r.state.notBefore = time.Time{}
		r.state.restore(last, p.maxBackoff)
		r.owned = true
	}
	return true
}

func slotField(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
