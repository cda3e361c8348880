package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
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
	Seq   uint64          `json:"seq"`
	Saved time.Time       `json:"saved"`
	State json.RawMessage `json:"state"`
}

// Projector keeps one projection up to date with a stream.
type Projector struct {
	conn     *Conn
	proj     Projection
	stream   string
	subjects []string
	log      *slog.Logger

	applied  atomic.Uint64 // last applied stream sequence
	saved    atomic.Uint64 // sequence of the last saved snapshot
	pending  atomic.Uint64 // events in the stream not yet applied, as of the last delivery
	caughtUp atomic.Bool

	// snapshotEvery and snapshotInterval bound the work redone after a crash while catching up.
	snapshotEvery    int
	snapshotInterval time.Duration
}

// NewProjector returns a Projector that feeds proj with the events of stream on subjects.
func (c *Conn) NewProjector(proj Projection, stream string, subjects []string, log *slog.Logger) *Projector {
	return &Projector{
		conn: c, proj: proj, stream: stream, subjects: subjects,
		log:           log.With("component", "projection", "projection", proj.Name()),
		snapshotEvery: 1_000_000, snapshotInterval: 10 * time.Second,
	}
}

// Name is the projection's name.
func (p *Projector) Name() string { return p.proj.Name() }

// Lag is the number of events in the stream not yet applied.
func (p *Projector) Lag() uint64 { return p.pending.Load() }

// Applied is the stream sequence of the last applied event.
func (p *Projector) Applied() uint64 { return p.applied.Load() }

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
	for {
		err := p.follow(ctx, kv)
		if ctx.Err() != nil {
			// A detached context: the final snapshot must still be written after shutdown began.
			p.save(context.WithoutCancel(ctx), kv)
			return nil
		}
		p.log.Warn("projection consumer stopped; restarting", "error", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (p *Projector) restore(ctx context.Context, kv jetstream.KeyValue) {
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	entry, err := kv.Get(cctx, p.proj.Name())
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return
	}
	var snap snapshot
	if err == nil {
		err = json.Unmarshal(entry.Value(), &snap)
	}
	if err == nil {
		err = p.proj.Restore(snap.State)
	}
	if err != nil {
		// Rebuilding from the start is always correct, only slower.
		p.log.Warn("projection snapshot unreadable; rebuilding from the start", "error", err)
		_ = p.proj.Restore(nil)
		return
	}
	p.applied.Store(snap.Seq)
	p.saved.Store(snap.Seq)
	p.log.Info("projection restored", "stream_seq", snap.Seq)
}

func (p *Projector) follow(ctx context.Context, kv jetstream.KeyValue) error {
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: p.subjects, DeliverPolicy: jetstream.DeliverAllPolicy}
	if seq := p.applied.Load(); seq > 0 {
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = seq + 1
	}
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	cons, err := p.conn.JS.OrderedConsumer(cctx, p.stream, cfg)
	cancel()
	if err != nil {
		return err
	}
	if info := cons.CachedInfo(); info != nil {
		p.pending.Store(info.NumPending)
		p.caughtUp.Store(info.NumPending == 0)
	}
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	defer it.Stop()
	lastSave := time.Now()
	for {
		// Wake up after a quiet second to save what a burst of live events left unsaved.
		nctx, cancel := context.WithTimeout(ctx, time.Second)
		msg, err := it.Next(jetstream.NextContext(nctx))
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) {
			p.save(ctx, kv)
			lastSave = time.Now()
			continue
		}
		if err != nil {
			p.save(context.WithoutCancel(ctx), kv)
			return err
		}
		meta, err := msg.Metadata()
		if err != nil {
			continue
		}
		p.apply(msg.Data(), meta.Sequence.Stream)
		p.pending.Store(meta.NumPending)
		if meta.NumPending == 0 {
			p.caughtUp.Store(true)
		}
		// Live, save at most once a second; catching up, every snapshotInterval.
		since := time.Since(lastSave)
		if (meta.NumPending == 0 && since >= time.Second) || since >= p.snapshotInterval ||
			p.applied.Load()-p.saved.Load() >= uint64(p.snapshotEvery) {
			p.save(ctx, kv)
			lastSave = time.Now()
		}
	}
}

func (p *Projector) apply(data []byte, seq uint64) {
	if err := p.proj.Apply(data, seq); err != nil {
		p.log.Warn("event skipped", "stream_seq", seq, "error", err)
	}
	p.applied.Store(seq)
}

func (p *Projector) save(ctx context.Context, kv jetstream.KeyValue) {
	seq := p.applied.Load()
	if seq == p.saved.Load() {
		return
	}
	state, err := p.proj.Snapshot()
	if err != nil {
		p.log.Error("projection snapshot failed", "error", err)
		return
	}
	b, err := json.Marshal(snapshot{Seq: seq, Saved: time.Now().UTC(), State: state})
	if err != nil {
		p.log.Error("projection snapshot failed", "error", err)
		return
	}
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	if _, err := kv.Put(cctx, p.proj.Name(), b); err != nil {
		// The next save retries; until then a crash only means re-applying a few events from
		// the older snapshot, which holds its own sequence.
		p.log.Warn("projection snapshot not saved", "error", err)
		return
	}
	p.saved.Store(seq)
}
