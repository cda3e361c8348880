package alerts

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/newswatch/newswatch/alerts/digest"
	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/projections/stories"
)

// DigestRule is a digest rule for one topic.
type DigestRule struct {
	Topic, TopicName string
	// Schedule is a robfig/cron spec; a topic may have several digest rules with different
	// schedules (a daily and a weekly one).
	Schedule  string
	SendEmpty bool
	// Top is how many stories a digest lists (0: digest.DefaultTop).
	Top int
}

func (r DigestRule) key() string { return r.Topic + " " + r.Schedule }

// Alert builds the rule's digest of the period [start, end) from the topic's stories, fired
// at now; false when the period is empty and the rule does not send empty digests.
func (r DigestRule) Alert(src StorySource, start, end, now time.Time) (notify.Alert, bool) {
	d := digest.Build(r.Topic, src.Stories(r.Topic, 0), start, end, r.Top)
	if d.Empty() && !r.SendEmpty {
		return notify.Alert{}, false
	}
	return d.Alert(r.TopicName, r.Schedule, now), true
}

// StorySource lists a topic's stories: the topic_stories projection.
type StorySource interface {
	Stories(topic string, limit int) []stories.Story
}

const digestStateKey = "digests"

// Digest runner timings.
const (
	// DigestGrace is how long after a period's end its digest waits, for an article first
	// seen just before the end to be published, matched and grouped.
	DigestGrace = 2 * time.Second
	// digestReadyWait bounds the wait for the matcher and the stories projection to catch up
	// before a digest is built from what they hold.
	digestReadyWait = 2 * time.Minute
	// digestPoll is the longest the runner sleeps without looking at the clock again: a
	// wall clock that jumps (a suspended machine, a stepped clock) is noticed within it.
	digestPoll = 30 * time.Second
)

// DigestRunner sends the digests of kind: digest rules on their schedules. Each rule has an
// alerts/digest Scheduler whose chain of periods (the end of the last digest sent) is saved
// in the state bucket after every digest, and also read back from the newest digest alerts
// at start, so a restart neither sends a period twice nor skips one, and a period missed
// while the daemon was down is sent once at the next start.
type DigestRunner struct {
	log     StateLog
	stories StorySource
	ready   func() bool
	logger  *slog.Logger
	now     func() time.Time
	m       *Metrics
	silent  Silencer
	// Poll overrides digestPoll (tests with an injected clock).
	Poll time.Duration

	mu     sync.Mutex // guards rules and scheds: Run's goroutine and SetRules
	rules  []DigestRule
	scheds map[string]*digest.Scheduler
	last   map[string]time.Time // restored chain ends, by rule key
	wakeUp chan struct{}
	// restored is true once Run has read the chains back: from then on each rule's next
	// period is fixed, whatever the clock says.
	restored atomic.Bool
}

// Restored reports whether Run has read the chains of periods back (see Run).
func (r *DigestRunner) Restored() bool { return r.restored.Load() }

// NewDigestRunner returns a runner for the digest rules. ready reports whether the stories
// projection has folded every match there is; a digest waits for it (a while) before it is
// built. The digest of a topic silenced when it falls due is not sent (its period passes).
func NewDigestRunner(l StateLog, src StorySource, ready func() bool, rules []DigestRule, s Silencer, m *Metrics, logger *slog.Logger, now func() time.Time) (*DigestRunner, error) {
	r := &DigestRunner{
		log: l, stories: src, ready: ready, logger: logger.With("component", "digests"), now: now, m: m, silent: s,
		scheds: map[string]*digest.Scheduler{}, last: map[string]time.Time{}, wakeUp: make(chan struct{}, 1),
	}
	if err := r.SetRules(rules); err != nil {
		return nil, err
	}
	return r, nil
}

// SetRules replaces the rules (config reload). A rule keeps its chain of periods while its
// topic and schedule stay the same.
func (r *DigestRunner) SetRules(rules []DigestRule) error {
	scheds := make(map[string]*digest.Scheduler, len(rules))
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rule := range rules {
		k := rule.key()
		if _, dup := scheds[k]; dup {
			return fmt.Errorf("topic %s has two digest rules with schedule %q", rule.Topic, rule.Schedule)
		}
		if s := r.scheds[k]; s != nil {
			scheds[k] = s
			continue
		}
		s, err := digest.NewScheduler(rule.Schedule, r.last[k])
		if err != nil {
			return fmt.Errorf("topic %s: %w", rule.Topic, err)
		}
		scheds[k] = s
	}
	r.rules, r.scheds = slices.Clone(rules), scheds
	for _, rule := range rules {
		r.m.init(rule.Topic, notify.KindDigest)
	}
	select {
	case r.wakeUp <- struct{}{}:
	default:
	}
	return nil
}

