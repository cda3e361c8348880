package events

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Follow delivers the events of stream on subjects after sequence after, as they arrive, to fn
// with the number still pending behind each; tick is called when wake's time passes with no
// event, or, while wake says zero, every five seconds with no event (at the instants the
// process's readers share, so a quiet daemon wakes once for all of them). It returns when ctx
// ends (nil) or the consumer fails.
func (c *Conn) Follow(ctx context.Context, stream string, subjects []string, after uint64,
	fn func(data []byte, seq, pending uint64), tick func(), wake func() time.Time) error {
	t, err := c.openTail(ctx, stream, subjects, after)
	if err != nil {
		return fmt.Errorf("follow %s: %w", stream, err)
	}
	defer t.stop()
	for {
		at := wake()
		var wait time.Duration // until the tail's next look
		if !at.IsZero() {
			wait = max(time.Until(at), time.Millisecond)
		}
		msg, meta, err := t.next(ctx, wait)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, context.DeadlineExceeded) {
			// The tail also returns at its looks: tick only once wake's time has come.
			if at.IsZero() || !time.Now().Before(at) {
				tick()
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("follow %s: %w", stream, err)
		}
		fn(msg.Data(), meta.Sequence.Stream, meta.NumPending)
	}
}

// LastSourceSeq is the source sequence header of the newest message on subject, 0 if none.
func (c *Conn) LastSourceSeq(ctx context.Context, stream, subject string) (uint64, error) {
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	st, err := c.JS.Stream(cctx, stream)
	if err != nil {
		return 0, err
	}
	m, err := st.GetLastMsgForSubject(cctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	seq, _ := strconv.ParseUint(m.Header.Get(HeaderSourceSeq), 10, 64)
	return seq, nil
}

// Checkpoint reads a named position saved with SaveCheckpoint (0 when there is none).
func (c *Conn) Checkpoint(ctx context.Context, name string) (uint64, bool, error) {
	kv, err := c.bucket(ctx)
	if err != nil {
		return 0, false, err
	}
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	e, err := kv.Get(cctx, "checkpoint."+name)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	seq, err := strconv.ParseUint(string(e.Value()), 10, 64)
	return seq, err == nil, err
}

// SaveCheckpoint stores a named position.
func (c *Conn) SaveCheckpoint(ctx context.Context, name string, seq uint64) error {
	kv, err := c.bucket(ctx)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	_, err = kv.Put(cctx, "checkpoint."+name, []byte(strconv.FormatUint(seq, 10)))
	return err
}

// SeqBefore returns the stream sequence after which the events of subjects stored at or after
// t begin: a position to Follow from. It is the stream's last sequence when none is that
// recent, and 0 when the first is the stream's first.
func (c *Conn) SeqBefore(ctx context.Context, stream string, subjects []string, t time.Time) (uint64, error) {
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	cons, err := c.JS.OrderedConsumer(cctx, stream, jetstream.OrderedConsumerConfig{
		FilterSubjects: subjects, DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &t,
	})
	if err != nil {
		return 0, fmt.Errorf("find %s position at %s: %w", stream, t.Format(time.RFC3339), err)
	}
	if info := cons.CachedInfo(); info != nil && info.NumPending == 0 {
		st, err := c.JS.Stream(cctx, stream)
		if err != nil {
			return 0, err
		}
		return st.CachedInfo().State.LastSeq, nil
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(apiTimeout/2))
	if err != nil {
		return 0, fmt.Errorf("find %s position at %s: %w", stream, t.Format(time.RFC3339), err)
	}
	for msg := range batch.Messages() {
		meta, err := msg.Metadata()
		if err != nil {
			return 0, err
		}
		return meta.Sequence.Stream - 1, nil
	}
	if err := batch.Error(); err != nil {
		return 0, fmt.Errorf("find %s position at %s: %w", stream, t.Format(time.RFC3339), err)
	}
	return 0, nil
}
