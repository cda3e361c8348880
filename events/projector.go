package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Projection folds events into a read model. The Projector calls Apply, Snapshot and Restore
// from one goroutine; a projection that is also read concurrently (by the API) guards its own
// state.
type Projection interface {
	// Name is the projection's stable name: the snapshot key and the metric label.
	Name() string
	// Apply folds one event. An error is logged and the event skipped: one bad event must not
	// stop a read model.
	Apply(data []byte, seq uint64) error
	// Snapshot serializes the whole state.
	Snapshot() ([]byte, error)
	// Restore replaces the state with a snapshot.
	Restore(data []byte) error
}

// snapshot is what the projection bucket stores: the state and the last applied stream sequence
// together, so a restart resumes exactly after the last event the state includes.
type snapshot struct {
	Seq uint64 `json:"seq"`
	// Version names the build of the state: a replay writes a new version beside the live one
	// (key "<name>.next"), and the projector adopts it in one step.
	Version string          `json:"version,omitempty"`
	Saved   time.Time       `json:"saved"`
	State   json.RawMessage `json:"state"`
}

// NextKey is the key under which a rebuilt version of a projection waits to be adopted.
func NextKey(name string) string { return name + ".next" }

// errAdopted ends a follow loop after a rebuilt version was adopted.
var errAdopted = errors.New("events: adopted a rebuilt projection")

// Projector keeps one projection up to date with a stream.
type Projector struct {
	conn     *Conn
	proj     Projection
	stream   string
	subjects []string
	log      *slog.Logger

	applied atomic.Uint64 // last applied stream sequence; set with setApplied
	waitMu  sync.Mutex
	waiters chan struct{} // closed when applied moves, for WaitApplied; nil when nobody waits
	saved   atomic.Uint64 // sequence of the last saved snapshot
	version string        // version of the state (only the Run goroutine touches it)
	shown   atomic.Value  // version, for readers on other goroutines
	adopt   chan snapshot // rebuilt versions to switch to
	// interrupt ends the follow loop's current wait, so a rebuilt version queued on adopt is
	// taken at once although the loop waits for events without a timeout.
	interruptMu sync.Mutex
	interrupt   context.CancelFunc
	pending     atomic.Uint64 // events in the stream not yet applied, as of the last delivery
	caughtUp    atomic.Bool

	// snapshotEvery and snapshotInterval bound the work redone after a crash while catching up.
	snapshotEvery    int
	snapshotInterval time.Duration
	// saveCost is how long the last save took, unsaved how long applying the events since
	// then took: what a restart would redo. A live save waits until unsaved is at least
	// saveCost (saveWorthIt); saves while catching up are spaced by ten times saveCost (at
	// least snapshotInterval). Only the follow loop's goroutine uses them.
	saveCost, unsaved time.Duration
	// saveIf, when set, must say true for a snapshot to be saved (SaveOnlyIf).
	saveIf func() bool
	// manifest is the saved manifest of a PartedProjection (only the Run goroutine touches
	// it); nil before its first save in parts.
	manifest *manifest
}

// NewProjector returns a Projector that feeds proj with the events of stream on subjects.
func (c *Conn) NewProjector(proj Projection, stream string, subjects []string, log *slog.Logger) *Projector {
	return &Projector{
		conn: c, proj: proj, stream: stream, subjects: subjects,
		log:           log.With("component", "projection", "projection", proj.Name()),
		snapshotEvery: 1_000_000, snapshotInterval: 10 * time.Second,
		adopt: make(chan snapshot, 1),
	}
}

// Name is the projection's name.
func (p *Projector) Name() string { return p.proj.Name() }

// Lag is the number of events in the stream not yet applied.
func (p *Projector) Lag() uint64 { return p.pending.Load() }

// Version names the build of the live state: "" for one built live, else the rebuild it
// switched to.
func (p *Projector) Version() string {
	v, _ := p.shown.Load().(string)
	return v
}

// Applied is the stream sequence of the last applied event.
func (p *Projector) Applied() uint64 { return p.applied.Load() }

