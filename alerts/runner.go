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

// Log is the event log as the alert runner uses it; events.Conn implements it.
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

// Runner connects the engine to the event log: it restores the engine from the alerts already
// fired, follows match events, and publishes alerts as they fall due.
type Runner struct {
	log    Log
	logger *slog.Logger
	now    func() time.Time

	mu     sync.Mutex // guards engine: Run's goroutine and SetRules
	engine *Engine

	m           *Metrics
	pending     atomic.Uint64
	lastSaved   uint64
	lastSavedAt time.Time
}

// NewRunner returns a Runner for the rules.
func NewRunner(l Log, rules []Rule, s Silencer, m *Metrics, logger *slog.Logger, now func() time.Time) *Runner {
	r := &Runner{log: l, logger: logger.With("component", "alerts"), now: now, engine: NewEngine(rules, s), m: m}
	for _, rule := range rules {
		m.init(rule.Topic, KindMatch)
	}
	return r
}

// SetRules replaces the rules (config reload).
func (r *Runner) SetRules(rules []Rule) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.engine.SetRules(rules)
	for _, rule := range rules {
		r.m.init(rule.Topic, KindMatch)
	}
}

// UseStories makes the engine fire once per story of the index (see Engine.UseStories).
func (r *Runner) UseStories(x StoryIndex) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.engine.UseStories(x)
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

// wake is when the next pending group falls due.
func (r *Runner) wake() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.engine.NextDue()
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
			r.mu.Lock()
			r.engine.Observe(m, seq, r.now())
			r.mu.Unlock()
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

// saveCheckpoint stores how far matches are fully handled, at most every few seconds.
func (r *Runner) saveCheckpoint(ctx context.Context, force bool) {
	r.mu.Lock()
	seq := r.engine.Resume()
	r.mu.Unlock()
	if seq == r.lastSaved || (!force && time.Since(r.lastSavedAt) < 2*time.Second) {
		return
	}
	if err := r.log.SaveCheckpoint(ctx, checkpointName, seq); err != nil {
		r.logger.Warn("alert checkpoint not saved", "error", err)
		return
	}
	r.lastSaved, r.lastSavedAt = seq, time.Now()
}
