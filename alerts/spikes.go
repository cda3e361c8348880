package alerts

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/alerts/spike"
	"github.com/newswatch/newswatch/events"
)

// StateLog is the event log with the small state documents the spike and digest runners
// keep; events.Conn implements it.
type StateLog interface {
	Log
	GetState(ctx context.Context, key string) ([]byte, error)
	PutState(ctx context.Context, key string, data []byte) error
	SeqBefore(ctx context.Context, stream string, subjects []string, t time.Time) (uint64, error)
}

const (
	spikeStateKey = "spikes"
	// spikeCheckEvery is how often topics are checked when no match arrives: a window's
	// count changes when stories leave it too.
	spikeCheckEvery = time.Minute
	// spikeSaveEvery bounds what a crash makes the runner read again.
	spikeSaveEvery = time.Minute
)

// spikeState is the runner's saved state: the detector's snapshot and the last match event
// folded into it.
type spikeState struct {
	Seq      uint64          `json:"seq"`
	Detector json.RawMessage `json:"detector"`
}

// SpikeRunner connects a spike detector (alerts/spike) to the event log: it folds every match
// event into the detector, checks the topics with a spike rule after each batch of matches
// and every minute, and publishes their spikes as alerts. Given a LearnOnly rule for every
// topic without one, the detector learns every topic's volume, so that a rule added by a
// reload has a baseline at once.
//
// Its state is saved in the state bucket with the position it covers; without one (first
// start), the last spike.History of matches are read to learn the baselines before the first
// check. Spikes already fired are read back from the alert stream at start, so a crash
// between publishing a spike and saving the state does not fire it again.
type SpikeRunner struct {
	log    StateLog
	logger *slog.Logger
	now    func() time.Time
	m      *Metrics
	silent Silencer

	mu        sync.Mutex // guards det and cooldown: Run's goroutine, SetRules and Volume
	det       *spike.Detector
	cooldown  time.Duration // the longest cooldown of a rule
	seq       uint64        // last match event observed
	live      bool          // the detector has caught up with the stream once
	pending   atomic.Uint64
	saved     uint64
	savedAt   time.Time
	nextCheck time.Time
	// aborted: a spike was found but not published (shutting down), so the state, which
	// counts it as fired, must not be saved.
	aborted bool
}

// NewSpikeRunner returns a runner for the spike rules, LearnOnly ones for the topics without
// a rule. A silenced topic's spikes are dropped (its cooldown still starts).
func NewSpikeRunner(l StateLog, rules []spike.Rule, s Silencer, m *Metrics, logger *slog.Logger, now func() time.Time) (*SpikeRunner, error) {
	r := &SpikeRunner{log: l, logger: logger.With("component", "spikes"), now: now, m: m, silent: s}
	det, err := spike.NewDetector(nil)
	if err != nil {
		return nil, err
	}
	r.det = det
	if err := r.SetRules(rules); err != nil {
		return nil, err
	}
	return r, nil
}

// SetRules replaces the rules (config reload).
func (r *SpikeRunner) SetRules(rules []spike.Rule) error {
	cooldown := spike.DefaultCooldown
	for _, rule := range rules {
		cooldown = max(cooldown, rule.Cooldown)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.det.SetRules(rules); err != nil {
		return err
	}
	r.cooldown = cooldown
	for _, rule := range rules {
		if !rule.LearnOnly {
			r.m.init(rule.Topic, notify.KindSpike)
		}
	}
	return nil
}

// Volume is a topic's volume now as its spike rule sees it (the defaults without one): the
// window's count against its baseline, whether or not it would fire. For the topic summary.
func (r *SpikeRunner) Volume(topic string) *notify.Spike {
	r.mu.Lock()
	s, _ := r.det.Explain(topic, r.now())
	r.mu.Unlock()
	return &s.Spike
}

// Name is the runner's name as a lag metric label.
func (r *SpikeRunner) Name() string { return "spikes" }

// Lag is the number of match events not yet folded into the detector.
func (r *SpikeRunner) Lag() uint64 { return r.pending.Load() }

// Run restores the state, then follows matches and fires spikes until ctx ends.
func (r *SpikeRunner) Run(ctx context.Context) error {
	return followMatches(ctx, r.log, r.logger, "spike detector", r)
}

func (r *SpikeRunner) tick(ctx context.Context) { r.check(ctx) }

// stop saves the state on the way out, when anything was observed since the last save: an
// idle runner (no rules, no matches) writes nothing.
func (r *SpikeRunner) stop(ctx context.Context) {
	r.mu.Lock()
	changed := r.seq != r.saved
	r.mu.Unlock()
	if changed {
		r.save(ctx, true)
	}
}

func (r *SpikeRunner) resume() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seq
}

