package alerts

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/events"
)

// Log is the event log as the alert runners use it; events.Conn implements it.
type Log interface {
	Follow(ctx context.Context, stream string, subjects []string, after uint64,
		fn func(data []byte, seq, pending uint64), tick func(), wake func() time.Time) error
	PublishAlert(ctx context.Context, topic, id string, firedAt time.Time, data []byte, sourceSeq uint64) error
	ReadAlerts(ctx context.Context, since time.Time, fn func(data []byte, seq, sourceSeq uint64) error) error
	LastSourceSeq(ctx context.Context, stream, subject string) (uint64, error)
	Checkpoint(ctx context.Context, name string) (uint64, bool, error)
	SaveCheckpoint(ctx context.Context, name string, seq uint64) error
}

const checkpointName = "alerts"

// saveEvery bounds how often the checkpoint and the suppressions are saved: a busy topic's
// suppressions are about a megabyte, and a crash only makes the engine read the matches of
// the last few seconds again.
const saveEvery = 5 * time.Second

// Runner connects the engine to the event log: it restores the engine from the alerts already
// fired, follows match events, and publishes alerts as they fall due.
type Runner struct {
	log    StateLog
	logger *slog.Logger
	now    func() time.Time

	mu     sync.Mutex // guards engine, rules and since: Run's goroutine and SetRules
	engine *Engine
	rules  []Rule
	// since is when each topic's match rule came into existence (state alerts.rules), and
	// sinceDirty whether it changed since it was saved.
	since      map[string]time.Time
	sinceDirty bool
	// created is when the runner was made, before the daemon polls anything: a rule first
	// seen at start exists from then on, so the first matches of a first start are its own.
	created    time.Time
	suppressed *SuppressionLog

	m           *Metrics
	pending     atomic.Uint64
	lastSaved   uint64
	lastSavedAt time.Time
}

// NewRunner returns a Runner for the rules.
func NewRunner(l StateLog, rules []Rule, s Silencer, m *Metrics, logger *slog.Logger, now func() time.Time) *Runner {
	r := &Runner{log: l, logger: logger.With("component", "alerts"), now: now, engine: NewEngine(rules, s), m: m,
		rules: rules, since: map[string]time.Time{}, suppressed: NewSuppressionLog(0), created: now().UTC()}
	for _, rule := range rules {
		m.init(rule.Topic, KindMatch)
		m.initSuppressed(rule.Topic)
	}
	return r
}

// SetRules replaces the rules (config reload). A topic's new rule takes the matches made from
// now on; a removed rule's history is forgotten.
func (r *Runner) SetRules(rules []Rule) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rules = rules
	r.engine.SetRules(r.withSince(r.now().UTC()))
	for _, rule := range rules {
		r.m.init(rule.Topic, KindMatch)
		r.m.initSuppressed(rule.Topic)
	}
}

// withSince returns the rules with when each came into existence, recording at for a new
// one. r.mu is held.
func (r *Runner) withSince(at time.Time) []Rule {
	out := make([]Rule, len(r.rules))
	want := map[string]bool{}
	for i, rule := range r.rules {
		since, ok := r.since[rule.Topic]
		if !ok {
			since = at
			r.since[rule.Topic] = since
			r.sinceDirty = true
		}
		rule.Since = since
		out[i] = rule
		want[rule.Topic] = true
	}
	for topic := range r.since {
		if !want[topic] {
			delete(r.since, topic)
			r.sinceDirty = true
		}
	}
	return out
}

// Waiting reports whether an article waits in its topic's pending alert.
func (r *Runner) Waiting(topic, articleID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.engine.Waiting(topic, articleID)
}

// Suppressions is the log of matches that did not alert, with their reasons.
func (r *Runner) Suppressions() *SuppressionLog { return r.suppressed }

// UseStories makes the engine fire once per story of the index (see Engine.UseStories).
func (r *Runner) UseStories(x StoryIndex) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.engine.UseStories(x)
}

func (r *Runner) storyIndex() StoryIndex {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.engine.stories
}

// Run restores state and fires alerts until ctx ends.
func (r *Runner) Run(ctx context.Context) error {
	return followMatches(ctx, r.log, r.logger, "alert engine", r)
}

// matchFollower is a runner fed by the match stream: the alert engine and the spike detector.
type matchFollower interface {
	// restore reads the runner's state and returns the match sequence to follow after.
	restore(ctx context.Context) (uint64, error)
	observe(ctx context.Context) func(data []byte, seq, pending uint64)
	// tick runs when wake's time passes with no match.
	tick(ctx context.Context)
	wake() time.Time
	// resume is where to follow again after the consumer was lost.
	resume() uint64
	// stop saves what must survive the shutdown.
	stop(ctx context.Context)
}

