// Package digest schedules and builds digests for kind: digest rules: on a cron schedule,
// the top stories of a topic over the period since the previous digest, grouped by story
// with their outlet counts.
//
// It is pure. A Scheduler knows the schedule and the end of the period of the last digest
// sent, which the caller persists (best: reads back from the newest digest alert, whose id
// and period are derived from the topic and period); given the time, it says which period
// is due. Periods are half-open [start, end) and chain, each starting where the previous
// ended, so after a restart nothing is sent twice and nothing is skipped: if the daemon
// was down over one or more scheduled times, the next call returns one period covering all
// of the missed time, once.
package digest

import (
	"errors"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// Scheduler decides when a digest is due. It is not safe for concurrent use.
type Scheduler struct {
	spec     string
	schedule cron.Schedule
	last     time.Time
}

// ErrSchedule reports a schedule that cannot be parsed.
var ErrSchedule = errors.New("digest: invalid schedule")

// NewScheduler returns a scheduler for a robfig/cron spec (five fields, descriptors such as
// "@daily" and "@every 12h", optionally "CRON_TZ=Zone " first) whose last digest covered
// the time up to last; zero if none was ever sent.
func NewScheduler(spec string, last time.Time) (*Scheduler, error) {
	sched, err := parse(spec)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrSchedule, spec, err)
	}
	return &Scheduler{spec: spec, schedule: sched, last: last}, nil
}

// parse calls cron.ParseStandard, which panics on some malformed input, as an error.
func parse(spec string) (s cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return cron.ParseStandard(spec)
}

// Last returns the end of the period of the last digest sent (or of the anchor set by the
// first Due, see there): the value to persist.
func (s *Scheduler) Last() time.Time { return s.last }

// Due returns the period of the digest due at now: from the end of the last digest's
// period to the latest scheduled time at or before now. ok is false when no scheduled time
// has passed since.
//
// A scheduler that never sent a digest owes nothing for the time before it first ran: its
// first Due anchors the chain at the latest scheduled time at or before now (so Last
// changes and should be persisted) and returns false; the first digest covers the period
// from that scheduled time to the next.
func (s *Scheduler) Due(now time.Time) (start, end time.Time, ok bool) {
	if s.last.IsZero() {
		s.last = s.latest(time.Time{}, now)
		if s.last.IsZero() {
			s.last = now
		}
		return time.Time{}, time.Time{}, false
	}
	end = s.latest(s.last, now)
	if end.IsZero() {
		return time.Time{}, time.Time{}, false
	}
	return s.last, end, true
}

// Sent records that the digest of the period ending at end was sent.
func (s *Scheduler) Sent(end time.Time) {
	if end.After(s.last) {
		s.last = end
	}
}

// Next returns the next scheduled time after now at which a digest will fall due (now or
// earlier when one is due already); zero if the schedule never fires again.
func (s *Scheduler) Next(now time.Time) time.Time {
	if _, end, ok := s.Due(now); ok {
		return end
	}
	from := now
	if s.last.After(now) {
		from = s.last
	}
	if c, ok := s.schedule.(cron.ConstantDelaySchedule); ok {
		// "@every" counts from the end of the last period, not from the wall clock.
		k := int64(from.Sub(s.last)/c.Delay) + 1
		return s.last.Add(time.Duration(k) * c.Delay)
	}
	return s.schedule.Next(from)
}

// lookbacks are how far back latest searches for a scheduled time: a schedule firing at
// least once in a span is found by scanning that span only.
var lookbacks = []time.Duration{
	2 * time.Minute, 2 * time.Hour, 25 * time.Hour, 8 * 24 * time.Hour, 32 * 24 * time.Hour,
	367 * 24 * time.Hour, 5 * 367 * 24 * time.Hour,
}

// latest returns the latest scheduled time in (after, now], or zero when there is none
// (after zero: no lower bound).
func (s *Scheduler) latest(after, now time.Time) time.Time {
	if !after.IsZero() && !now.After(after) {
		return time.Time{}
	}
	if c, ok := s.schedule.(cron.ConstantDelaySchedule); ok {
		// "@every" fires every Delay from the chain's anchor.
		if after.IsZero() {
			return now.Truncate(time.Second)
		}
		k := now.Sub(after) / c.Delay
		if k == 0 {
			return time.Time{}
		}
		return after.Add(k * c.Delay)
	}
	for _, back := range lookbacks {
		from := now.Add(-back)
		if !after.IsZero() && from.Before(after) {
			from = after
		}
		var found time.Time
		for t := s.schedule.Next(from); !t.IsZero() && !t.After(now); t = s.schedule.Next(t) {
			found = t
		}
		if !found.IsZero() || (!after.IsZero() && !from.After(after)) {
			return found
		}
	}
	return time.Time{}
}