// setApplied records the last applied sequence and wakes WaitApplied callers.
func (p *Projector) setApplied(seq uint64) {
	p.applied.Store(seq)
	p.waitMu.Lock()
	if p.waiters != nil {
		close(p.waiters)
		p.waiters = nil
	}
	p.waitMu.Unlock()
}

// WaitApplied waits until the projection has applied the event at stream sequence seq (or a
// later one), at most timeout; false when the time ran out. Readers that must see the effect
// of a given event (the alert engine asking which story a match joined) call it first.
func (p *Projector) WaitApplied(seq uint64, timeout time.Duration) bool {
	var timer <-chan time.Time
	for p.applied.Load() < seq {
		p.waitMu.Lock()
		if p.waiters == nil {
			p.waiters = make(chan struct{})
		}
		ch := p.waiters
		p.waitMu.Unlock()
		if p.applied.Load() >= seq { // applied between the check and the channel
			return true
		}
		if timer == nil {
			t := time.NewTimer(timeout)
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-ch:
		case <-timer:
			return p.applied.Load() >= seq
		}
	}
	return true
}

// CaughtUp reports whether the projection has applied everything that was in the stream when
// it last looked.
func (p *Projector) CaughtUp() bool { return p.caughtUp.Load() }

// Run restores the last snapshot, then applies events until ctx ends, and saves a final
// snapshot on the way out.
func (p *Projector) Run(ctx context.Context) error {
	kv, err := p.conn.bucket(ctx)
	if err != nil {
		return fmt.Errorf("projection %s: %w", p.proj.Name(), err)
	}
	p.restore(ctx, kv)
	go p.watchNext(ctx, kv)
	for {
		err := p.follow(ctx, kv)
		if ctx.Err() != nil {
			// A detached context: the final snapshot must still be written after shutdown began.
			p.save(context.WithoutCancel(ctx), kv)
			return nil
		}
		if errors.Is(err, errAdopted) {
			continue
		}
		p.log.Warn("projection consumer stopped; restarting", "error", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (p *Projector) restore(ctx context.Context, kv jetstream.KeyValue) {
	cur, err := p.conn.getLarge(ctx, kv, p.proj.Name())
	var live *snapshot
	if err == nil && cur.value != nil {
		live, err = p.restoreFrom(ctx, cur.value)
	}
	if err != nil {
		// Rebuilding from the start is always correct, only slower.
		p.log.Warn("projection snapshot unreadable; rebuilding from the start", "error", err)
		_ = p.proj.Restore(nil)
		p.manifest = nil
		live = nil
	}
	if live != nil {
		p.setApplied(live.Seq)
		p.saved.Store(live.Seq)
		p.version = live.Version
		p.shown.Store(live.Version)
		p.log.Info("projection restored", "stream_seq", live.Seq)
	}
	// A version rebuilt while the daemon was down is adopted now.
	next, err := p.conn.getSnapshot(ctx, kv, NextKey(p.proj.Name()))
	if err != nil {
		p.log.Warn("rebuilt projection unreadable; keeping the live one", "error", err)
	}
	if next != nil && next.Version != p.version {
		p.switchTo(ctx, kv, *next)
	}
}

// storedSnapshot is the value of a projection's key decoded once: a whole snapshot, or
// (Parted set) the manifest of one saved in parts.
type storedSnapshot struct {
	snapshot
	Parted *manifest `json:"parted"`
}

// restoreFrom restores the state from the value of the projection's key: a whole snapshot, or
// the manifest of a parted one and its parts.
func (p *Projector) restoreFrom(ctx context.Context, b []byte) (*snapshot, error) {
	key := p.proj.Name()
	var stored storedSnapshot
	if err := json.Unmarshal(b, &stored); err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", key, err)
	}
	m := stored.Parted
	if m == nil {
		snap := stored.snapshot
		return &snap, p.proj.Restore(snap.State)
	}
	pp, ok := p.proj.(PartedProjection)
	if !ok {
		return nil, fmt.Errorf("snapshot %s is in parts, which the projection does not read", key)
	}
	parts, err := p.conn.readParts(ctx, key, m)
	if err != nil {
		return nil, err
	}
	if err := pp.RestoreParts(parts); err != nil {
		return nil, err
	}
	p.manifest = m
	return &snapshot{Seq: m.Seq, Version: m.Version, Saved: m.Saved}, nil
}

// getSnapshot reads the snapshot under key, inline or from its object; nil when there is none.
func (c *Conn) getSnapshot(ctx context.Context, kv jetstream.KeyValue, key string) (*snapshot, error) {
	cur, err := c.getLarge(ctx, kv, key)
	if err != nil || cur.value == nil {
		return nil, err
	}
	return decodeSnapshot(key, cur.value)
}

func decodeSnapshot(key string, b []byte) (*snapshot, error) {
	var snap snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", key, err)
	}
	return &snap, nil
}

// watchNext hands rebuilt versions to the follow loop as a replay writes them.
func (p *Projector) watchNext(ctx context.Context, kv jetstream.KeyValue) {
	w, err := kv.Watch(ctx, NextKey(p.proj.Name()), jetstream.UpdatesOnly())
	if err != nil {
		p.log.Warn("cannot watch for rebuilt versions; a replay is adopted at the next start", "error", err)
		return
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil || e.Operation() != jetstream.KeyValuePut {
				continue
			}
			// Fetching a large version here, not in the follow loop, keeps events flowing.
			b, err := p.conn.resolve(ctx, e.Key(), e.Value())
			if err != nil {
				p.log.Warn("rebuilt projection unreadable; keeping the live one", "error", err)
				continue
			}
			snap, err := decodeSnapshot(e.Key(), b)
			if err != nil {
				continue
			}
			select {
			case p.adopt <- *snap:
				p.wake()
			case <-ctx.Done():
				return
			}
		}
	}
}