func (r *SpikeRunner) restore(ctx context.Context) (uint64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.aborted = false
	data, err := r.log.GetState(ctx, spikeStateKey)
	if err != nil {
		return 0, err
	}
	var st spikeState
	if data != nil {
		if err = json.Unmarshal(data, &st); err == nil {
			err = r.det.Restore(st.Detector)
		}
		if err != nil {
			r.logger.Warn("saved spike state unreadable; learning the baselines again", "error", err)
			data = nil
		}
	}
	if data == nil {
		// Forget what an earlier run of this runner folded (another instance may have run
		// the detector since): the stream is read again from four weeks back.
		_ = r.det.Restore(nil)
		st.Seq, err = r.log.SeqBefore(ctx, events.MatchStream, []string{events.MatchSubjectPrefix + "*"}, r.now().Add(-spike.History))
		if err != nil {
			return 0, err
		}
		r.logger.Info("learning topic volumes from the stored matches", "history", spike.History.String(), "after_seq", st.Seq)
	}
	// The spikes whose cooldown may still run.
	err = r.log.ReadAlerts(ctx, r.now().Add(-r.cooldown), func(data []byte, _, _ uint64) error {
		var a struct {
			Topic   string    `json:"topic"`
			Kind    string    `json:"kind"`
			FiredAt time.Time `json:"fired_at"`
		}
		if json.Unmarshal(data, &a) == nil && a.Kind == notify.KindSpike {
			r.det.Fired(a.Topic, a.FiredAt)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	r.seq, r.saved, r.savedAt = st.Seq, st.Seq, time.Now()
	return st.Seq, nil
}

func (r *SpikeRunner) observe(ctx context.Context) func(data []byte, seq, pending uint64) {
	return func(data []byte, seq, pending uint64) {
		r.pending.Store(pending)
		m, err := events.ParseMatch(data)
		r.mu.Lock()
		if err != nil {
			r.logger.Warn("match event skipped", "stream_seq", seq, "error", err)
		} else {
			r.det.Observe(spike.ObservationOf(m))
		}
		r.seq = seq
		r.mu.Unlock()
		if pending == 0 {
			r.live = true
			r.check(ctx)
		}
	}
}

func (r *SpikeRunner) wake() time.Time {
	if r.nextCheck.IsZero() {
		return time.Now().Add(spikeCheckEvery)
	}
	return r.nextCheck
}

// check fires the spikes of the topics with a rule, once the detector has caught up with
// the stream (before, the counts of the window are incomplete).
func (r *SpikeRunner) check(ctx context.Context) {
	r.nextCheck = time.Now().Add(spikeCheckEvery)
	if !r.live {
		return
	}
	r.mu.Lock()
	spikes := r.det.Check(r.now())
	r.mu.Unlock()
	fired := false
	for _, s := range spikes {
		if r.silent != nil && r.silent.Silenced(s.Topic, s.At) {
			r.logger.Info("spike silenced", "topic", s.Topic, "stories", s.Count)
			continue
		}
		a := s.Alert()
		if !publish(ctx, r.log, r.logger, a, 0) {
			r.aborted = true // shutting down: the next start checks again
			return
		}
		fired = true
		r.m.firedOne(a.Topic, a.Kind)
		r.logger.Info("spike fired", "topic", a.Topic, "alert", a.ID, "stories", s.Count, "baseline", s.Baseline, "sources", len(s.Sources))
	}
	r.save(ctx, fired)
}

// save stores the detector's state, at most every spikeSaveEvery unless forced.
func (r *SpikeRunner) save(ctx context.Context, force bool) {
	if r.aborted {
		return
	}
	r.mu.Lock()
	seq := r.seq
	if seq == r.saved && !force || !force && time.Since(r.savedAt) < spikeSaveEvery {
		r.mu.Unlock()
		return
	}
	snap, err := r.det.Snapshot()
	r.mu.Unlock()
	if err == nil {
		var data []byte
		if data, err = json.Marshal(spikeState{Seq: seq, Detector: snap}); err == nil {
			err = r.log.PutState(ctx, spikeStateKey, data)
		}
	}
	if err != nil {
		r.logger.Warn("spike state not saved", "error", err)
		return
	}
	r.saved, r.savedAt = seq, time.Now()
}

// publish stores an alert, retrying until it is stored or ctx ends; false when it ends.
func publish(ctx context.Context, l Log, logger *slog.Logger, a notify.Alert, sourceSeq uint64) bool {
	data, err := json.Marshal(a)
	if err != nil {
		logger.Error("alert not encodable", "alert", a.ID, "error", err)
		return true
	}
	for attempt := 1; ; attempt++ {
		err := l.PublishAlert(ctx, a.Topic, a.ID, a.FiredAt, data, sourceSeq)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		logger.Warn("alert not stored; retrying", "topic", a.Topic, "alert", a.ID, "error", err, "attempt", attempt)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(notify.Backoff(attempt, 200*time.Millisecond, 10*time.Second)):
		}
	}
}
