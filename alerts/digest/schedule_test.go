package digest

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func scheduler(t *testing.T, spec string, last time.Time) *Scheduler {
	t.Helper()
	s, err := NewScheduler(spec, last)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type period struct{ start, end time.Time }

func due(s *Scheduler, now time.Time) (period, bool) {
	start, end, ok := s.Due(now)
	return period{start, end}, ok
}

// A scheduler that never sent anything owes nothing for the time before it ran; the first
// digest covers the period from the scheduled time before it started to the next.
func TestFirstDigest(t *testing.T) {
	s := scheduler(t, "0 8 * * *", time.Time{})
	if _, ok := due(s, at("2026-11-23T07:00:00Z")); ok {
		t.Fatal("due on first start")
	}
	if got := s.Last(); !got.Equal(at("2026-11-22T08:00:00Z")) {
		t.Fatalf("anchored at %v", got)
	}
	if _, ok := due(s, at("2026-11-23T07:59:59Z")); ok {
		t.Fatal("due before 08:00")
	}
	p, ok := due(s, at("2026-11-23T08:00:30Z"))
	if !ok || !p.start.Equal(at("2026-11-22T08:00:00Z")) || !p.end.Equal(at("2026-11-23T08:00:00Z")) {
		t.Fatalf("due %v %v", p, ok)
	}
	if next := s.Next(at("2026-11-23T08:00:30Z")); !next.Equal(p.end) {
		t.Errorf("Next while due = %v", next)
	}
	s.Sent(p.end)
	if _, ok := due(s, at("2026-11-23T20:00:00Z")); ok {
		t.Error("due twice")
	}
	if next := s.Next(at("2026-11-23T20:00:00Z")); !next.Equal(at("2026-11-24T08:00:00Z")) {
		t.Errorf("Next = %v", next)
	}
}

// A daemon down over scheduled times sends one digest for all of the missed time, once.
func TestDowntimeOneDigest(t *testing.T) {
	s := scheduler(t, "0 8 * * *", at("2026-11-23T08:00:00Z"))
	p, ok := due(s, at("2026-11-26T10:17:00Z"))
	if !ok || !p.start.Equal(at("2026-11-23T08:00:00Z")) || !p.end.Equal(at("2026-11-26T08:00:00Z")) {
		t.Fatalf("due %v %v", p, ok)
	}
	s.Sent(p.end)
	if _, ok := due(s, at("2026-11-26T10:18:00Z")); ok {
		t.Error("due again")
	}
	if p, ok := due(s, at("2026-11-27T08:00:00Z")); !ok || !p.start.Equal(at("2026-11-26T08:00:00Z")) {
		t.Errorf("next day: %v %v", p, ok)
	}
}

// "@every" chains from the last period's end, whatever the wall clock.
func TestEvery(t *testing.T) {
	s := scheduler(t, "@every 6h", at("2026-11-23T01:30:00Z"))
	if _, ok := due(s, at("2026-11-23T07:29:00Z")); ok {
		t.Error("due early")
	}
	p, ok := due(s, at("2026-11-23T20:00:00Z"))
	if !ok || !p.end.Equal(at("2026-11-23T19:30:00Z")) {
		t.Errorf("due %v %v", p, ok)
	}
	s.Sent(p.end)
	if next := s.Next(at("2026-11-23T20:00:00Z")); !next.Equal(at("2026-11-24T01:30:00Z")) {
		t.Errorf("Next = %v", next)
	}
}

// Time zones follow the spec: 08:00 in Seoul is 23:00 UTC the day before.
func TestTimeZone(t *testing.T) {
	s := scheduler(t, "CRON_TZ=Asia/Seoul 0 8 * * *", at("2026-11-22T23:00:00Z"))
	p, ok := due(s, at("2026-11-23T23:00:01Z"))
	if !ok || !p.end.Equal(at("2026-11-23T23:00:00Z")) {
		t.Errorf("due %v %v", p, ok)
	}
}

func TestBadSchedule(t *testing.T) {
	for _, spec := range []string{"", "every day", "0 8 * *", "TZ=UTC", "CRON_TZ=Nowhere/Else 0 8 * * *"} {
		if _, err := NewScheduler(spec, time.Time{}); !errors.Is(err, ErrSchedule) {
			t.Errorf("%q: %v", spec, err)
		}
	}
}

// Across restarts and downtime, at random, with the last period's end persisted only after
// a digest was sent: digests chain without gap or overlap, none is sent twice, and every
// scheduled time is the end of a digest unless the daemon was down at it (the next digest
// then covers it).
func TestRestartsNeverDoubleNorSkip(t *testing.T) {
	for _, spec := range []string{"0 8 * * *", "*/30 * * * *", "0 8 * * MON", "@every 2h"} {
		t.Run(spec, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			start := at("2026-11-02T05:13:00Z")
			end := start.Add(30 * 24 * time.Hour)
			var persisted time.Time // what the daemon stored: the end of the last digest sent
			var sent []period
			up, upAt, late := true, map[time.Time]bool{}, 0
			s := scheduler(t, spec, persisted)
			anchor := time.Time{}
			for now := start; now.Before(end); now = now.Add(time.Minute) {
				switch r := rng.Float64(); {
				case up && r < 0.001: // crash
					up = false
				case !up && r < 0.002: // restart from what was persisted
					up = true
					s = scheduler(t, spec, persisted)
				}
				if !up {
					continue
				}
				upAt[now] = true
				p, ok := due(s, now)
				if anchor.IsZero() {
					anchor = s.Last()
					persisted = anchor
				}
				if !ok {
					continue
				}
				sent = append(sent, p)
				if now.Sub(p.end) > time.Minute {
					late++
				}
				s.Sent(p.end)
				persisted = p.end
			}
			if len(sent) == 0 {
				t.Fatal("no digest")
			}
			if !sent[0].start.Equal(anchor) {
				t.Errorf("first digest starts at %v, anchor %v", sent[0].start, anchor)
			}
			for i := 1; i < len(sent); i++ {
				if !sent[i].start.Equal(sent[i-1].end) || !sent[i].end.After(sent[i].start) {
					t.Fatalf("digest %d covers %v, after %v", i, sent[i], sent[i-1])
				}
			}
			// Every scheduled time at which the daemon was up ends a digest.
			ends := map[time.Time]bool{}
			for _, p := range sent {
				ends[p.end] = true
			}
			sched := scheduler(t, spec, anchor)
			missed := 0
			for tm := sched.Next(anchor); tm.Before(sent[len(sent)-1].end); tm = sched.Next(tm) {
				if upAt[tm.Truncate(time.Minute)] && !ends[tm] {
					t.Errorf("scheduled time %v passed while up, but no digest ends there", tm)
				}
				if !ends[tm] {
					missed++
				}
				sched.Sent(tm)
			}
			t.Logf("%d digests over 30 days with restarts: %d sent late, after a restart; %d scheduled times passed during a downtime that outlasted the next one, and are inside a longer digest",
				len(sent), late, missed)
			if late == 0 {
				t.Error("no digest was due during a downtime: the test does not test restarts")
			}
		})
	}
}

// A daemon that crashes after sending a digest but before persisting its end sends the
// same period again after the restart, as the same digest: same period, same id, which the
// alert stream and receivers deduplicate.
func TestCrashBeforePersistSameDigest(t *testing.T) {
	last := at("2026-11-23T08:00:00Z")
	now := at("2026-11-24T08:00:05Z")
	first := scheduler(t, "0 8 * * *", last)
	p1, _ := due(first, now)
	again := scheduler(t, "0 8 * * *", last) // restarted; the end of p1 was never persisted
	p2, ok := due(again, now.Add(time.Minute))
	if !ok || p1 != p2 || Build("t", nil, p1.start, p1.end, 0).ID != Build("t", nil, p2.start, p2.end, 0).ID {
		t.Errorf("first %v, after restart %v", p1, p2)
	}
}
