package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"
)

// HeaderSourceSeq on a derived event names the stream sequence of the input event it was
// derived from; a processor resumes after the newest one it finds.
const HeaderSourceSeq = "Newswatch-Source-Seq"

// Outgoing is an event a handler wants appended.
type Outgoing struct {
	Subject string
	MsgID   string
	Type    string
	Data    []byte
}

// Handler derives events from one input event. It must be deterministic in its input and its
// own configuration; the processor publishes what it returns.
type Handler func(data []byte, seq uint64) ([]Outgoing, error)

// ProcessorConfig describes a stream-to-stream processor such as the topic matcher.
type ProcessorConfig struct {
	// Name is the processor's name: checkpoint key and metric label.
	Name string
	// In and InSubjects are what it reads; Out and OutSubjects what it appends to.
	In, Out                 string
	InSubjects, OutSubjects []string
	Handle                  Handler
}

// maxBatchMsgs is the most derived events appended in one atomic batch.
const maxBatchMsgs = 900

// Processor derives events from a stream exactly once per input event: outputs are appended in
// atomic batches whose messages name their input's sequence, and it resumes after the newest of
// those (or its checkpoint, whichever is later), so a crash neither loses nor repeats a
// derivation. Inputs that derive nothing are re-read after a crash, which is harmless.
type Processor struct {
	conn    *Conn
	cfg     ProcessorConfig
	log     *slog.Logger
	done    atomic.Uint64 // last input sequence whose outputs are stored
	pending atomic.Uint64
	caught  atomic.Bool
	skipped atomic.Uint64 // the stream's last sequence at the last Skip
	// recent is the connection's recent-writes log when the input is the article stream;
	// fromMemory counts the input events taken from it, inMemory says it is followed now.
	recent     *recentWrites
	fromMemory atomic.Uint64
	inMemory   atomic.Bool
}

// NewProcessor returns a Processor.
func (c *Conn) NewProcessor(cfg ProcessorConfig, log *slog.Logger) *Processor {
	p := &Processor{conn: c, cfg: cfg, log: log.With("component", "processor", "processor", cfg.Name)}
	if cfg.In == ArticleStream {
		p.recent = c.recent
	}
	return p
}

// Name is the processor's name.
func (p *Processor) Name() string { return p.cfg.Name }

// Lag is the number of input events not yet processed.
func (p *Processor) Lag() uint64 { return p.pending.Load() }

// CaughtUp reports whether the processor has processed everything it knows of.
func (p *Processor) CaughtUp() bool { return p.caught.Load() }

