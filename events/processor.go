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
}

// NewProcessor returns a Processor.
func (c *Conn) NewProcessor(cfg ProcessorConfig, log *slog.Logger) *Processor {
	return &Processor{conn: c, cfg: cfg, log: log.With("component", "processor", "processor", cfg.Name)}
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
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	st, err := p.conn.JS.Stream(cctx, p.cfg.In)
	if err != nil {
		return fmt.Errorf("processor %s: %w", p.cfg.Name, err)
	}
	last := st.CachedInfo().State.LastSeq
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

func (p *Processor) follow(ctx context.Context, kv jetstream.KeyValue) error {
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
		if err := p.flush(ctx, out); err != nil {
			return err
		}
		// After outputs are stored the checkpoint is saved at once: it is what a restart
		// resumes from (the newest output's source header is only a safety net, since replays
		// append backfilled outputs without one).
		stored := len(out) > 0
		out = out[:0]
		p.done.Store(last)
		if meta.NumPending == 0 {
			p.caught.Store(true)
		}
		if stored || time.Since(lastCheckpoint) > 2*time.Second || meta.NumPending == 0 {
			p.saveCheckpoint(ctx, kv, last)
			lastCheckpoint = time.Now()
		}
	}
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
