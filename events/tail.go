package events

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// stallAfter is how long an ordered consumer may stay quiet while the stream holds events it
// has not delivered before it is taken for stalled and recreated. Seen on a 3-node cluster: a
// consumer that reported events pending and then delivered nothing more, with no error and no
// missed heartbeat, so the client library never reset it.
var stallAfter = 5 * time.Second

// errStalled ends a follow loop whose consumer stopped delivering; the loop's owner restarts
// it after the last event it handled, on a new consumer.
var errStalled = errors.New("consumer stopped delivering")

// tail reads the events of a stream on some subjects in order, through an ordered consumer,
// and notices when that consumer stops delivering although the stream holds newer events.
// The projector, the processor and Follow read through it: one answer to "is my consumer
// still alive?".
type tail struct {
	conn     *Conn
	stream   string
	subjects []string
	it       jetstream.MessagesContext
	st       jetstream.Stream // for the stall check's lookups; nil until the first one

	last    uint64        // stream sequence of the last event delivered (or the one before the start)
	pending uint64        // events behind the last delivered one, as the server counted them
	quiet   time.Duration // time spent waiting in next since the last delivery
	checked time.Duration // quiet at the last look at the stream
	seen    uint64        // newest sequence on the subjects at that look, when newer than last
}

// openTail starts an ordered consumer on stream's subjects after sequence after (from the
// first event when 0). Pending is the number of events it has to deliver, as of now.
func (c *Conn) openTail(ctx context.Context, stream string, subjects []string, after uint64) (*tail, error) {
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: subjects, DeliverPolicy: jetstream.DeliverAllPolicy}
	if after > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, after+1
	}
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	cons, err := c.JS.OrderedConsumer(cctx, stream, cfg)
	cancel()
	if err != nil {
		return nil, err
	}
	t := &tail{conn: c, stream: stream, subjects: subjects, last: after}
	if info := cons.CachedInfo(); info != nil {
		t.pending = info.NumPending
	}
	if t.it, err = cons.Messages(); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *tail) stop() { t.it.Stop() }

// untilLook is how long until the next look for stalls. Looks fall on multiples of
// stallAfter on the wall clock, the same instants for every tail, so the quiet consumers of a
// daemon wake together once per stallAfter: each wake of an idle process costs the Go scheduler
// and the kernel about as much as a poll's own work (docs/benchmarks.md, "The idle floor").
func untilLook(now time.Time) time.Duration {
	period := int64(stallAfter)
	return time.Duration(period - now.UnixNano()%period)
}

// next returns the next event, waiting at most wait, and never past the next look for stalls
// (wait ≤ 0: until that look). A wait with no event returns context.DeadlineExceeded, or an
// error wrapping errStalled when the look finds that the consumer has been quiet while the
// stream holds events it did not deliver.
func (t *tail) next(ctx context.Context, wait time.Duration) (jetstream.Msg, *jetstream.MsgMetadata, error) {
	start := time.Now()
	round, look := untilLook(start), true
	if wait > 0 && wait < round {
		round, look = wait, false
	}
	nctx, cancel := context.WithTimeout(ctx, round)
	msg, err := t.it.Next(jetstream.NextContext(nctx))
	cancel()
	if err == nil {
		// Even when ctx has just ended: a caller that goes on with this tail (a projector woken
		// for a rebuilt version) must not lose the event.
		meta, err := msg.Metadata()
		if err != nil {
			return nil, nil, err
		}
		t.last, t.pending, t.quiet, t.checked, t.seen = meta.Sequence.Stream, meta.NumPending, 0, 0, 0
		return msg, meta, nil
	}
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrTimeout) {
		return nil, nil, err
	}
	t.quiet += time.Since(start)
	if look {
		if err := t.stalled(ctx); err != nil {
			t.conn.stalls.Add(1)
			return nil, nil, err
		}
	}
	return nil, nil, context.DeadlineExceeded
}

// stalled looks for events the consumer should have delivered: the server said some were
// pending, or an event newer than the last delivered one was already in the stream at the
// previous look. It is called at each shared look instant; it looks once the consumer has
// been quiet for stallAfter (so 5–10 s after the last delivery), then at every instant after.
func (t *tail) stalled(ctx context.Context) error {
	// Half a period: two instants are a period apart, give or take the timers' lateness.
	if t.quiet < stallAfter || t.quiet-t.checked < stallAfter/2 {
		return nil
	}
	t.checked = t.quiet
	if t.pending > 0 {
		return fmt.Errorf("%w: %s quiet for %s with %d events pending after sequence %d",
			errStalled, t.stream, t.quiet.Round(time.Second), t.pending, t.last)
	}
	if t.seen > t.last {
		return fmt.Errorf("%w: %s quiet for %s although sequence %d is stored (last delivered %d)",
			errStalled, t.stream, t.quiet.Round(time.Second), t.seen, t.last)
	}
	if t.st == nil {
		cctx, cancel := context.WithTimeout(ctx, apiTimeout)
		st, err := t.conn.JS.Stream(cctx, t.stream)
		cancel()
		if err != nil {
			return nil // cannot tell now; the next look tries again
		}
		t.st = st
	}
	newest, err := lastSeqOn(ctx, t.st, t.subjects)
	if err != nil {
		return nil // cannot tell now; the next look tries again
	}
	t.seen = 0
	if newest > t.last {
		t.seen = newest
	}
	return nil
}

// lastSeqOn is the stream sequence of the newest event of st on subjects (wildcards allowed),
// 0 when there is none.
func lastSeqOn(ctx context.Context, st jetstream.Stream, subjects []string) (uint64, error) {
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	var newest uint64
	for _, subj := range subjects {
		m, err := st.GetLastMsgForSubject(cctx, subj)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		newest = max(newest, m.Sequence)
	}
	return newest, nil
}

// ConsumerStalls counts the consumers found stalled and recreated since the connection opened.
func (c *Conn) ConsumerStalls() uint64 { return c.stalls.Load() }