// Run processes input events until ctx ends.
func (p *Processor) Run(ctx context.Context) error {
	kv, start, err := p.resume(ctx)
	if err != nil {
		return err
	}
	p.done.Store(start)
	if p.recent != nil {
		defer p.recent.join(&p.done)()
	}
	for {
		err := p.follow(ctx, kv)
		if ctx.Err() != nil {
			return nil
		}
		p.log.Warn("processor stopped; restarting", "error", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// resume opens the state bucket and finds the input sequence processing resumes after.
func (p *Processor) resume(ctx context.Context) (jetstream.KeyValue, uint64, error) {
	kv, err := p.conn.bucket(ctx)
	if err != nil {
		return nil, 0, err
	}
	start, err := p.resumePoint(ctx, kv)
	return kv, start, err
}

// Skip marks every input event stored so far as processed without reading it, for a
// processor that has nothing to do for now (the full-text processor while no feed has
// full_text): a later Run resumes after them. It saves the checkpoint only when the stream
// grew since the last Skip. Never call it while Run runs.
func (p *Processor) Skip(ctx context.Context) error {
	last, err := p.streamLast(ctx)
	if err != nil {
		return err
	}
	if last == p.skipped.Load() {
		return nil
	}
	kv, start, err := p.resume(ctx)
	if err != nil {
		return err
	}
	if last > start {
		if err := p.putCheckpoint(ctx, kv, last); err != nil {
			return err
		}
	}
	p.skipped.Store(last)
	p.done.Store(max(start, last))
	p.pending.Store(0)
	p.caught.Store(true)
	return nil
}

func (c *Conn) bucket(ctx context.Context) (jetstream.KeyValue, error) {
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	kv, err := c.JS.KeyValue(cctx, ProjectionBucket)
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", ProjectionBucket, err)
	}
	return kv, nil
}

type checkpoint struct {
	Seq uint64 `json:"seq"`
}

// resumePoint is the later of the checkpoint and the newest output's source sequence.
func (p *Processor) resumePoint(ctx context.Context, kv jetstream.KeyValue) (uint64, error) {
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	var seq uint64
	if e, err := kv.Get(cctx, "processor."+p.cfg.Name); err == nil {
		var cp checkpoint
		if json.Unmarshal(e.Value(), &cp) == nil {
			seq = cp.Seq
		}
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, fmt.Errorf("processor %s: checkpoint: %w", p.cfg.Name, err)
	}
	st, err := p.conn.JS.Stream(cctx, p.cfg.Out)
	if err != nil {
		return 0, fmt.Errorf("processor %s: %w", p.cfg.Name, err)
	}
	for _, subj := range p.cfg.OutSubjects {
		m, err := st.GetLastMsgForSubject(cctx, subj)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("processor %s: last output: %w", p.cfg.Name, err)
		}
		if s, err := strconv.ParseUint(m.Header.Get(HeaderSourceSeq), 10, 64); err == nil {
			seq = max(seq, s)
		}
	}
	return seq, nil
}

// follow processes input events until an error: from the recent-writes log while it holds
// the next one (the article stream's processors), else from the stream.
func (p *Processor) follow(ctx context.Context, kv jetstream.KeyValue) error {
	for {
		if p.recent != nil && p.recent.has(p.done.Load()+1) {
			if err := p.followRecent(ctx, kv); err != nil {
				return err
			}
		}
		if err := p.followStream(ctx, kv); err != nil {
			return err
		}
	}
}

// followStream reads the input stream through an ordered consumer. It returns nil when the
// recent-writes log holds the next event, once what it read is stored.
func (p *Processor) followStream(ctx context.Context, kv jetstream.KeyValue) error {
	t, err := p.conn.openTail(ctx, p.cfg.In, p.cfg.InSubjects, p.done.Load())
	if err != nil {
		return err
	}
	defer t.stop()
	p.pending.Store(t.pending)
	p.caught.Store(t.pending == 0)
	var out []*nats.Msg
	var last uint64
	lastCheckpoint := time.Now()
	for {
		// No timeout of its own: a quiet processor wakes only at the tail's shared look instants.
		msg, meta, err := t.next(ctx, 0)
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			if p.recent != nil && p.recent.has(p.done.Load()+1) {
				return nil
			}
			continue
		}
		if err != nil {
			return err
		}
		last = meta.Sequence.Stream
		out = append(out, p.derive(msg.Data(), last)...)
		p.pending.Store(meta.NumPending)
		if meta.NumPending > 0 && len(out) < maxBatchMsgs {
			continue
		}
		if lastCheckpoint, err = p.store(ctx, kv, out, last, meta.NumPending, lastCheckpoint); err != nil {
			return err
		}
		out = out[:0]
		if meta.NumPending == 0 && p.recent != nil && p.recent.has(last+1) {
			return nil
		}
	}
}

// recentBatch is the most events followRecent takes from the log at once.
const recentBatch = 256

// followRecent processes the events of the recent-writes log while it holds the next one. It
// returns nil when the next event is not there: another writer's (or an evicted one) comes
// before the log's next, or, at one of the shared look instants, the stream holds events
// after the last one processed that the log does not.
func (p *Processor) followRecent(ctx context.Context, kv jetstream.KeyValue) error {
	p.inMemory.Store(true)
	defer p.inMemory.Store(false)
	var out []*nats.Msg
	buf := make([]recentMsg, 0, recentBatch)
	lastCheckpoint := time.Now()
	for {
		done := p.done.Load()
		wake := p.recent.changed()
		buf = p.recent.from(done+1, buf[:0], recentBatch)
		if len(buf) == 0 {
			if newest := p.recent.last(); newest > done {
				return nil // the log moved on past a gap
			}
			look := time.NewTimer(untilLook(time.Now()))
			select {
			case <-ctx.Done():
				look.Stop()
				return ctx.Err()
			case <-wake:
				look.Stop()
				continue
			case <-look.C:
			}
			if last, err := p.streamLast(ctx); err != nil || last > done {
				return err // someone else wrote; the stream has it
			}
			continue
		}
		for _, m := range buf {
			if subjectIn(m.subject, p.cfg.InSubjects) {
				out = append(out, p.derive(m.data, m.seq)...)
				p.fromMemory.Add(1)
			}
		}
		last := buf[len(buf)-1].seq
		pending := max(p.recent.last(), last) - last // the log may have started over
		p.pending.Store(pending)
		var err error
		if lastCheckpoint, err = p.store(ctx, kv, out, last, pending, lastCheckpoint); err != nil {
			return err
		}
		out = out[:0]
	}
}