// switchTo replaces the state with a rebuilt version in one step and saves it as the live one.
func (p *Projector) switchTo(ctx context.Context, kv jetstream.KeyValue, next snapshot) {
	if err := p.proj.Restore(next.State); err != nil {
		p.log.Error("rebuilt projection unreadable; keeping the live one", "version", next.Version, "error", err)
		return
	}
	p.setApplied(next.Seq)
	p.saved.Store(0)
	p.version = next.Version
	p.shown.Store(next.Version)
	p.save(ctx, kv)
	p.log.Info("switched to rebuilt projection", "version", next.Version, "stream_seq", next.Seq)
}

func (p *Projector) follow(ctx context.Context, kv jetstream.KeyValue) error {
	t, err := p.conn.openTail(ctx, p.stream, p.subjects, p.applied.Load())
	if err != nil {
		return err
	}
	defer t.stop()
	p.pending.Store(t.pending)
	p.caughtUp.Store(t.pending == 0)
	wctx := p.waitContext(ctx)
	defer p.wake()
	lastSave, lastApplied := time.Now(), time.Time{}
	dirty := false // events applied since the last quiet second
	for {
		select {
		case next := <-p.adopt:
			if next.Version != p.version {
				p.switchTo(ctx, kv, next)
				return errAdopted
			}
		default:
		}
		if wctx.Err() != nil {
			wctx = p.waitContext(ctx)
		}
		// After a burst of live events, wake up once it has been quiet for a second (and the
		// last save is a second old) to save what it left unsaved if that is worth it;
		// otherwise wait for the next event (the tail still wakes at its shared look instants).
		var wait time.Duration
		if dirty {
			wait = max(time.Second-time.Since(lastApplied), time.Second-time.Since(lastSave), time.Millisecond)
		}
		msg, meta, err := t.next(wctx, wait)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && wctx.Err() != nil {
			continue // woken for a rebuilt version
		}
		if errors.Is(err, context.DeadlineExceeded) {
			if dirty && time.Since(lastApplied) >= time.Second && time.Since(lastSave) >= time.Second {
				if !p.saveWorthIt(time.Since(lastSave)) {
					dirty = false // a restart would redo less than a save costs: wait for more
					continue
				}
				p.save(ctx, kv)
				lastSave = time.Now()
				// A failed save is tried again a second later; one this instance may not make
				// (SaveOnlyIf) waits for the next event.
				dirty = p.saved.Load() != p.applied.Load() && (p.saveIf == nil || p.saveIf())
			}
			continue
		}
		if err != nil {
			p.save(context.WithoutCancel(ctx), kv)
			return err
		}
		start := time.Now()
		p.apply(msg.Data(), meta.Sequence.Stream)
		lastApplied, dirty = time.Now(), true
		p.unsaved += lastApplied.Sub(start)
		p.pending.Store(meta.NumPending)
		if meta.NumPending == 0 {
			p.caughtUp.Store(true)
		}
		// Live, save once it is worth it; catching up, every snapshotInterval.
		since := time.Since(lastSave)
		live := meta.NumPending == 0
		if (live && p.saveWorthIt(since)) || (!live && since >= max(p.snapshotInterval, 10*p.saveCost)) ||
			p.applied.Load()-p.saved.Load() >= uint64(p.snapshotEvery) {
			p.save(ctx, kv)
			lastSave = time.Now()
		}
	}
}