// followMatches restores a runner's state (retrying while the log is unreachable), then feeds
// it match events until ctx ends, following again after a lost consumer.
func followMatches(ctx context.Context, l Log, logger *slog.Logger, what string, f matchFollower) error {
	var after uint64
	if !untilRestored(ctx, logger, func() (err error) { after, err = f.restore(ctx); return err }) {
		return nil
	}
	for {
		err := l.Follow(ctx, events.MatchStream, []string{events.MatchSubjectPrefix + "*"}, after,
			f.observe(ctx), func() { f.tick(ctx) }, f.wake)
		if ctx.Err() != nil {
			f.stop(context.WithoutCancel(ctx))
			return nil
		}
		logger.Warn(what+" lost its consumer; resuming", "error", err)
		after = f.resume()
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

func (r *Runner) tick(ctx context.Context) { r.fireDue(ctx) }
func (r *Runner) stop(ctx context.Context) { r.saveCheckpoint(ctx, true) }

func (r *Runner) resume() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.engine.Resume()
}

// wake is when the next pending group falls due, on the wall clock the log's Follow waits
// with (the runner's own clock may be another, in tests).
func (r *Runner) wake() time.Time {
	r.mu.Lock()
	next := r.engine.NextDue()
	r.mu.Unlock()
	if next.IsZero() {
		return next
	}
	return time.Now().Add(next.Sub(r.now()))
}

// Name is the runner's name as a lag metric label.
func (r *Runner) Name() string { return "alerts" }

// Lag is the number of match events not yet seen by the engine.
func (r *Runner) Lag() uint64 { return r.pending.Load() }

func (r *Runner) observe(ctx context.Context) func(data []byte, seq, pending uint64) {
	return func(data []byte, seq, pending uint64) {
		r.pending.Store(pending)
		m, err := events.ParseMatch(data)
		if err != nil {
			r.logger.Warn("match event skipped", "stream_seq", seq, "error", err)
		} else {
			if w, ok := r.storyIndex().(StoryWaiter); ok {
				_ = w.WaitFolded(ctx, seq) // only fails when ctx ends: nothing fires then
			}
			r.mu.Lock()
			sup, suppressed := r.engine.Observe(m, seq, r.now())
			r.mu.Unlock()
			if suppressed {
				r.suppress(sup)
			}
		}
		if pending == 0 {
			r.fireDue(ctx)
		}
	}
}

// untilRestored runs a runner's restore until it succeeds (the event log may be briefly
// unreachable at start: a restart of the NATS cluster must not stop the daemon), logging each
// failure; false when ctx ended first.
func untilRestored(ctx context.Context, logger *slog.Logger, restore func() error) bool {
	for attempt := 1; ; attempt++ {
		err := restore()
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		logger.Warn("cannot read state from the event log; retrying", "error", err, "attempt", attempt)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(notify.Backoff(attempt, time.Second, 30*time.Second)):
		}
	}
}

// restore rebuilds the engine from the alerts of the longest story window and returns the
// match sequence to follow after.
func (r *Runner) restore(ctx context.Context) (uint64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.engine.forget()
	if err := r.restoreRules(ctx); err != nil {
		return 0, err
	}
	since := r.now().Add(-DefaultStoryWindow)
	for _, id := range r.engine.Topics() {
		if w := r.engine.topics[id].rule.StoryWindow; r.now().Add(-w).Before(since) {
			since = r.now().Add(-w)
		}
	}
	err := r.log.ReadAlerts(ctx, since, func(data []byte, _, src uint64) error {
		var a notify.Alert
		if err := json.Unmarshal(data, &a); err != nil {
			r.logger.Warn("stored alert unreadable", "error", err)
			return nil
		}
		r.engine.Fired(a, src)
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, id := range r.engine.Topics() {
		seq, err := r.log.LastSourceSeq(ctx, events.AlertStream, events.AlertSubjectPrefix+id)
		if err != nil {
			return 0, err
		}
		st := r.engine.topics[id]
		st.lastFiredSeq = max(st.lastFiredSeq, seq)
	}
	after, _, err := r.log.Checkpoint(ctx, checkpointName)
	if err != nil {
		return 0, err
	}
	r.engine.lastSeen = after
	r.lastSaved = after
	return after, nil
}

// fireDue publishes every alert that is due, retrying until each is stored.
func (r *Runner) fireDue(ctx context.Context) {
	r.mu.Lock()
	due := r.engine.Due(r.now())
	r.mu.Unlock()
	for _, f := range due {
		if !publish(ctx, r.log, r.logger, f.Alert, f.LastSeq) {
			return // shutting down: the matches are re-read after the restart
		}
		r.mu.Lock()
		r.engine.Fired(f.Alert, f.LastSeq)
		r.mu.Unlock()
		r.m.firedOne(f.Alert.Topic, f.Alert.Kind)
		r.logger.Info("alert fired", "topic", f.Alert.Topic, "alert", f.Alert.ID, "articles", len(f.Alert.Articles))
	}
	r.saveCheckpoint(ctx, false)
}

// saveCheckpoint stores how far matches are fully handled, at most every few seconds, after
// what must survive with it: the rules' start times and the suppressions (those of matches
// after the checkpoint are recorded again when the matches are read again).
func (r *Runner) saveCheckpoint(ctx context.Context, force bool) {
	if !force && time.Since(r.lastSavedAt) < saveEvery {
		return
	}
	r.saveState(ctx)
	r.mu.Lock()
	seq := r.engine.Resume()
	r.mu.Unlock()
	r.lastSavedAt = time.Now()
	if seq == r.lastSaved {
		return
	}
	if err := r.log.SaveCheckpoint(ctx, checkpointName, seq); err != nil {
		r.logger.Warn("alert checkpoint not saved", "error", err)
		return
	}
	r.lastSaved = seq
}