// store appends the outputs derived from the inputs up to last, then records last as done and
// saves the checkpoint when outputs were stored, the last save is 2 s old or nothing is
// pending; it returns the time of the last save.
func (p *Processor) store(ctx context.Context, kv jetstream.KeyValue, out []*nats.Msg, last, pending uint64, lastCheckpoint time.Time) (time.Time, error) {
	if err := p.flush(ctx, out); err != nil {
		return lastCheckpoint, err
	}
	// After outputs are stored the checkpoint is saved at once: it is what a restart resumes
	// from (the newest output's source header is only a safety net, since replays append
	// backfilled outputs without one).
	p.done.Store(last)
	if p.recent != nil {
		p.recent.release()
	}
	if pending == 0 {
		p.caught.Store(true)
	}
	if len(out) > 0 || time.Since(lastCheckpoint) > 2*time.Second || pending == 0 {
		p.saveCheckpoint(ctx, kv, last)
		return time.Now(), nil
	}
	return lastCheckpoint, nil
}

// streamLast returns the input stream's last sequence.
func (p *Processor) streamLast(ctx context.Context) (uint64, error) {
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	st, err := p.conn.JS.Stream(cctx, p.cfg.In)
	if err != nil {
		return 0, fmt.Errorf("processor %s: %w", p.cfg.Name, err)
	}
	return st.CachedInfo().State.LastSeq, nil
}

// derive runs the handler on one input; a bad event is logged and skipped.
func (p *Processor) derive(data []byte, seq uint64) []*nats.Msg {
	outs, err := p.cfg.Handle(data, seq)
	if err != nil {
		p.log.Warn("event skipped", "stream_seq", seq, "error", err)
		return nil
	}
	msgs := make([]*nats.Msg, len(outs))
	for i, o := range outs {
		m := nats.NewMsg(o.Subject)
		m.Data = o.Data
		m.Header.Set(jetstream.MsgIDHeader, o.MsgID)
		m.Header.Set(HeaderType, o.Type)
		m.Header.Set(HeaderSourceSeq, strconv.FormatUint(seq, 10))
		msgs[i] = m
	}
	return msgs
}

// flush appends outputs atomically, retrying until it succeeds or ctx ends. A batch the server
// rejects as containing duplicates was stored before (a retry after a lost ack).
func (p *Processor) flush(ctx context.Context, msgs []*nats.Msg) error {
	for start := 0; start < len(msgs); start += maxBatchMsgs {
		chunk := msgs[start:min(start+maxBatchMsgs, len(msgs))]
		for attempt := 0; ; attempt++ {
			cctx, cancel := context.WithTimeout(ctx, apiTimeout)
			_, err := jetstreamext.PublishMsgBatch(cctx, p.conn.JS, chunk)
			cancel()
			if err == nil || isDuplicateBatch(err) {
				_ = p.conn.checkWrite(ctx, nil)
				break
			}
			err = p.conn.checkWrite(ctx, err)
			p.log.Warn("derived events not stored; retrying", "error", err, "attempt", attempt+1)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(min(time.Duration(attempt+1)*500*time.Millisecond, 10*time.Second)):
			}
		}
	}
	return nil
}

func isDuplicateBatch(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.ErrorCode(10201)
}

func (p *Processor) saveCheckpoint(ctx context.Context, kv jetstream.KeyValue, seq uint64) {
	if err := p.putCheckpoint(ctx, kv, seq); err != nil {
		p.log.Warn("checkpoint not saved", "error", err)
	}
}

func (p *Processor) putCheckpoint(ctx context.Context, kv jetstream.KeyValue, seq uint64) error {
	b, _ := json.Marshal(checkpoint{Seq: seq})
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	if _, err := kv.Put(cctx, "processor."+p.cfg.Name, b); err != nil {
		return fmt.Errorf("processor %s: checkpoint: %w", p.cfg.Name, err)
	}
	return nil
}