// Run restores the chains of periods, then sends digests as they fall due until ctx ends.
func (r *DigestRunner) Run(ctx context.Context) error {
	if !untilRestored(ctx, r.logger, func() error { return r.restore(ctx) }) {
		return nil
	}
	r.restored.Store(true)
	for {
		next := r.sendDue(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := cmp.Or(r.Poll, digestPoll)
		if !next.IsZero() {
			wait = min(wait, max(next.Add(DigestGrace).Sub(r.now()), 0))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.wakeUp:
		case <-time.After(wait):
		}
	}
}

// restore reads the saved chain ends and those of the newest digest alerts, the later of
// the two winning (a crash after publishing a digest but before saving its end).
func (r *DigestRunner) restore(ctx context.Context) error {
	last := map[string]time.Time{}
	data, err := r.log.GetState(ctx, digestStateKey)
	if err != nil {
		return err
	}
	if data != nil {
		if err := json.Unmarshal(data, &last); err != nil {
			r.logger.Warn("saved digest state unreadable; reading the chains from the alert stream", "error", err)
			last = map[string]time.Time{}
		}
	}
	// A rule's chain end is at most its longest period behind; stories older than 8 days are
	// gone anyway.
	err = r.log.ReadAlerts(ctx, r.now().Add(-stories.DefaultRetention), func(data []byte, _, _ uint64) error {
		var a notify.Alert
		if json.Unmarshal(data, &a) != nil || a.Kind != notify.KindDigest || a.Digest == nil {
			return nil
		}
		k := DigestRule{Topic: a.Topic, Schedule: a.Digest.Schedule}.key()
		if a.Digest.Until.After(last[k]) {
			last[k] = a.Digest.Until
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last = last
	for _, rule := range r.rules {
		s, err := digest.NewScheduler(rule.Schedule, last[rule.key()])
		if err != nil {
			return err
		}
		r.scheds[rule.key()] = s
	}
	return nil
}

// sendDue sends every digest that is due and returns when the next one falls due.
func (r *DigestRunner) sendDue(ctx context.Context) time.Time {
	r.mu.Lock()
	rules := slices.Clone(r.rules)
	r.mu.Unlock()
	var next time.Time
	for _, rule := range rules {
		at := r.sendRule(ctx, rule)
		if ctx.Err() != nil {
			return time.Time{}
		}
		if !at.IsZero() && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	return next
}

// sendRule sends the rule's digest if one is due, and returns when its next one is due.
func (r *DigestRunner) sendRule(ctx context.Context, rule DigestRule) time.Time {
	r.mu.Lock()
	s := r.scheds[rule.key()]
	if s == nil { // removed by a reload meanwhile
		r.mu.Unlock()
		return time.Time{}
	}
	before := s.Last()
	start, end, ok := s.Due(r.now())
	anchored := !s.Last().Equal(before)
	r.mu.Unlock()
	if anchored {
		r.save(ctx) // the first period starts here, whatever the next start's clock says
	}
	if ok && r.now().Before(end.Add(DigestGrace)) {
		return end // not yet: wait for the last articles of the period
	}
	if ok {
		if !r.send(ctx, rule, start, end) {
			return time.Time{}
		}
		r.mu.Lock()
		s.Sent(end)
		r.mu.Unlock()
		r.save(ctx)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return s.Next(r.now())
}

// send builds and publishes one digest; false if ctx ended before it was stored.
func (r *DigestRunner) send(ctx context.Context, rule DigestRule, start, end time.Time) bool {
	r.waitReady(ctx)
	a, ok := rule.Alert(r.stories, start, end, r.now())
	if !ok {
		r.logger.Info("digest skipped: no stories in the period", "topic", rule.Topic, "since", start, "until", end)
		return true
	}
	if r.silent != nil && r.silent.Silenced(rule.Topic, r.now()) {
		r.logger.Info("digest silenced", "topic", rule.Topic, "since", start, "until", end)
		return true
	}
	if !publish(ctx, r.log, r.logger, a, 0) {
		return false
	}
	r.m.firedOne(a.Topic, a.Kind)
	r.logger.Info("digest sent", "topic", rule.Topic, "alert", a.ID, "since", start, "until", end, "stories", a.Digest.TotalStories)
	return true
}

func (r *DigestRunner) waitReady(ctx context.Context) {
	deadline := time.Now().Add(digestReadyWait)
	for !r.ready() {
		if time.Now().After(deadline) {
			r.logger.Warn("digest built before the stories projection caught up", "waited", digestReadyWait.String())
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// save stores every rule's chain end.
func (r *DigestRunner) save(ctx context.Context) {
	r.mu.Lock()
	for _, rule := range r.rules {
		if s := r.scheds[rule.key()]; s != nil {
			r.last[rule.key()] = s.Last()
		}
	}
	data, err := json.Marshal(r.last)
	r.mu.Unlock()
	if err == nil {
		err = r.log.PutState(ctx, digestStateKey, data)
	}
	if err != nil {
		r.logger.Warn("digest state not saved", "error", err)
	}
}