// saveWorthIt reports whether a live projection whose last save is since old should save now:
// when that save is at least a second old and applying the events since it took at least as
// long as it did. A save only bounds what a restart redoes, so saving costs at most as much
// as applying the events: feed health at 10,000 feeds polled every 30 s is a 2.6 MB snapshot,
// 22 ms to encode before it is written, and was saved after every second of poll events,
// when a restart re-applies a second's worth (333 events of 3 µs) in about 1 ms.
func (p *Projector) saveWorthIt(since time.Duration) bool {
	return since >= time.Second && p.unsaved >= p.saveCost
}

// waitContext returns a context for the follow loop's waits that wake ends, cancelling the
// one it replaces.
func (p *Projector) waitContext(ctx context.Context) context.Context {
	wctx, cancel := context.WithCancel(ctx)
	p.interruptMu.Lock()
	if p.interrupt != nil {
		p.interrupt()
	}
	p.interrupt = cancel
	p.interruptMu.Unlock()
	return wctx
}

// wake ends the follow loop's current wait.
func (p *Projector) wake() {
	p.interruptMu.Lock()
	if p.interrupt != nil {
		p.interrupt()
	}
	p.interruptMu.Unlock()
}

func (p *Projector) apply(data []byte, seq uint64) {
	if err := p.proj.Apply(data, seq); err != nil {
		p.log.Warn("event skipped", "stream_seq", seq, "error", err)
	}
	p.setApplied(seq)
}

func (p *Projector) save(ctx context.Context, kv jetstream.KeyValue) {
	seq := p.applied.Load()
	if seq == p.saved.Load() || p.saveIf != nil && !p.saveIf() {
		return
	}
	start := time.Now()
	defer func() { p.saveCost = time.Since(start) }()
	if pp, ok := p.proj.(PartedProjection); ok {
		m, err := p.conn.saveParts(ctx, kv, p.proj.Name(), pp, p.manifest, seq, p.saved.Load(), p.version)
		if err != nil {
			p.log.Warn("projection snapshot not saved", "error", err)
			return
		}
		p.manifest = m
		p.saved.Store(seq)
		p.unsaved = 0
		return
	}
	state, err := p.proj.Snapshot()
	if err != nil {
		p.log.Error("projection snapshot failed", "error", err)
		return
	}
	b, err := json.Marshal(snapshot{Seq: seq, Version: p.version, Saved: time.Now().UTC(), State: state})
	if err != nil {
		p.log.Error("projection snapshot failed", "error", err)
		return
	}
	if err := p.conn.putLarge(ctx, kv, p.proj.Name(), b); err != nil {
		// The next save retries; until then a crash only means re-applying a few events from
		// the older snapshot, which holds its own sequence.
		p.log.Warn("projection snapshot not saved", "error", err)
		return
	}
	p.saved.Store(seq)
	p.unsaved = 0
}
